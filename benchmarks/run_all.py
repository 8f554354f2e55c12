"""Run the benchmarks in one go and print one summary table of their headline figures.

By default: CLI start-up, run_task throughput and run_task latency (each also prints its own
detailed table). `--all` adds the SDK transport comparison and the fault-injection check.

    .venv/bin/python benchmarks/run_all.py
    .venv/bin/python benchmarks/run_all.py --all --baseline-venv /tmp/evalscope-baseline
    .venv/bin/python benchmarks/run_all.py --quick          # fewer repetitions, for a smoke test
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bench_cli_startup
import bench_faults
import bench_http_clients
import bench_latency
import bench_throughput
from _common import DEFAULT_VENV, Figure, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help="the venv whose evalscope CLI is timed"
    )
    parser.add_argument("--baseline-venv", type=Path, help="a venv with the public evalscope 1.x installed")
    parser.add_argument(
        "--all", action="store_true", help="also the transport comparison and the fault check"
    )
    parser.add_argument("--quick", action="store_true", help="5 CLI runs and 1 timed run per client")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)

    runs, repeat = (5, 1) if args.quick else (15, 3)
    start = time.perf_counter()
    figures: list[Figure] = []
    figures += bench_cli_startup.measure(runs, args.venv, args.baseline_venv)
    figures += bench_throughput.measure(repeat=repeat)
    figures += bench_latency.measure(repeat=repeat)
    if args.all:
        figures += bench_http_clients.measure(repeat=repeat)
        figures += bench_faults.measure()

    print(f"\nSummary ({time.perf_counter() - start:.0f} s)")
    print(summary(figures))
    missed = [f for f in figures if f.ok is False]
    goals = [f for f in figures if f.ok is not None]
    print(f"goals met: {len(goals) - len(missed)} of {len(goals)}")
    failed_faults = any(f.benchmark == "faults" and not f.ok for f in figures)
    return 1 if failed_faults or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
