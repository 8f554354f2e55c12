"""general_fc's figures, computed over the pooled samples as EvalScope 1.14.1's `aggregate_scores`.

The per-sample values are the model's call decision (`tool_call_f1`, `count_finish_reason_tool_call`)
and its success (`schema_accuracy`, `count_successful_tool_call`); the truth label is the record's
`should_call_tool` in each record's metadata. A failed request counts as "did not call", as in
EvalScope. None of these is an average, so each says `pools = True`: a category's and the overall
figure are computed on all their samples, not averaged from subsets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evalscope.scoring import MetricValue

__all__ = ["applicable_mean", "count", "decision_f1", "schema_accuracy"]


def _pooling(fn: Callable[..., MetricValue]) -> Callable[..., MetricValue]:
    fn.pools = True  # type: ignore[attr-defined]
    return fn


@_pooling
def decision_f1(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    **_: Any,
) -> MetricValue:
    """F1 of "called a tool" against `should_call_tool` (0 when there is no positive at all)."""
    tp = fp = fn = 0
    for called, rec in zip(values, records, strict=True):
        should = bool((rec.metadata or {}).get("should_call_tool"))
        if called and should:
            tp += 1
        elif called:
            fp += 1
        elif should:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return MetricValue(score=f1, num=len(values))


@_pooling
def schema_accuracy(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    **_: Any,
) -> MetricValue:
    """Schema-valid calls / attempted calls (0 when nothing was attempted)."""
    attempted = sum(
        1 for rec in records if rec.error is None and rec.scores.get("count_finish_reason_tool_call", 0.0)
    )
    valid = sum(1 for v in values if v)
    return MetricValue(score=valid / attempted if attempted else 0.0, num=len(values))


@_pooling
def count(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    **_: Any,
) -> MetricValue:
    """How many samples have the value (a count, not a rate)."""
    return MetricValue(score=float(sum(1 for v in values if v)), num=len(values))


@_pooling
def applicable_mean(
    values: Sequence[float], weights: Sequence[float] = (), *, seed: int = 0, **_: Any
) -> MetricValue:
    """The mean over the samples a value applies to (weight 1; tool_bench gives 0 where it does not):
    EvalScope averages each value over the samples that have it. Pooled, so the overall figure is that
    mean over every subset's samples (a subset where the value never applies shows nan)."""
    from evalscope.aggregation import mean

    return mean(values, weights, seed=seed)
