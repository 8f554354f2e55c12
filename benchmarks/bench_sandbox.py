"""Wall time of the code sandbox: 164 trivial programs (HumanEval's size) through ``run_many``.

Each program defines a function and runs a three-assert check, like a HumanEval canonical
solution; the batch runs with no cache, ``--runs`` times (default 3), on ``--workers`` threads
(default: the CPU count). Also timed: the same batch ten times over (n=10 samples per task, all
distinct so nothing is cached). The goal for the real HumanEval is under 15 s for 164 programs.
With ``--io``: 164 stdin/stdout programs of 10 cases each (LiveCodeBench-style, one sandbox per
case, judged on the host, cases of one program in order as the scorer runs them).

    .venv/bin/python benchmarks/bench_sandbox.py
    .venv/bin/python benchmarks/bench_sandbox.py --n10 --workers 2
    .venv/bin/python benchmarks/bench_sandbox.py --io
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

from _common import Figure, median_min, table
from evalscope_native.sandbox import SandboxLimits, choose_isolation, run_many

GOAL_S = 15.0
TASKS = 164


def _programs(count: int, salt: str) -> list[str]:
    return [
        f"def f_{i}(x):\n    return x * {i} + 1  # {salt}\n\n"
        f"def check(candidate):\n    assert candidate(0) == 1\n    assert candidate(1) == {i + 1}\n"
        f"    assert candidate(2) == {2 * i + 1}\n\ncheck(f_{i})\n"
        for i in range(count)
    ]


def _batch(programs: list[str], workers: int) -> float:
    start = time.perf_counter()
    results = run_many(programs, workers=workers, limits=SandboxLimits(timeout_s=10, cpu_s=5))
    wall = time.perf_counter() - start
    bad = [r for r in results if not r.passed]
    if bad:
        raise SystemExit(f"{len(bad)} trivial programs did not pass: {bad[0]}")
    return wall


IO_CASES = 10


def _io_batch(workers: int, salt: str) -> float:
    """164 programs x 10 stdin cases through the LiveCodeBench scorer's case runner (no cache)."""
    from evalscope_native.benchmarks.live_code_bench_cases import TestCase, run_cases

    isolation = choose_isolation()
    limits = SandboxLimits(timeout_s=12, cpu_s=6)
    cases = [
        TestCase(f"{k}\n{' '.join(map(str, range(k)))}\n", f"{k * (k - 1) // 2}\n") for k in range(IO_CASES)
    ]

    def one(i: int) -> str:
        code = f"n = int(input())  # {salt} {i}\nprint(sum(map(int, input().split())) if n else 0)\n"
        return str(run_cases(code, cases, limits=limits, isolation=isolation, cache=None)["status"])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(one, range(TASKS)))
    wall = time.perf_counter() - start
    if statuses != ["passed"] * TASKS:
        raise SystemExit(f"stdin programs did not pass: {sorted(set(statuses))}")
    return wall


def main() -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--n10", action="store_true", help="also time 164 x 10 programs")
    parser.add_argument("--io", action="store_true", help=f"also time 164 stdin programs x {IO_CASES} cases")
    args = parser.parse_args()
    isolation = choose_isolation()
    walls = [_batch(_programs(TASKS, f"run{r}"), args.workers) for r in range(args.runs)]
    med, best = median_min(walls)
    figures = [
        Figure(
            "sandbox",
            f"{TASKS} programs, {args.workers} workers",
            med,
            "s",
            f"< {GOAL_S:.0f} s",
            med < GOAL_S,
        ),
        Figure("sandbox", "per program (median batch / 164)", med / TASKS, "s"),
    ]
    rows = [["164 programs", f"{med:.3f}", f"{best:.3f}", f"{TASKS / med:.0f}"]]
    if args.n10:
        wall = _batch(_programs(TASKS * 10, "n10"), args.workers)
        figures.append(Figure("sandbox", f"{TASKS}x10 programs", wall, "s"))
        rows.append(["164 x 10 programs", f"{wall:.3f}", f"{wall:.3f}", f"{TASKS * 10 / wall:.0f}"])
    if args.io:
        wall = _io_batch(args.workers, "io")
        cases = TASKS * IO_CASES
        figures.append(Figure("sandbox", f"{TASKS} stdin programs x {IO_CASES} cases", wall, "s"))
        rows.append([f"164 x {IO_CASES} stdin cases", f"{wall:.3f}", f"{wall:.3f}", f"{cases / wall:.0f}"])
    print(f"isolation: {isolation}, workers: {args.workers}, cpus: {os.cpu_count()}")
    print(table(["batch", "median s", "min s", "programs/s"], rows))
    return figures


if __name__ == "__main__":
    main()
