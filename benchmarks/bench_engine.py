"""Engine throughput: VDQ + SDS + PPI for N in-memory administrations.

Prints, in one run: the engine's median time for all three instruments against
the goal (1,000,000 administrations in at most 1.0 s), a numpy floor measured
alongside it (the key products alone: one pass over the int8 answers, converted
block by block to float32 and multiplied by each instrument's items × scales key
matrix, on the same number of threads) and the ratio of the engine to that
floor; then the per-row reference scorer on a sample, and the engine's ratio to it.
The machine's load (1-minute load average) is printed before and after: on a
shared machine the figures are only comparable at a similar load.

    python benchmarks/bench_engine.py            # 1,000,000 rows
    python benchmarks/bench_engine.py --rows 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instruments  # noqa: E402
import scoring  # noqa: E402
from tests.reference import score_row  # noqa: E402
from tests.strategies import random_answers, to_answer_lists  # noqa: E402

IDS = ("vdq", "sds", "ppi")
GOAL_SECONDS = 1.0
GOAL_ROWS = 1_000_000


def key_products(keys: np.ndarray, x: np.ndarray, workers: int, block: int = 8192, sub: int = 1024) -> None:
    """The floor: every answer read once, as float32, into a product with the key matrix."""
    n, j = x.shape

    def run(start: int) -> None:
        buf = np.empty((sub, j), dtype=np.float32)
        out = np.empty((block, keys.shape[1]), dtype=np.float32)
        for s in range(start, min(start + block, n), sub):
            e = min(s + sub, n)
            np.copyto(buf[: e - s], x[s:e])
            np.matmul(buf[: e - s], keys, out=out[s - start : e - start])

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(0, n, block)))


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores"


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

    print(f"before: {load()}")
    # warm-up (key matrices, look-up tables, thread pool)
    for i in IDS:
        scoring.score(specs[i], data[i][:1000], aspirations=asp[:1000] if i == "sds" else None)
    workers = os.cpu_count() or 1
    times, floors, cpu = [], [], []
    for _ in range(args.repeats):  # engine and floor alternate, so both see the same load
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for i in IDS:
            scoring.score(specs[i], data[i], aspirations=asp if i == "sds" else None)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append((r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime))
        t0 = time.perf_counter()
        for i in IDS:
            key_products(specs[i].keys, data[i], workers)
        floors.append(time.perf_counter() - t0)
    med, floor = statistics.median(times), statistics.median(floors)
    engine_rate = args.rows / med
    goal = GOAL_SECONDS * args.rows / GOAL_ROWS
    print(
        f"engine, all three instruments: median {med:.3f} s over {args.repeats} runs "
        f"(min {min(times):.3f}, max {max(times):.3f}) = {engine_rate:,.0f} administrations/s; "
        f"goal ≤ {goal:.2f} s: {'met' if med <= goal else 'not met'}"
    )
    user, system = (statistics.median(c[k] for c in cpu) for k in (0, 1))
    print(f"engine CPU per run (median, {workers} threads): user {user:.3f} s, system {system:.3f} s (page faults)")
    print(
        f"numpy floor (int8 → float32 once, × items-by-scales keys, {workers} threads): median {floor:.3f} s "
        f"(min {min(floors):.3f}); engine / floor = {med / floor:.1f}×"
    )
    print(f"after: {load()}")

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
