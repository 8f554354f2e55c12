"""Samples/s of a whole `run_task` against a zero-latency scripted server (the engine's own overhead).

2,000 distinct questions (throw-away local folders), 64 concurrent requests (`eval_batch_size=64`),
no few-shot examples, for two benchmarks: ARC (a letter parser: the engine and HTTP client are what
is measured) and GSM8K (Math-Verify scoring, ~1.5 ms a sample, adds its own cost). After one small warm-up run (imports,
plugin discovery), each timed run is a complete `run_task`: plan, requests, scoring, files on disk.
By default it measures the engine's HTTP clients side by side: the raw asyncio client (the default), aiohttp
(the proxy path) and the SDK's httpx client:

    .venv/bin/python benchmarks/bench_throughput.py
    .venv/bin/python benchmarks/bench_throughput.py --n 5000 --repeat 5 --http-client aiohttp
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Figure, table, write_arc_folder, write_gsm8k_folder

CLIENTS = ("raw", "aiohttp", "httpx")
BENCHMARKS = {
    "arc": (write_arc_folder, "ANSWER: A"),
    "gsm8k": (write_gsm8k_folder, "Let me add the numbers. The answer is \\boxed{18}."),
}


def _config(
    base_url: str, dataset: Path, work_dir: str, n: int, concurrency: int, client: str, bench: str = "gsm8k"
) -> dict[str, Any]:
    dataset_args = (
        {"arc": {"dataset_id": str(dataset), "subset_list": ["ARC-Easy"]}}
        if bench == "arc"
        else {"gsm8k": {"dataset_id": str(dataset), "few_shot_num": 0}}
    )
    return {
        "model": "scripted",
        "api_url": base_url,
        "api_key": "EMPTY",
        "model_args": {"http_client": client},
        "datasets": [bench],
        "dataset_args": dataset_args,
        "limit": n,
        "eval_batch_size": concurrency,
        "work_dir": work_dir,
        "reporters": [],  # no table on stdout; the reports are still written
    }


def timed_run(
    base_url: str, dataset: Path, n: int, concurrency: int, client: str, bench: str = "gsm8k"
) -> float:
    """Seconds for one complete run_task of `n` samples; fails loudly if any sample failed."""
    from evalscope.run import run_task

    with tempfile.TemporaryDirectory(prefix="bench-run-") as work_dir:
        start = time.perf_counter()
        reports = run_task(_config(base_url, dataset, work_dir, n, concurrency, client, bench))
        elapsed = time.perf_counter() - start
    report = reports[bench]
    if report.num_samples != n or report.num_errors:
        raise RuntimeError(
            f"expected {n} clean samples, got {report.num_samples} with {report.num_errors} errors"
        )
    return elapsed


def measure(
    n: int = 2000, concurrency: int = 64, repeat: int = 3, clients: tuple[str, ...] = CLIENTS
) -> list[Figure]:
    from evalscope.testing import ScriptedServer

    figures: list[Figure] = []
    rows = []
    for bench, (write_folder, reply) in BENCHMARKS.items():
        with tempfile.TemporaryDirectory(prefix=f"bench-{bench}-") as tmp:
            dataset = write_folder(Path(tmp), n)
            with ScriptedServer({"model": "scripted", "default_reply": reply}) as srv:
                for client in clients:
                    timed_run(
                        srv.base_url, dataset, min(n, concurrency * 2), concurrency, client, bench
                    )  # warm-up
                    srv.reset_stats()
                    rates = [
                        n / timed_run(srv.base_url, dataset, n, concurrency, client, bench)
                        for _ in range(repeat)
                    ]
                    requests = srv.stats()["requests"]
                    if requests != n * repeat:  # every sample must really have gone over the wire
                        raise RuntimeError(f"server saw {requests} requests, expected {n * repeat}")
                    median = statistics.median(rates)
                    rows.append(
                        [
                            bench,
                            client,
                            f"{median:.0f}",
                            f"{max(rates):.0f}",
                            ", ".join(f"{r:.0f}" for r in rates),
                        ]
                    )
                    figures.append(Figure("throughput", f"{bench} samples/s ({client})", median, "samples/s"))
    print(f"\nrun_task throughput: {n} samples, eval_batch_size={concurrency}, zero-latency server")
    print(table(["benchmark", "HTTP client", "median samples/s", "best", "all runs"], rows))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="samples (= requests) per timed run")
    parser.add_argument("--concurrency", type=int, default=64, help="eval_batch_size")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per client (median shown)")
    parser.add_argument(
        "--http-client", action="append", choices=CLIENTS, help="model_args.http_client (default: all three)"
    )
    args = parser.parse_args(argv)
    measure(args.n, args.concurrency, args.repeat, tuple(args.http_client or CLIENTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
