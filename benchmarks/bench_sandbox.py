"""Wall time of the code sandbox: 164 trivial programs (HumanEval's size) through ``run_many``.

Each program defines a function and runs a three-assert check, like a HumanEval canonical
solution; the batch runs with no cache, ``--runs`` times (default 3), on ``--workers`` threads
(default: the CPU count). Also timed: the same batch ten times over (n=10 samples per task, all
distinct so nothing is cached). The goal for the real HumanEval is under 15 s for 164 programs.

    .venv/bin/python benchmarks/bench_sandbox.py
    .venv/bin/python benchmarks/bench_sandbox.py --n10 --workers 2
"""

from __future__ import annotations

import argparse
import os
import time

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


def main() -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--n10", action="store_true", help="also time 164 x 10 programs")
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
    print(f"isolation: {isolation}, workers: {args.workers}, cpus: {os.cpu_count()}")
    print(table(["batch", "median s", "min s", "programs/s"], rows))
    return figures


if __name__ == "__main__":
    main()
