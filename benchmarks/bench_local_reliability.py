"""Cost of the service's own reliability estimate in a report: 10,000 stored VDQ administrations.

When no norm table supplies a reliability, a psychologist's report takes Cronbach's
α and the score SD of each scale from the answers the service holds
(``api.domain.research.stored_reliability``). This fills a fresh database (SQLite by
default, or ``--database-url`` for PostgreSQL) with ``--rows`` submitted and scored
VDQ administrations (answers from a graded-response simulation), then prints
the median time of:

- the estimate computed from the stored answers (cache emptied before each run:
  the first report after any new or re-scored result pays this);
- the estimate from the cache (every other report);
- a whole report's content (``reporting.profile_from`` of one VDQ result), cached.

Goal: well under 50 ms added per report.

    python benchmarks/bench_local_reliability.py
    python benchmarks/bench_local_reliability.py --rows 10000 --repeats 7 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instruments  # noqa: E402
import scoring  # noqa: E402
from api import scoring_facade as facade  # noqa: E402
from api.db.session import make_engine, migrate, session_factory, transaction  # noqa: E402
from api.db.tables import Administration, Answer, Beneficiary, Result  # noqa: E402
from api.domain import reporting  # noqa: E402
from api.domain import research as research_domain  # noqa: E402
from api.settings import Settings  # noqa: E402
from scoring.research import simulate  # noqa: E402


def timed(fn, repeats: int, before=None) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    runs = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def fill(url: str, rows: int) -> str:
    """``rows`` submitted, scored VDQ administrations (10 per beneficiary); returns one result id."""
    inst = instruments.load("vdq")
    spec = instruments.scoring_spec(inst)
    x = simulate(spec, rows, trait_corr=0.3, seed=1).responses
    answers = [{item: str(int(v)) for item, v in zip(inst.item_ids, row, strict=True)} for row in x]
    scores = facade.score_answers(inst, answers)
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    ben, adm, ans, res = [], [], [], []
    for k in range(rows):
        if k % 10 == 0:
            ben.append({"id": k // 10 + 1, "code": f"B-{k // 10:05d}", "created_at": now})
        aid = str(uuid.uuid4())
        at = now - dt.timedelta(seconds=rows - k)
        adm.append(
            {
                "id": aid,
                "beneficiary_id": k // 10 + 1,
                "instrument": "vdq",
                "instrument_version": inst.version,
                "status": "submitted",
                "mode": "paper",
                "created_at": at,
                "updated_at": at,
                "submitted_at": at,
            }
        )
        ans.extend(
            {"administration_id": aid, "item": item, "value": v, "saved_at": at} for item, v in answers[k].items()
        )
        row = dict(scores[k])
        row.pop("id", None)
        res.append(
            {
                "id": str(uuid.uuid4()),
                "administration_id": aid,
                "beneficiary_id": k // 10 + 1,
                "instrument": "vdq",
                "instrument_version": inst.version,
                "instrument_hash": inst.content_hash,
                "engine_version": scoring.ENGINE_VERSION,
                "scores": row,
                "created_at": at,
            }
        )
    with transaction(session_factory(engine)) as s:
        for table, data in ((Beneficiary, ben), (Administration, adm), (Answer, ans), (Result, res)):
            for i in range(0, len(data), 20_000):
                s.execute(insert(table), data[i : i + 20_000])
    engine.dispose()
    return res[-1]["id"]


def add_one_result(engine, like: str) -> None:  # type: ignore[no-untyped-def]
    """A copy of result ``like`` under a new id and the current time, as a new submission adds one."""
    with transaction(session_factory(engine)) as w:
        r = w.get(Result, like)
        row = {c.name: getattr(r, c.name) for c in Result.__table__.columns}
        row.update(id=str(uuid.uuid4()), created_at=dt.datetime.now(dt.UTC))
        w.execute(insert(Result), [row])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--database-url", default="", help="an empty PostgreSQL database (default: a temporary SQLite)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if args.database_url:
            eng = make_engine(url)
            with eng.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            eng.dispose()
        migrate(url)
        start = time.perf_counter()
        result_id = fill(url, args.rows)
        print(
            f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores; "
            f"{url.split(':')[0]}; {args.rows} VDQ administrations stored in {time.perf_counter() - start:.1f} s"
        )
        settings = Settings(database_url=url, secret_key="s" * 40, data_keys=Fernet.generate_key().decode())
        engine = make_engine(url)
        factory = session_factory(engine, readonly=True)
        with factory() as s:
            version = instruments.load("vdq").version

            def estimate() -> None:
                assert research_domain.stored_reliability(s, "vdq", version, settings.reliability_min_n) is not None

            def report() -> None:
                r = s.get(Result, result_id)
                p = reporting.profile_from(s, settings, "B-00000", [r])
                assert p.decision is not None and p.decision.certainty.sem_band is not None

            cold = timed(estimate, args.repeats, before=research_domain._RELIABILITY_CACHE.clear)
            warm = timed(estimate, args.repeats)
            whole = timed(report, args.repeats)
            research_domain.stored_reliability(s, "vdq", version, settings.reliability_min_n)
            add_one_result(engine, result_id)  # a new submission: the count grows by 0.01 %
            s.rollback()  # see the new row
            after_new = timed(estimate, args.repeats)
            alpha = research_domain.stored_reliability(s, "vdq", version, settings.reliability_min_n)
        engine.dispose()
    print(f"stored answers → α and SD of 11 scales (no cache): median {cold * 1000:.1f} ms")
    print(f"from the cache (count + newest result checked):     median {warm * 1000:.2f} ms")
    print(f"report content with the cached estimate:            median {whole * 1000:.1f} ms")
    print(f"after one more result (estimate of ≥ 99 % served):  median {after_new * 1000:.2f} ms")
    print("α: " + ", ".join(f"{k} {a:.2f}" for k, (a, _) in alpha.scales.items()))  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
