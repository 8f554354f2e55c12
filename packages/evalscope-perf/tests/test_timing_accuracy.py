"""Measured TTFT, TPOT, ITL and E2E against a real streaming server with known injected delays.

The fake model (a separate process, real HTTP on 127.0.0.1) sends its first token TTFT_S after a
request arrives, then one token every ITL_S, N_TOKENS in all. Stated tolerances (this is a shared
2-core machine, so they allow for scheduling noise, and widen with concurrency because the server
itself queues a burst of 256 arrivals):

* medians of TTFT and E2E latency: not below the injected value by more than 1.5 ms (a timer may
  fire up to a millisecond early), not above it by more than 5 / 15 / 30 ms at concurrency 1 / 64 / 256;
* mean TPOT and median ITL: within 3 / 5 / 10 ms of ITL_S.

And, independent of the server's own lateness: the server stamps the moment it writes the first
token (same CLOCK_MONOTONIC as the client), so the client's first-token time minus that stamp is the
client's own measurement error: never negative (causality; 20 us allowed for converting the kernel's
wall-clock receive stamps), median under 2 ms.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from evalscope_perf import run_perf_benchmark
from evalscope_perf.store import read_records

TTFT_S, ITL_S, N_TOKENS = 0.1, 0.02, 8
E2E_S = TTFT_S + (N_TOKENS - 1) * ITL_S
TOL_MS = {1: (5.0, 3.0), 64: (15.0, 5.0), 256: (30.0, 10.0)}  # (TTFT/E2E upper, TPOT/ITL)


def _check_close(name: str, measured_ms: float, injected_s: float, upper_ms: float) -> None:
    injected_ms = injected_s * 1000
    assert injected_ms - 1.5 <= measured_ms <= injected_ms + upper_ms, (
        f"{name}: measured {measured_ms:.2f} ms, injected {injected_ms:.2f} ms (+{upper_ms} ms allowed)"
    )


@pytest.mark.parametrize("parallel,number", [(1, 8), (64, 192), (256, 512)])
def test_injected_delays_are_measured(server: Any, make_cfg: Any, parallel: int, number: int) -> None:
    server.configure(ttft=TTFT_S, itl=ITL_S, tokens=N_TOKENS, record_timings=True)
    result = run_perf_benchmark(make_cfg(parallel=parallel, number=number), quiet=True)
    run = result.runs[0]
    assert (run.succeeded, run.failed) == (number, 0)
    upper, itl_tol = TOL_MS[parallel]
    assert run.ttft_ms.p50 is not None and run.e2el_ms.p50 is not None
    _check_close("TTFT p50", run.ttft_ms.p50, TTFT_S, upper)
    _check_close("E2E p50", run.e2el_ms.p50, E2E_S, upper)
    assert run.tpot_ms.mean is not None and abs(run.tpot_ms.mean - ITL_S * 1000) <= itl_tol
    assert run.itl_ms.p50 is not None and abs(run.itl_ms.p50 - ITL_S * 1000) <= itl_tol
    assert run.itl_ms.count == number * (N_TOKENS - 1)  # one gap per token after the first
    assert run.output_tokens.mean == N_TOKENS and run.token_source == {"usage": number}
    assert run.request_throughput == pytest.approx(number / run.duration_s)
    # the client's own error, against the server's stamps on the same monotonic clock
    timings = server.stats()["timings"]
    rows = [r for r in read_records(Path(run.run_dir) / "benchmark_data.db") if not r["warmup"]]
    assert len(rows) == number
    errors = []
    for row in rows:
        arrived, first_sent, last_sent = timings[row["request_id"]]
        first_received = row["start_time"] + row["ttft"]
        errors.append(first_received - first_sent)
        assert row["start_time"] <= arrived  # the request was sent before the server saw it
        assert row["end_time"] >= last_sent
    # causality, to within the wall-clock -> monotonic conversion of kernel stamps (microseconds)
    assert min(errors) >= -20e-6, "a token was stamped before the server wrote it"
    assert statistics.median(errors) < 0.002
    # The p99 of this error is a figure, measured by benchmarks/bench_perf.py, not asserted here: on a
    # shared 2-core CI machine the client can be descheduled for a whole stream, and one read then
    # returns several tokens under the last one's kernel stamp (a 140 ms tail was seen in CI).


@pytest.mark.parametrize("http_client", ["raw", "aiohttp"])
def test_user_space_stamps_measure_the_same_delays(server: Any, make_cfg: Any, http_client: str) -> None:
    """Without kernel stamps (https, other systems, aiohttp) tokens are stamped on arrival in Python.
    The warm-up opens the connections (aiohttp cannot open them ahead) before the clock starts."""
    server.configure(ttft=TTFT_S, itl=ITL_S, tokens=N_TOKENS)
    cfg = make_cfg(parallel=16, number=32, warmup=16, http_client=http_client, kernel_timestamps=False)
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.succeeded == 32
    # aiohttp stamps when its coroutine resumes, later under load (docs/perf.md): a wider bound
    upper = 15.0 if http_client == "raw" else 50.0
    _check_close("TTFT p50", run.ttft_ms.p50 or 0.0, TTFT_S, upper)
    _check_close("E2E p50", run.e2el_ms.p50 or 0.0, E2E_S, upper)
    assert abs((run.tpot_ms.mean or 0.0) - ITL_S * 1000) <= 5.0


def test_token_counts_without_usage_come_from_the_tokenizer(
    server: Any, make_cfg: Any, tokenizer_dir: Path
) -> None:
    server.configure(tokens=5, usage=False)
    run = run_perf_benchmark(
        make_cfg(parallel=4, number=12, tokenizer_path=str(tokenizer_dir)), quiet=True
    ).runs[0]
    assert run.token_source == {"tokenizer": 12}
    assert run.output_tokens.mean == 5  # " tok" x 5, counted by the tokenizer
    assert run.input_tokens.mean == 6  # "question number <i> about the weather"
    assert "--tokenizer-path" in run.token_note


def test_token_counts_fall_back_to_chunks_and_say_so(server: Any, make_cfg: Any) -> None:
    server.configure(tokens=7, usage=False)
    run = run_perf_benchmark(make_cfg(parallel=2, number=6), quiet=True).runs[0]
    assert run.token_source == {"chunks": 6} and run.output_tokens.mean == 7
    assert "approximated by streamed chunks" in run.token_note
    assert run.input_tokens.count == 0  # unknown without usage or tokenizer, never guessed


def test_non_streamed_requests_report_latency_but_no_ttft(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.03, itl=0.01, tokens=4)
    run = run_perf_benchmark(make_cfg(parallel=2, number=6, stream=False), quiet=True).runs[0]
    assert run.succeeded == 6 and not run.stream
    assert run.ttft_ms.count == 0 and run.itl_ms.count == 0
    _check_close("E2E p50 (non-stream)", run.e2el_ms.p50 or 0.0, 0.03 + 3 * 0.01, 15.0)
    assert run.tpot_ms.count == 0  # TPOT needs a first-token time


def test_completions_and_embeddings_apis(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.02, tokens=3)
    comp = run_perf_benchmark(make_cfg(api="openai_completions", parallel=2, number=4), quiet=True).runs[0]
    assert comp.url.endswith("/v1/completions") and comp.succeeded == 4 and comp.output_tokens.mean == 3
    emb = run_perf_benchmark(make_cfg(api="embedding", parallel=2, number=4), quiet=True).runs[0]
    assert emb.url.endswith("/v1/embeddings") and emb.succeeded == 4
    assert emb.ttft_ms.count == 0 and emb.e2el_ms.count == 4 and "embeddings" in emb.token_note


def test_real_questions_through_openqa(server: Any, make_cfg: Any, data_dir: Path) -> None:
    """EVALSCOPE_DATA_DIR's GSM8K test split has a `question` per JSONL line, as open_qa.jsonl does."""
    path = data_dir / "gsm8k" / "main" / "test.jsonl"
    if not path.is_file():
        pytest.fail(f"real data not found at {path}; set EVALSCOPE_DATA_DIR")
    server.configure(tokens=4)
    run = run_perf_benchmark(
        make_cfg(dataset="openqa", dataset_path=str(path), parallel=8, number=40), quiet=True
    )
    assert run.runs[0].succeeded == 40
    assert run.runs[0].input_tokens.mean and run.runs[0].input_tokens.mean > 20  # real word problems
