"""EvalScope's own keys for `benchmark_summary.json` and its `benchmark_percentile.json`.

Why: the files carry EvalScope's names, so EvalScope users point their scripts, dashboards and
EvalScope's own report loader (`evalscope.perf.utils.report.perf_data.RunLoader`) at our run folders.
Those read EvalScope's keys. So each run's summary carries them next to ours (our own readers ignore
them, and EvalScope's `BenchmarkSummary` ignores ours), and the percentile file is written in
EvalScope's layout. Values come from our own measurements, converted to EvalScope's units.

Key names, checked against EvalScope's source (`evalscope/perf/utils/perf_constants.py`,
`benchmark_util.py`, `db_util.py`, `perf_models.py`):

* 1.10 and later (1.14.1 is current): `Test Duration (s)`, `Avg TTFT (ms)`, ... (`SUMMARY_KEYS`);
* 1.0 to 1.6: `Time taken for tests (s)`, `Average time to first token (s)`, ... (`LEGACY_SUMMARY_KEYS`,
  latencies in seconds). Both are written: they never collide, and scripts of either era keep working.
  (1.7 to 1.9 used a third, short-lived spelling, `TTFT (ms)` without `Avg`, which is not written.)
* `benchmark_percentile.json`: a list of rows, one per percentile (`min`, `1%`, `5%`, `10%`, `25%`,
  `50%`, `75%`, `90%`, `95%`, `99%`, `max`), each `{"Percentiles": label, "Latency (s)": ..,
  "TTFT (ms)": .., ...}` as 1.7+ writes it; each row also carries 1.0-1.6's `TTFT (s)`, `ITL (s)` and
  `TPOT (s)`. A metric nobody measured (TTFT without streaming) is left out of the rows, as EvalScope
  leaves out a `None` column.

Where the numbers differ from EvalScope's (docs/perf.md lists it): percentiles interpolate linearly
(numpy, vLLM) where EvalScope takes the nearest rank; an average nobody measured (TTFT of a
non-streamed run, anything of a run where every request failed) is -1, EvalScope's marker for
"not available", where EvalScope would report a non-stream reply's latency as its TTFT.
"""

from __future__ import annotations

from typing import Any

from evalscope_perf.record import RequestRecord
from evalscope_perf.summary import Distribution, RunSummary

__all__ = [
    "LEGACY_SUMMARY_KEYS",
    "PERCENTILE_KEYS",
    "PERCENTILE_LABELS",
    "SUMMARY_KEYS",
    "evalscope_percentiles",
    "evalscope_summary",
]

#: EvalScope >= 1.10's summary keys (what 1.14.1 writes), in its order.
SUMMARY_KEYS = (
    "Test Duration (s)",
    "Concurrency",
    "Request Rate (req/s)",
    "Total Requests",
    "Success Requests",
    "Failed Requests",
    "Stream Requests",
    "Non-Stream Requests",
    "Req Throughput (req/s)",
    "Avg Latency (s)",
    "Avg Input Tokens",
    "Output Throughput (tok/s)",
    "Total Throughput (tok/s)",
    "Avg TTFT (ms)",
    "Avg TPOT (ms)",
    "Avg ITL (ms)",
    "Avg Output Tokens",
    "Input Throughput (tok/s)",
)

#: EvalScope 1.0-1.6's summary keys (latencies in seconds), in its order.
LEGACY_SUMMARY_KEYS = (
    "Time taken for tests (s)",
    "Number of concurrency",
    "Request rate (req/s)",
    "Total requests",
    "Succeed requests",
    "Failed requests",
    "Output token throughput (tok/s)",
    "Total token throughput (tok/s)",
    "Input token throughput (tok/s)",
    "Request throughput (req/s)",
    "Average latency (s)",
    "Average time to first token (s)",
    "Average time per output token (s)",
    "Average inter-token latency (s)",
    "Average input tokens per request",
    "Average output tokens per request",
)

#: EvalScope's percentile rows: label -> percentile (0 and 100 are the min and max).
PERCENTILE_LABELS = {
    "min": 0.0, "1%": 1.0, "5%": 5.0, "10%": 10.0, "25%": 25.0, "50%": 50.0, "75%": 75.0,
    "90%": 90.0, "95%": 95.0, "99%": 99.0, "max": 100.0,
}  # fmt: skip

#: Columns of a percentile row, in EvalScope's order (`PercentileRow`), then 1.0-1.6's in seconds.
PERCENTILE_KEYS = (
    "Latency (s)",
    "TTFT (ms)",
    "ITL (ms)",
    "TPOT (ms)",
    "Input tokens",
    "Output tokens",
    "Output (tok/s)",
    "Input (tok/s)",
    "Total (tok/s)",
    "Decode (tok/s)",
    "TTFT (s)",
    "ITL (s)",
    "TPOT (s)",
)

_NA = -1  # EvalScope's value for an average that could not be computed


def _avg(d: Distribution, per: float = 1.0, digits: int = 4) -> float:
    """The mean in EvalScope's unit (`per=1000`: our ms as seconds), rounded as EvalScope rounds."""
    return _NA if d.mean is None else round(d.mean / per, digits)


