"""Run-level metrics from request records, as vLLM's serving benchmark defines them.

* request throughput = successful requests / duration; output (and total) token throughput = tokens
  of successful requests / duration; duration = start of the measured phase → last response;
* TTFT, TPOT, ITL, E2E latency: mean, std and percentiles over successful requests (ITL pooled over
  all gaps of all requests; TPOT over requests with more than one output token);
* goodput = requests meeting every `--goodput` SLO (ttft, tpot, e2el in ms; a one-token reply has
  TPOT 0) / duration.

Failed requests never enter a latency: they are counted and their errors grouped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from evalscope_perf.record import RequestRecord
from evalscope_perf.summary import Distribution, ErrorCount, GoodputResult

__all__ = ["GOODPUT_KEYS", "PERCENTILES", "compute_metrics", "distribution", "fill_token_counts"]

GOODPUT_KEYS = ("ttft", "tpot", "e2el")
PERCENTILES = (10, 25, 50, 75, 90, 95, 99)
_SOURCE_NOTES = {
    "usage": "output tokens as reported by the server (`usage`)",
    "tokenizer": "output tokens counted with --tokenizer-path (the server sent no `usage`)",
    "chunks": "output tokens approximated by streamed chunks (no `usage`, no --tokenizer-path)",
}


def distribution(values: Sequence[float] | Any, scale: float = 1.0) -> Distribution:
    import numpy as np

    arr = np.asarray(values, dtype=float) * scale
    if arr.size == 0:
        return Distribution()
    qs = np.percentile(arr, PERCENTILES)
    return Distribution(
        count=int(arr.size),
        mean=float(arr.mean()),
        std=float(arr.std()),
        min=float(arr.min()),
        max=float(arr.max()),
        **{f"p{p}": float(q) for p, q in zip(PERCENTILES, qs, strict=True)},
    )


def fill_token_counts(records: list[RequestRecord], tokenizer: Any, prompt_tokens: Any) -> None:
    """Complete token counts the server did not report: tokenizer if given, else streamed chunks.

    `prompt_tokens(prompt_index) -> int | None` counts a prompt (cached by the caller).
    """
    missing = [r for r in records if r.success and r.completion_tokens is None]
    if missing and tokenizer is not None:
        from evalscope_perf.tokenizer import count_tokens

        for rec, n in zip(missing, count_tokens(tokenizer, [r.text for r in missing]), strict=True):
            rec.completion_tokens, rec.token_source = n, "tokenizer"
    for rec in missing:
        if rec.completion_tokens is None:
            rec.completion_tokens, rec.token_source = rec.n_chunks, "chunks"
    for rec in records:
        if rec.success and rec.prompt_tokens is None:
            rec.prompt_tokens = prompt_tokens(rec.prompt_index)


def _meets(r: RequestRecord, slos_ms: dict[str, float]) -> bool:
    values = {"ttft": r.ttft if r.ttft is not None else r.latency, "tpot": r.tpot or 0.0, "e2el": r.latency}
    return all(values[k] * 1000 <= slo for k, slo in slos_ms.items())


def compute_metrics(
    records: list[RequestRecord],
    duration: float,
    goodput_slos_ms: dict[str, float],
    generates: bool = True,
    goodput_sets: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The metric fields of `RunSummary` for the measured (non-warm-up) records.

    `goodput_sets` (`--goodput-sets`): several named SLO sets judged on the same requests at once;
    each gives its goodput (req/s) and the share of successful requests meeting it.
    """
    ok = [r for r in records if r.success]
    failed = [r for r in records if not r.success]
    duration = max(duration, 1e-9)
    ttfts = [r.ttft for r in ok if r.ttft is not None]
    tpots = [t for r in ok if (t := r.tpot) is not None]
    itls = _concat([r.itl for r in ok])
    e2els = [r.latency for r in ok]
    out_tokens = [r.completion_tokens or 0 for r in ok]
    in_tokens = [r.prompt_tokens for r in ok if r.prompt_tokens is not None]
    sources = Counter(r.token_source for r in ok if r.token_source)
    goodput = None
    if goodput_slos_ms:
        goodput = sum(_meets(r, goodput_slos_ms) for r in ok) / duration
    goodputs: dict[str, GoodputResult] = {}
    for name, slos in (goodput_sets or {}).items():
        good = sum(_meets(r, slos) for r in ok)
        goodputs[name] = GoodputResult(
            slos_ms=dict(slos), goodput=good / duration, share=good / len(ok) if ok else None
        )
    errors = Counter((r.error or "unknown error")[:300] for r in failed)
    note = "; ".join(f"{_SOURCE_NOTES.get(k, k)}: {v} requests" for k, v in sources.most_common())
    if not generates:
        note = "no generated tokens (embeddings): latency and request throughput only"
    return {
        "total_requests": len(records),
        "succeeded": len(ok),
        "failed": len(failed),
        "errors": [ErrorCount(error=e, count=c) for e, c in errors.most_common(20)],
        "duration_s": duration,
        "request_throughput": len(ok) / duration,
        "output_throughput": sum(out_tokens) / duration,
        "total_token_throughput": (sum(out_tokens) + sum(in_tokens)) / duration,
        "goodput": goodput,
        "goodput_slos_ms": dict(goodput_slos_ms),
        "goodputs": goodputs,
        "total_input_tokens": sum(in_tokens),
        "total_output_tokens": sum(out_tokens),
        "token_source": dict(sources),
        "token_note": note,
        "ttft_ms": distribution(ttfts, 1000.0),
        "tpot_ms": distribution(tpots, 1000.0),
        "itl_ms": distribution(itls, 1000.0),
        "e2el_ms": distribution(e2els, 1000.0),
        "input_tokens": distribution([float(x) for x in in_tokens]),
        "output_tokens": distribution([float(x) for x in out_tokens]),
    }


def _concat(arrays: list[Any]) -> Any:
    """All ITL gaps as one float array (millions of gaps: no Python list of floats)."""
    import numpy as np

    parts = [np.asarray(a, dtype=float) for a in arrays if len(a)]
    return np.concatenate(parts) if parts else np.empty(0)
