"""Full item analysis speed: six 8-item scales (48 items, 1–4), 100,000 and 1,000,000 respondents.

"Full" = what ``scoring.research.item_analysis`` returns: item means, SDs,
response frequencies, raw/std/corrected item–total correlations, alpha-if-
deleted (raw, standardized, G6), Cronbach's α raw and standardized with
Feldt's 95 % interval and Duhachek's ase, Guttman's λ6, McDonald's ω total,
split halves over all 35 splits, SEM and scale intercorrelations. Timed from
the int8 response matrix (validation included) to the result; the data are
simulated once beforehand. Prints the median of several runs, with and
without 2 % skipped answers.

For scale (same 2-core machine class): R psych's ``alpha`` needs about 23 s
for 1,000,000 × 48, pingouin's ``cronbach_alpha`` about 0.4 s for α alone.

    python benchmarks/bench_item_analysis.py
    python benchmarks/bench_item_analysis.py --rows 100000 --repeats 7
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import MISSING  # noqa: E402
from scoring.research import item_analysis, planning_spec, simulate  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    fn()  # warm-up: imports, page faults, BLAS threads
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    spec = planning_spec("ordinal", 6, 8, reversed_every=4)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores; "
        f"{len(spec.items)} items in {len(spec.scales)} scales of 8, answers 1–4, every 4th item reversed"
    )
    biggest = max(args.rows)
    sim = simulate(spec, biggest, trait_corr=0.3, seed=1)
    gappy = sim.responses.copy()
    gappy[np.random.default_rng(2).random(gappy.shape) < 0.02] = MISSING
    for n in sorted(args.rows):
        for label, data in (("complete", sim.responses[:n]), ("2% skipped", gappy[:n])):
            med, runs = timed(lambda d=data: item_analysis(spec, d), args.repeats)
            res = item_analysis(spec, data)
            print(
                f"{n:>9,} × {len(spec.items)} {label:<11} median {med:.3f} s "
                f"(runs: {', '.join(f'{r:.3f}' for r in runs)}); α of S1 = {res.scales[0].alpha:.4f}, "
                f"ω = {res.scales[0].omega_total:.4f}"
            )
    print("goal: < 1 s for 1,000,000 × 48 (R psych::alpha ≈ 23 s; pingouin cronbach_alpha ≈ 0.4 s for α alone)")


if __name__ == "__main__":
    main()
