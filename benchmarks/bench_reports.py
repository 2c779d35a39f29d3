"""Report rendering time: the integrated profile (intake + VDQ + SDS + PPI) with charts.

Each repetition renders a *different* person (the answers are shifted a little
every time), so no chart or layout is reused from an earlier run; the median
time per report is printed for HTML and PDF, per audience and language.
Goals on a 2-core machine: HTML ≤ 50 ms, PDF ≤ 300 ms (issue 17; it was 500 ms).

``--batch N`` times ``proforient report`` itself (raw answers of N people in, one
psychologist PDF per person out) once in this process (``-j 1``, as before issue 17)
and once with one worker process per core, and prints the speed-up against its
goal (≥ 1.8× on 2 cores for 200 people).

    python benchmarks/bench_reports.py
    python benchmarks/bench_reports.py --repeats 21 --audience psychologist --lang ka
    python benchmarks/bench_reports.py --batch 200
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pypdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instruments  # noqa: E402
import reports  # noqa: E402
import scoring  # noqa: E402
from api.scoring_facade import records_of_frame  # noqa: E402

INTAKE = {
    "education_level": "secondary",
    "has_profession": "no",
    "profession_in_demand": "no",
    "work_experience_years": "2",
    "months_since_last_job": "30",
    "never_worked": "no",
    "currently_employed": "no",
    "seeking_better_job": "no",
    "computer_skills": "basic",
    "languages": "ka;ru",
    "driving_licence": "no",
    "communication": "with_support",
    "economic_situation": "no_income",
    "rehabilitation_phase": "transition",
    "interests": "cooking, sewing",
    "values": "stability;helping_people",
    "expectation": "both",
    "expected_monthly_pay": "900",
    "aspired_occupations": "cook;hairdresser;nanny",
    "constraints": "childcare;no_night_shifts",
}


def answer_frames(n: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Raw answers of n different, realistic people (one frame per instrument, an ``id`` column):
    random answers leaning towards an S-A-E interest pattern, the same intake for everyone."""
    rng = np.random.default_rng(seed)
    ids = [f"P{k:04d}" for k in range(n)]
    lean = {"R": 0.25, "I": 0.15, "A": 0.65, "S": 0.85, "E": 0.55, "C": 0.3}
    frames: dict[str, pd.DataFrame] = {}
    for iid in ("vdq", "sds", "ppi"):
        inst = instruments.load(iid)
        rows = []
        for pid in ids:
            row: dict[str, object] = {"id": pid}
            for it in inst.items:
                if inst.model == "holland":
                    row[it.id] = "like" if rng.random() < lean[inst.scale(it.scale).letter] else "dislike"
                elif inst.model == "decision":
                    row[it.id] = int(rng.integers(1, 5))
                else:
                    row[it.id] = int(rng.choice([-3, -2, -1, 1, 2, 3]))
            rows.append(row)
        frames[iid] = pd.DataFrame(rows).astype(object)
    frames["intake"] = pd.DataFrame([{"id": i, **INTAKE} for i in ids])
    return frames


def people(n: int, seed: int = 7) -> list[reports.Profile]:
    """n different, realistic profiles (see :func:`answer_frames`)."""
    frames = answer_frames(n, seed)
    by_person: dict[str, list[scoring.ScoreRecord]] = {}
    for iid, frame in frames.items():
        for pid, rec in zip(frame["id"], records_of_frame(instruments.load(iid), frame), strict=True):
            by_person.setdefault(str(pid), []).append(rec)
    return [
        reports.build_profile(pid, recs, name="N. N.", administrator="M. K.", administered=date(2025, 3, 14))
        for pid, recs in by_person.items()
    ]


def median_ms(fn, items: list[reports.Profile]) -> float:  # type: ignore[no-untyped-def]
    times = []
    for p in items:
        t = time.perf_counter()
        fn(p)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def batch(n: int) -> None:
    """``proforient report`` on n people: one process, then one per core."""
    import tempfile

    from api.cli import reports as cli

    with tempfile.TemporaryDirectory() as tmp:
        inputs: dict[str, Path | None] = {}
        for iid, frame in answer_frames(n, seed=11).items():
            inputs[iid] = Path(tmp) / f"{iid}.csv"
            frame.to_csv(inputs[iid], index=False)
        cores = cli.cores()
        print(
            f"proforient report, {n} people (intake + VDQ + SDS + PPI), psychologist PDF in Georgian; "
            f"{cores} core(s) available"
        )
        times = {}
        for jobs in (1, cores):
            t = time.perf_counter()
            written = cli._run(
                output=Path(tmp) / f"out-{jobs}", inputs=inputs, previous={}, fmt="pdf", lang="ka",
                audience="psychologist", consent=False, only=[], administrator="M. K.", administered="2025-03-14",
                previous_date=None, fund=(None, None), top=10, overwrite=False, quiet=True, jobs=jobs,
            )  # fmt: skip
            times[jobs] = time.perf_counter() - t
            assert len(written) == n
            print(f"  -j {jobs}: {times[jobs]:7.1f} s  ({times[jobs] / n * 1000:.0f} ms per report)")
        if cores > 1:
            print(f"  speed-up: {times[1] / times[cores]:.2f}×  (goal ≥ 1.8× on 2 cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="reports per measurement (each a different person)")
    ap.add_argument("--audience", choices=reports.AUDIENCES, action="append")
    ap.add_argument("--lang", choices=reports.LANGS, action="append")
    ap.add_argument("--batch", type=int, metavar="N", help="time `proforient report` on N people instead")
    args = ap.parse_args()
    warnings.simplefilter("error")  # a missing glyph must not pass unnoticed here either
    if args.batch:
        batch(args.batch)
        return

    profiles = people(args.repeats + 2)
    warm, timed = profiles[:2], profiles[2:]
    for p in warm:  # imports, font loading, template compilation
        reports.render_pdf(p, "ka", "psychologist")
    print(
        f"proforient reports benchmark: {len(timed)} different people per cell; "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, {platform.machine()}"
    )
    print(f"{'audience':<14}{'lang':<6}{'HTML ms':>10}{'PDF ms':>10}{'pages':>7}")
    for audience in args.audience or reports.AUDIENCES:
        for lang in args.lang or reports.LANGS:
            html = median_ms(lambda p, a=audience, lg=lang: reports.render_html(p, lg, a), timed)
            pdf = median_ms(lambda p, a=audience, lg=lang: reports.render_pdf(p, lg, a), timed)
            pages = len(pypdf.PdfReader(io.BytesIO(reports.render_pdf(timed[0], lang, audience))).pages)
            print(f"{audience:<14}{lang:<6}{html:>10.1f}{pdf:>10.1f}{pages:>7}")
    print("goals: HTML ≤ 50 ms, PDF ≤ 300 ms per report (median; issue 17)")


if __name__ == "__main__":
    main()
