"""`benchmark_summary.json` carries EvalScope's keys and `benchmark_percentile.json` is EvalScope's,
with values converted from our own metrics (spellings checked against EvalScope 1.14.1's source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope_perf import run_perf_benchmark
from evalscope_perf.summary import RunSummary

# EvalScope >= 1.10 (1.14.1): evalscope/perf/utils/perf_constants.py `Metrics`, as `BenchmarkSummary` dumps it
CURRENT = ["Test Duration (s)", "Concurrency", "Request Rate (req/s)", "Total Requests", "Success Requests",
           "Failed Requests", "Stream Requests", "Non-Stream Requests", "Req Throughput (req/s)", "Avg Latency (s)",
           "Avg Input Tokens", "Output Throughput (tok/s)", "Total Throughput (tok/s)", "Avg TTFT (ms)",
           "Avg TPOT (ms)", "Avg ITL (ms)", "Avg Output Tokens", "Input Throughput (tok/s)"]  # fmt: skip
# EvalScope 1.0-1.6: evalscope/perf/utils/benchmark_util.py `Metrics`
LEGACY = ["Time taken for tests (s)", "Number of concurrency", "Request rate (req/s)", "Total requests",
          "Succeed requests", "Failed requests", "Output token throughput (tok/s)", "Total token throughput (tok/s)",
          "Input token throughput (tok/s)", "Request throughput (req/s)", "Average latency (s)",
          "Average time to first token (s)", "Average time per output token (s)", "Average inter-token latency (s)",
          "Average input tokens per request", "Average output tokens per request"]  # fmt: skip
LABELS = ["min", "1%", "5%", "10%", "25%", "50%", "75%", "90%", "95%", "99%", "max"]


def _v(value: float | None) -> float:
    assert value is not None
    return value


def _files(run: RunSummary) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    folder = Path(run.run_dir)
    summary = json.loads((folder / "benchmark_summary.json").read_text())
    percentiles = json.loads((folder / "benchmark_percentile.json").read_text())
    return summary, percentiles


def test_summary_has_evalscopes_keys_with_our_values_converted(server: Any, make_cfg: Any) -> None:
    server.configure(
        ttft=0.004, itl=0.002, tokens=5, faults={"rate": {"500": 0.1}, "seed": 2, "per": "request"}
    )
    (run,) = run_perf_benchmark(make_cfg(parallel=4, number=60), quiet=True).runs
    assert run.failed > 0 and run.succeeded > 0
    data, _ = _files(run)
    assert RunSummary.model_validate(data) == run  # our own keys and readers are unchanged
    ours = list(RunSummary.model_fields)
    assert list(data) == ours + CURRENT + LEGACY

    s = data
    assert (s["Concurrency"], s["Request Rate (req/s)"]) == (4, -1.0)
    counts = (s["Total Requests"], s["Success Requests"], s["Failed Requests"])
    assert counts == (60, run.succeeded, run.failed)
    assert (s["Stream Requests"], s["Non-Stream Requests"]) == (60, 0)
    assert s["Test Duration (s)"] == round(run.duration_s, 4)
    assert s["Req Throughput (req/s)"] == round(run.request_throughput, 4)
    assert s["Output Throughput (tok/s)"] == round(run.output_throughput, 4)
    assert s["Total Throughput (tok/s)"] == round(run.total_token_throughput, 4)
    assert s["Avg Latency (s)"] == round(_v(run.e2el_ms.mean) / 1000, 4)
    assert s["Avg TTFT (ms)"] == round(_v(run.ttft_ms.mean), 2)
    assert s["Avg TPOT (ms)"] == round(_v(run.tpot_ms.mean), 2)
    assert s["Avg ITL (ms)"] == round(_v(run.itl_ms.mean), 2)
    assert s["Avg Input Tokens"] == round(_v(run.input_tokens.mean), 4)
    assert s["Avg Output Tokens"] == 5.0 and s["Input Throughput (tok/s)"] == 0.0

    assert s["Time taken for tests (s)"] == s["Test Duration (s)"]
    assert (s["Number of concurrency"], s["Total requests"], s["Succeed requests"]) == (4, 60, run.succeeded)
    assert s["Failed requests"] == run.failed
    assert s["Request throughput (req/s)"] == s["Req Throughput (req/s)"]
    assert s["Average latency (s)"] == s["Avg Latency (s)"]
    assert s["Average time to first token (s)"] == round(_v(run.ttft_ms.mean) / 1000, 4)
    assert s["Average time per output token (s)"] == round(_v(run.tpot_ms.mean) / 1000, 4)
    assert s["Average inter-token latency (s)"] == round(_v(run.itl_ms.mean) / 1000, 4)
    assert s["Average output tokens per request"] == 5.0
    assert s["Output token throughput (tok/s)"] == s["Output Throughput (tok/s)"]


def test_percentile_file_is_evalscopes_layout_with_our_percentiles(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.004, itl=0.002, tokens=5)
    (run,) = run_perf_benchmark(make_cfg(parallel=4, number=40), quiet=True).runs
    _, rows = _files(run)
    assert [r["Percentiles"] for r in rows] == LABELS
    assert list(rows[0]) == ["Percentiles", "Latency (s)", "TTFT (ms)", "ITL (ms)", "TPOT (ms)", "Input tokens",
                             "Output tokens", "Output (tok/s)", "Total (tok/s)", "Decode (tok/s)", "TTFT (s)",
                             "ITL (s)", "TPOT (s)"]  # fmt: skip
    by = {r["Percentiles"]: r for r in rows}
    for label, field in (("min", "min"), ("10%", "p10"), ("50%", "p50"), ("90%", "p90"), ("99%", "p99"),
                         ("max", "max")):  # fmt: skip
        assert by[label]["TTFT (ms)"] == round(getattr(run.ttft_ms, field), 4)
        assert by[label]["TPOT (ms)"] == round(getattr(run.tpot_ms, field), 4)
        assert by[label]["ITL (ms)"] == round(getattr(run.itl_ms, field), 4)
        assert by[label]["Latency (s)"] == pytest.approx(getattr(run.e2el_ms, field) / 1000, abs=1e-4)
        assert by[label]["TTFT (s)"] == pytest.approx(getattr(run.ttft_ms, field) / 1000, abs=1e-4)
        assert by[label]["Output tokens"] == 5.0
        assert by[label]["Input tokens"] == round(getattr(run.input_tokens, field), 4)
    # per-request rates: output tokens / latency, 1 / TPOT
    assert by["50%"]["Output (tok/s)"] > 0 and by["min"]["Output (tok/s)"] <= by["max"]["Output (tok/s)"]
    assert by["max"]["Decode (tok/s)"] == pytest.approx(1000 / _v(run.tpot_ms.min), rel=1e-3)


def test_unmeasured_metrics_are_evalscopes_not_available_marker(server: Any, make_cfg: Any) -> None:
    """Without streaming there is no TTFT, TPOT or ITL: -1 in the summary, no column in the rows."""
    server.configure(ttft=0.002, tokens=3)
    (run,) = run_perf_benchmark(make_cfg(parallel=2, number=8, stream=False), quiet=True).runs
    s, rows = _files(run)
    assert (s["Stream Requests"], s["Non-Stream Requests"]) == (0, 8)
    assert s["Avg TTFT (ms)"] == s["Avg TPOT (ms)"] == s["Avg ITL (ms)"] == -1
    assert s["Average time to first token (s)"] == -1
    assert s["Avg Output Tokens"] == 3.0 and s["Avg Latency (s)"] == round(_v(run.e2el_ms.mean) / 1000, 4)
    assert all("TTFT (ms)" not in r and "Latency (s)" in r for r in rows)


def test_embeddings_get_evalscopes_input_throughput(server: Any, make_cfg: Any) -> None:
    server.configure(ttft=0.002)
    (run,) = run_perf_benchmark(make_cfg(api="openai_embedding", parallel=2, number=8), quiet=True).runs
    s, rows = _files(run)
    latency_sum_s = _v(run.e2el_ms.mean) * run.e2el_ms.count / 1000
    assert s["Input Throughput (tok/s)"] == round(run.total_input_tokens / latency_sum_s, 4) > 0
    assert s["Input token throughput (tok/s)"] == s["Input Throughput (tok/s)"]
    assert s["Output Throughput (tok/s)"] == s["Avg TTFT (ms)"] == 0.0
    assert list(rows[0]) == ["Percentiles", "Latency (s)", "Input tokens", "Input (tok/s)"]


def test_no_percentile_file_when_nothing_succeeded(server: Any, make_cfg: Any) -> None:
    server.configure(faults={"rate": {"500": 1.0}, "per": "request"})
    (run,) = run_perf_benchmark(make_cfg(parallel=2, number=4), quiet=True).runs
    folder = Path(run.run_dir)
    s = json.loads((folder / "benchmark_summary.json").read_text())
    assert (s["Success Requests"], s["Failed Requests"], s["Avg Latency (s)"]) == (0, 4, -1)
    assert not (folder / "benchmark_percentile.json").exists()  # as EvalScope: no rows, no file


def test_the_modules_key_tables_are_evalscopes() -> None:
    from evalscope_perf.evalscope_format import LEGACY_SUMMARY_KEYS, PERCENTILE_LABELS, SUMMARY_KEYS

    assert list(SUMMARY_KEYS) == CURRENT and list(LEGACY_SUMMARY_KEYS) == LEGACY
    assert list(PERCENTILE_LABELS) == LABELS
