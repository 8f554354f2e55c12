"""`--workers N` splits one load over processes and merges it; `--rate` sends Poisson arrivals;
`--dataset random` prompts reach the server at the requested token lengths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from evalscope_perf import run_perf_benchmark
from evalscope_perf.store import read_records


def test_two_workers_split_the_load_and_merge_one_run(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.05, itl=0.01, tokens=4)
    run = run_perf_benchmark(make_cfg(parallel=8, number=80, workers=2, warmup=4), quiet=True).runs[0]
    assert (run.succeeded, run.failed, run.workers) == (80, 0, 2)
    rows = read_records(Path(run.run_dir) / "benchmark_data.db")
    measured = [r for r in rows if not r["warmup"]]
    assert len(measured) == 80 and len(rows) == 84
    assert sorted(r["idx"] for r in measured) == list(range(80))  # every request once, none twice
    assert len({r["request_id"].split("-")[0] for r in measured}) == 2  # from both processes
    assert server.stats()["requests"] == 84
    assert 49.0 <= (run.ttft_ms.p50 or 0) <= 65.0 and abs((run.tpot_ms.mean or 0) - 10.0) <= 5.0
    # both processes ran at once, on one clock: their measured requests overlap in time
    spans = {}
    for r in measured:
        lo, hi = spans.get(r["request_id"].split("-")[0], (float("inf"), 0.0))
        spans[r["request_id"].split("-")[0]] = (min(lo, r["start_time"]), max(hi, r["end_time"]))
    (a_lo, a_hi), (b_lo, b_hi) = spans.values()
    assert a_lo < b_hi and b_lo < a_hi
    assert abs(a_lo - b_lo) < 0.5  # released together after the warm-up (not one after the other)


def test_open_loop_rate_sends_poisson_arrivals(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.002, tokens=2)
    run = run_perf_benchmark(make_cfg(parallel=32, number=120, rate=[60], seed=11), quiet=True).runs[0]
    rows = read_records(Path(run.run_dir) / "benchmark_data.db")
    failed = [(r["request_id"], r.get("error")) for r in rows if not r["success"]]
    assert run.succeeded == 120 and run.rate == 60, f"failed requests: {failed}"  # (seen once: 119 of 120)
    starts = sorted(r["start_time"] for r in rows)
    gaps = np.diff(starts)
    assert 1 / 60 * 0.6 < gaps.mean() < 1 / 60 * 1.6  # ~60 req/s
    assert gaps.std() / gaps.mean() > 0.6  # exponential gaps (coefficient of variation 1), not a fixed beat


def test_random_dataset_prompt_lengths_reach_the_server(
    server: Any, make_cfg: Any, tokenizer_dir: Path
) -> None:
    server.configure(tokens=3)  # the fake model reports prompt tokens as whitespace words
    cfg = make_cfg(
        dataset="random", dataset_path=None, tokenizer_path=str(tokenizer_dir), min_prompt_length=20,
        max_prompt_length=40, prefix_length=5, parallel=4, number=30, seed=5, min_tokens=3, max_tokens=3,
    )  # fmt: skip
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.succeeded == 30
    assert run.input_tokens.min is not None and run.input_tokens.max is not None
    assert 25 <= run.input_tokens.min and run.input_tokens.max <= 45 and run.input_tokens.std
