"""Report rendering time: the integrated profile (intake + VDQ + SDS + PPI) with charts.

Each repetition renders a *different* person (the answers are shifted a little
every time), so no chart or layout is reused from an earlier run; the median
time per report is printed for HTML and PDF, per audience and language.
Goals on a 2-core machine: HTML ≤ 50 ms, PDF ≤ 500 ms.

    python benchmarks/bench_reports.py
    python benchmarks/bench_reports.py --repeats 21 --audience psychologist --lang ka
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
from api.service import score_frame  # noqa: E402

INTAKE = {
    "education_level": "secondary", "has_profession": "no", "profession_in_demand": "no",
    "work_experience_years": "2", "months_since_last_job": "30", "never_worked": "no",
    "currently_employed": "no", "seeking_better_job": "no", "computer_skills": "basic", "languages": "ka;ru",
    "driving_licence": "no", "communication": "with_support", "economic_situation": "no_income",
    "rehabilitation_phase": "transition", "interests": "cooking, sewing", "values": "stability;helping_people",
    "expectation": "both", "expected_monthly_pay": "900", "aspired_occupations": "cook;hairdresser;nanny",
    "constraints": "childcare;no_night_shifts",
}


def people(n: int, seed: int = 7) -> list[reports.Profile]:
    """n different, realistic profiles: random answers leaning towards an S-A-E interest pattern."""
    rng = np.random.default_rng(seed)
    ids = [f"P{k:04d}" for k in range(n)]
    out: dict[str, dict[str, dict[str, object]]] = {i: {} for i in ids}
    lean = {"R": 0.25, "I": 0.15, "A": 0.65, "S": 0.85, "E": 0.55, "C": 0.3}
    for iid in ("vdq", "sds", "ppi"):
        inst = instruments.load(iid)
        rows = []
        for pid in ids:
            row: dict[str, object] = {"id": pid}
            for it in inst.items:
                if iid == "sds":
                    row[it.id] = "like" if rng.random() < lean[inst.scale(it.scale).letter] else "dislike"
                elif iid == "vdq":
                    row[it.id] = int(rng.integers(1, 5))
                else:
                    row[it.id] = int(rng.choice([-3, -2, -1, 1, 2, 3]))
            rows.append(row)
        scored = score_frame(inst, pd.DataFrame(rows).astype(object))
        for rec in scored.to_dict(orient="records"):
            out[str(rec["id"])][iid] = rec
    intake = instruments.load("intake")
    scored = score_frame(intake, pd.DataFrame([{"id": i, **INTAKE} for i in ids]))
    for rec in scored.to_dict(orient="records"):
        out[str(rec["id"])]["intake"] = {**INTAKE, **rec}
    return [
        reports.build_profile(pid, **r, name="N. N.", administrator="M. K.",  # type: ignore[arg-type]
                              administered=date(2025, 3, 14))
        for pid, r in out.items()
    ]


def median_ms(fn, items: list[reports.Profile]) -> float:  # type: ignore[no-untyped-def]
    times = []
    for p in items:
        t = time.perf_counter()
        fn(p)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="reports per measurement (each a different person)")
    ap.add_argument("--audience", choices=reports.AUDIENCES, action="append")
    ap.add_argument("--lang", choices=reports.LANGS, action="append")
    args = ap.parse_args()
    warnings.simplefilter("error")  # a missing glyph must not pass unnoticed here either

    profiles = people(args.repeats + 2)
    warm, timed = profiles[:2], profiles[2:]
    for p in warm:  # imports, font loading, template compilation
        reports.render_pdf(p, "ka", "psychologist")
    print(f"proforient reports benchmark: {len(timed)} different people per cell; "
          f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, {platform.machine()}")
    print(f"{'audience':<14}{'lang':<6}{'HTML ms':>10}{'PDF ms':>10}{'pages':>7}")
    for audience in args.audience or reports.AUDIENCES:
        for lang in args.lang or reports.LANGS:
            html = median_ms(lambda p, a=audience, lg=lang: reports.render_html(p, lg, a), timed)
            pdf = median_ms(lambda p, a=audience, lg=lang: reports.render_pdf(p, lg, a), timed)
            pages = len(pypdf.PdfReader(io.BytesIO(reports.render_pdf(timed[0], lang, audience))).pages)
            print(f"{audience:<14}{lang:<6}{html:>10.1f}{pdf:>10.1f}{pages:>7}")
    print("goals: HTML ≤ 50 ms, PDF ≤ 500 ms per report (median)")


if __name__ == "__main__":
    main()
