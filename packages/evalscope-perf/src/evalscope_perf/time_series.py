"""Per-time-slice metrics of one run (`--time-slice S`) and intervals across repetitions (`--repeats K`).

Slices: requests are binned by the time they ENDED, in seconds since the measured phase started;
warm-up requests fall in slices before 0 (flagged `warmup`), so a warm-up that was too short shows
as a first measured slice slower than the rest. Repetitions: each metric's mean over the K runs of
one load point with a 95 % Student-t interval of that mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from evalscope_perf.record import RequestRecord
from evalscope_perf.summary import RepeatStat, RepeatSummary, RunSummary, TimeSlice

__all__ = ["REPEAT_METRICS", "repeat_summary", "t975", "time_slices"]

MAX_SLICES = 2000  # a very long run gets wider slices rather than a huge summary


def time_slices(records: Sequence[RequestRecord], start: float, width: float) -> list[TimeSlice]:
    import numpy as np

    if width <= 0 or not records:
        return []
    ends = np.asarray([r.end - start for r in records])
    lo, hi = math.floor(ends.min() / width), math.floor(ends.max() / width)
    while hi - lo + 1 > MAX_SLICES:
        width *= 2
        lo, hi = math.floor(ends.min() / width), math.floor(ends.max() / width)
    bins: dict[int, list[RequestRecord]] = {}
    for rec, t in zip(records, ends.tolist(), strict=True):
        bins.setdefault(math.floor(t / width), []).append(rec)
    out = []
    for k in range(lo, hi + 1):
        group = bins.get(k, [])
        ok = [r for r in group if r.success]
        ttfts = [r.ttft * 1000 for r in ok if r.ttft is not None]
        out.append(
            TimeSlice(
                t0=k * width,
                t1=(k + 1) * width,
                warmup=k * width < 0 or any(r.warmup for r in group),
                completed=len(ok),
                failed=len(group) - len(ok),
                request_throughput=len(ok) / width,
                output_throughput=sum(r.completion_tokens or 0 for r in ok) / width,
                ttft_ms_mean=float(np.mean(ttfts)) if ttfts else None,
                ttft_ms_p50=float(np.median(ttfts)) if ttfts else None,
                e2el_ms_mean=float(np.mean([r.latency for r in ok]) * 1000) if ok else None,
            )
        )
    return out


#: metric name -> how to read it from a RunSummary
REPEAT_METRICS = {
    "request_throughput": lambda s: s.request_throughput,
    "output_throughput": lambda s: s.output_throughput,
    "ttft_ms_mean": lambda s: s.ttft_ms.mean,
    "ttft_ms_p99": lambda s: s.ttft_ms.p99,
    "tpot_ms_mean": lambda s: s.tpot_ms.mean,
    "itl_ms_mean": lambda s: s.itl_ms.mean,
    "e2el_ms_mean": lambda s: s.e2el_ms.mean,
    "e2el_ms_p99": lambda s: s.e2el_ms.p99,
    "goodput": lambda s: s.goodput,
}


#: Student-t 97.5 % quantiles for 1..30 degrees of freedom (no scipy dependency for 30 numbers)
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
    2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
    2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom (1.96 past 30)."""
    return _T975[df - 1] if df <= len(_T975) else 1.96


def repeat_summary(runs: list[RunSummary]) -> RepeatSummary:
    """Mean and 95 % t-interval of each metric over the repetitions of one load point."""
    import numpy as np

    metrics: dict[str, RepeatStat] = {}
    for name, read in REPEAT_METRICS.items():
        values = [float(v) for v in (read(r) for r in runs) if v is not None]
        if not values:
            continue
        arr = np.asarray(values)
        mean = float(arr.mean())
        std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
        half = t975(arr.size - 1) * std / math.sqrt(arr.size) if arr.size > 1 else 0.0
        metrics[name] = RepeatStat(
            values=values, mean=mean, std=std, ci95_low=mean - half, ci95_high=mean + half
        )
    label = runs[0].label if runs else ""
    return RepeatSummary(label=label, repeats=len(runs), metrics=metrics, runs=[r.run_dir for r in runs])
