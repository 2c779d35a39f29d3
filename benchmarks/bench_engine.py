"""Engine throughput: VDQ + SDS + PPI for N in-memory administrations.

Prints rows/s for the vectorized engine (median of several runs) and for the
per-row reference scorer (on a sample), and their ratio.

    python benchmarks/bench_engine.py            # 1,000,000 rows
    python benchmarks/bench_engine.py --rows 100000 --repeats 3
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

import instruments  # noqa: E402
import scoring  # noqa: E402
from tests.reference import score_row  # noqa: E402
from tests.strategies import random_answers, to_answer_lists  # noqa: E402

IDS = ("vdq", "sds", "ppi")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference-rows", type=int, default=2_000)
    args = ap.parse_args()

    insts = {i: instruments.load(i) for i in IDS}
    specs = {i: instruments.scoring_spec(insts[i]) for i in IDS}
    data = {i: random_answers(specs[i], args.rows, seed=k, p_missing=0.03) for k, i in enumerate(IDS)}
    rng = np.random.default_rng(0)
    asp = rng.integers(-1, len(scoring.CANDIDATES), size=(args.rows, 3)).astype(np.int16)
    mb = sum(d.nbytes for d in data.values()) / 1e6
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    print(
        f"answers: {args.rows:,} administrations × {sum(len(s.items) for s in specs.values())} items ({mb:.0f} MB int8)"
    )

    # warm-up (key matrices, thread pool)
    for i in IDS:
        scoring.score(specs[i], data[i][:1000], aspirations=asp[:1000] if i == "sds" else None)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for i in IDS:
            scoring.score(specs[i], data[i], aspirations=asp if i == "sds" else None)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    engine_rate = args.rows / med
    print(
        f"engine, all three instruments: median {med:.3f} s over {args.repeats} runs "
        f"(min {min(times):.3f}, max {max(times):.3f}) = {engine_rate:,.0f} administrations/s"
    )

    n = min(args.reference_rows, args.rows)
    t0 = time.perf_counter()
    codes = np.array(scoring.CANDIDATES + ("",), dtype=object)
    for i in IDS:
        lists = to_answer_lists(data[i][:n])
        for r, answers in enumerate(lists):
            a = [codes[k] or None for k in asp[r]] if i == "sds" else None
            score_row(insts[i], answers, a)
    ref = time.perf_counter() - t0
    ref_rate = n / ref
    print(f"reference, all three instruments: {ref:.3f} s for {n:,} = {ref_rate:,.0f} administrations/s")
    print(f"ratio engine / reference: {engine_rate / ref_rate:,.0f}×")


if __name__ == "__main__":
    main()