def evalscope_summary(s: RunSummary, generates: bool = True) -> dict[str, Any]:
    """EvalScope's summary keys (both spellings) with values from `s`, rounded as EvalScope rounds.

    `generates` is False for embeddings: then, as in EvalScope, the generation figures are 0 and
    `Input Throughput (tok/s)` is input tokens per second of request latency (EvalScope's definition).
    """
    latency_sum_s = (s.e2el_ms.mean or 0.0) * s.e2el_ms.count / 1000.0
    input_tps = round(s.total_input_tokens / latency_sum_s, 4) if not generates and latency_sum_s else 0.0
    streamed = s.total_requests if s.stream else 0
    out_tps = round(s.output_throughput, 4) if generates else 0.0
    total_tps = round(s.total_token_throughput, 4) if generates else 0.0
    ttft_ms = _avg(s.ttft_ms, digits=2) if generates else 0.0
    tpot_ms = _avg(s.tpot_ms, digits=2) if generates else 0.0
    itl_ms = _avg(s.itl_ms, digits=2) if generates else 0.0
    out_tokens = _avg(s.output_tokens) if generates else 0.0
    current = {
        "Test Duration (s)": round(s.duration_s, 4),
        "Concurrency": s.parallel,
        "Request Rate (req/s)": s.rate,
        "Total Requests": s.total_requests,
        "Success Requests": s.succeeded,
        "Failed Requests": s.failed,
        "Stream Requests": streamed,
        "Non-Stream Requests": s.total_requests - streamed,
        "Req Throughput (req/s)": round(s.request_throughput, 4),
        "Avg Latency (s)": _avg(s.e2el_ms, 1000),
        "Avg Input Tokens": _avg(s.input_tokens),
        "Output Throughput (tok/s)": out_tps,
        "Total Throughput (tok/s)": total_tps,
        "Avg TTFT (ms)": ttft_ms,
        "Avg TPOT (ms)": tpot_ms,
        "Avg ITL (ms)": itl_ms,
        "Avg Output Tokens": out_tokens,
        "Input Throughput (tok/s)": input_tps,
    }
    legacy = {
        "Time taken for tests (s)": current["Test Duration (s)"],
        "Number of concurrency": s.parallel,
        "Request rate (req/s)": s.rate,
        "Total requests": s.total_requests,
        "Succeed requests": s.succeeded,
        "Failed requests": s.failed,
        "Output token throughput (tok/s)": out_tps,
        "Total token throughput (tok/s)": total_tps,
        "Input token throughput (tok/s)": input_tps,
        "Request throughput (req/s)": current["Req Throughput (req/s)"],
        "Average latency (s)": current["Avg Latency (s)"],
        "Average time to first token (s)": _avg(s.ttft_ms, 1000) if generates else 0.0,
        "Average time per output token (s)": _avg(s.tpot_ms, 1000) if generates else 0.0,
        "Average inter-token latency (s)": _avg(s.itl_ms, 1000) if generates else 0.0,
        "Average input tokens per request": current["Avg Input Tokens"],
        "Average output tokens per request": out_tokens,
    }
    return {**current, **legacy}


def evalscope_percentiles(records: list[RequestRecord], generates: bool = True) -> list[dict[str, Any]]:
    """EvalScope's `benchmark_percentile.json` rows for the successful measured requests.

    Percentiles are numpy's linear interpolation over the same requests as our summary's, so the
    `50%` row equals `p50` there (EvalScope takes the nearest rank instead). Empty when none succeeded.
    """
    import numpy as np

    ok = [r for r in records if r.success and not r.warmup]
    if not ok:
        return []
    latency = np.array([r.latency for r in ok])
    prompt = np.array([r.prompt_tokens for r in ok if r.prompt_tokens is not None], dtype=float)
    prompt_latency = np.array([r.latency for r in ok if r.prompt_tokens is not None])
    columns: dict[str, Any] = {"Latency (s)": latency, "Input tokens": prompt}
    if generates:
        output = np.array([float(r.completion_tokens or 0) for r in ok])
        prompt_output = np.array([float(r.completion_tokens or 0) for r in ok if r.prompt_tokens is not None])
        ttft = np.array([r.ttft for r in ok if r.ttft is not None])
        tpot = np.array([t for r in ok if (t := r.tpot) is not None])
        gaps = [np.asarray(r.itl, dtype=float) for r in ok if len(r.itl)]
        itl = np.concatenate(gaps) if gaps else np.empty(0)
        columns |= {
            "TTFT (ms)": ttft * 1000,
            "ITL (ms)": itl * 1000,
            "TPOT (ms)": tpot * 1000,
            "Output tokens": output,
            "Output (tok/s)": _per_second(output, latency),
            "Total (tok/s)": _per_second(prompt + prompt_output, prompt_latency),
            "Decode (tok/s)": 1.0 / tpot[tpot > 0],
            "TTFT (s)": ttft,
            "ITL (s)": itl,
            "TPOT (s)": tpot,
        }
    else:
        columns["Input (tok/s)"] = _per_second(prompt, prompt_latency)
    points = list(PERCENTILE_LABELS.values())
    values = {
        key: np.percentile(columns[key], points).tolist()
        for key in PERCENTILE_KEYS
        if key in columns and columns[key].size
    }
    return [
        {"Percentiles": label, **{key: round(v[i], 4) for key, v in values.items()}}
        for i, label in enumerate(PERCENTILE_LABELS)
    ]


def _per_second(amount: Any, seconds: Any) -> Any:
    """Per-request rates, leaving out requests of zero latency (EvalScope's NaN)."""
    keep = seconds > 0
    return amount[keep] / seconds[keep]
