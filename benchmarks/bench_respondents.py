"""Respondents at once: N people answer a VDQ on their phones (autosave every 5 answers,
active time with increment ids) and submit, all starting at the same moment, against
uvicorn (2 workers by default) on SQLite or PostgreSQL.

Prints completions, errors (requests that failed after the page's retries), how many
503s were asked again, and autosave/submit latency percentiles. Goal (issue 9): 200
respondents, 0 errors, every one completes, one result each.

    python benchmarks/bench_respondents.py                    # SQLite, 200 respondents
    python benchmarks/bench_respondents.py --database-url postgresql+psycopg://…/db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from api.db.session import Database  # noqa: E402
from api.db.tables import Result  # noqa: E402
from tests.api_helpers import answers_for  # noqa: E402
from tests.load import respondents  # noqa: E402
from tests.servers import prepare, servers  # noqa: E402


def _fresh_pg(base: str) -> str:
    name = f"proforient_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--database-url", default="", help="PostgreSQL URL (a fresh database is made beside it)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = _fresh_pg(args.database_url) if args.database_url else f"sqlite:///{tmp}/bench.db"
        backend = "PostgreSQL" if args.database_url else "SQLite"
        prepare(url)
        with servers(url, Path(tmp), n=1, workers=args.workers) as group:
            sw, psy = group.login(0, "sw", timeout=60), group.login(0, "psy", timeout=60)
            tokens, answers, admins = [], [], []
            for k in range(args.respondents):
                code = sw.post("/v1/beneficiaries", json={}).json()["code"]
                r = psy.post("/v1/administrations", json={"beneficiary": code, "instrument": "vdq"}).json()
                tokens.append(r["resume_token"])
                admins.append(r["id"])
                answers.append(answers_for("vdq", k))
            stats = asyncio.run(respondents(group.urls, tokens, answers))
        db = Database(url)
        with db.read() as s:
            per = dict(
                s.execute(select(Result.administration_id, func.count()).group_by(Result.administration_id)).all()
            )
        db.dispose()
        one_each = sum(per.get(a) == 1 for a in admins)
        print(
            stats.line(
                f"{args.respondents} respondents at once ({backend}, uvicorn {args.workers} workers, VDQ, "
                f"{len(answers[0]) // 5 + 1} autosaves + 1 submit each)"
            )
        )
        print(f"results: {one_each} of {args.respondents} administrations have exactly one result")
        print(f"goal: {args.respondents} completed, 0 errors, one result each")
        for e in stats.errors[:5]:
            print("  error:", e)


if __name__ == "__main__":
    main()
