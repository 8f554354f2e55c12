"""Wall time of a `run_task` against a server that answers in 200 ms, as a ratio to the ideal.

N requests (default 320) at concurrency 32 (`eval_batch_size=32`) against a scripted server with
`delay_s: 0.2` can finish no sooner than ceil(N/32) * 0.2 s; the ratio of the measured wall time
(the whole `run_task`, after a small warm-up run) to that ideal shows what the engine adds on top
of the model's own latency. Goal: ratio <= 1.05. Both HTTP clients are measured by default.

    .venv/bin/python benchmarks/bench_latency.py
    .venv/bin/python benchmarks/bench_latency.py --n 640 --http-client aiohttp
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

from _common import Figure, table, write_gsm8k_folder
from bench_throughput import CLIENTS, timed_run

GOAL_RATIO = 1.05


def measure(
    n: int = 320,
    concurrency: int = 32,
    delay_s: float = 0.2,
    repeat: int = 3,
    clients: tuple[str, ...] = CLIENTS,
) -> list[Figure]:
    from evalscope.testing import ScriptedServer

    ideal = math.ceil(n / concurrency) * delay_s
    figures: list[Figure] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gsm8k-") as tmp:
        dataset = write_gsm8k_folder(Path(tmp), n)
        config = {"model": "scripted", "default_reply": "The answer is \\boxed{18}.", "delay_s": delay_s}
        with ScriptedServer(config) as srv:
            for client in clients:
                timed_run(srv.base_url, dataset, min(n, concurrency), concurrency, client)  # warm-up
                walls = [timed_run(srv.base_url, dataset, n, concurrency, client) for _ in range(repeat)]
                wall = statistics.median(walls)
                ratio = wall / ideal
                rows.append(
                    [
                        client,
                        f"{wall:.3f} s",
                        f"{ideal:.3f} s",
                        f"{ratio:.3f} x",
                        ", ".join(f"{w:.3f}" for w in walls),
                    ]
                )
                figures.append(
                    Figure(
                        "latency",
                        f"wall / ideal ({client})",
                        ratio,
                        "x",
                        f"<= {GOAL_RATIO}",
                        ratio <= GOAL_RATIO,
                    )
                )
    print(f"\nrun_task wall time: {n} requests, {delay_s * 1000:.0f} ms each, eval_batch_size={concurrency}")
    print(table(["HTTP client", "median wall", "ideal", "ratio", "all runs (s)"], rows))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=320, help="requests per timed run")
    parser.add_argument("--concurrency", type=int, default=32, help="eval_batch_size")
    parser.add_argument("--delay", type=float, default=0.2, help="the server's answer time, seconds")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per client (median shown)")
    parser.add_argument(
        "--http-client", action="append", choices=CLIENTS, help="model_args.http_client (default: all three)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    figures = measure(args.n, args.concurrency, args.delay, args.repeat, tuple(args.http_client or CLIENTS))
    return 1 if args.strict and any(f.ok is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
