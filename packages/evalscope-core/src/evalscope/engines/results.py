"""Building blocks for an engine's result mapping: its rows and metrics → our `Report`.

The rule both engine plugins follow: when every row carries a verdict and the rows' mean is the engine's own
headline number, the report is built from the rows (`report_from_rows`: metric `acc`, shown as `mean_acc`,
with the native backend's aggregation and intervals); otherwise the engine's metrics are copied as they are
(`engine_metric` per metric, `report_from_engine_metrics`), and the rows are still written as reviews.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from evalscope.report import (
    CategoryScore,
    MetricScore,
    Report,
    SampleError,
    SampleRecord,
    SubsetScore,
    build_report,
)

__all__ = ["engine_metric", "report_from_engine_metrics", "report_from_rows", "rows_agree"]

log = logging.getLogger("evalscope.engines")


def rows_agree(
    what: str, records: Sequence[SampleRecord], engine_score: float, *, engine: str, scale: float = 1.0
) -> bool:
    """Whether the mean of the rows' `acc` is the engine's `engine_score` (given on `scale`: 100 for percent).

    A mismatch (an evaluator whose headline is not a plain mean of its row verdicts) is logged: the engine's
    numbers are then the ones to keep.
    """
    if not records:
        return False
    ours = scale * sum(r.scores.get("acc", 0.0) for r in records) / len(records)
    if math.isclose(ours, engine_score, abs_tol=1e-6):
        return True
    log.warning("%s: the rows average %.4f but %s reports %.4f; keeping the engine's metrics",
                what, ours, engine, engine_score)  # fmt: skip
    return False


def report_from_rows(
    records: list[SampleRecord], *, backend: str, dataset: str, model_name: str, fields: dict[str, Any]
) -> Report:
    """The report of scored rows (`acc`), subsets in the order the rows first name them."""
    order = list(dict.fromkeys(r.subset for r in records))
    return build_report(
        records, name=f"{backend}/{dataset}", dataset_name=dataset, model_name=model_name,
        metrics=["acc"], subset_order=order, **fields,
    )  # fmt: skip


def engine_metric(
    name: str, subsets: list[SubsetScore], *, num: int | None = None, score: float | None = None
) -> MetricScore:
    """One metric from the engine's per-subset scores. `score` defaults to the subsets' mean weighted by their
    size (plain when sizes are unknown), `num` to their total; the macro score is the plain mean."""
    total = sum(s.num for s in subsets) if num is None else num
    plain = sum(s.score for s in subsets) / len(subsets) if subsets else math.nan
    if score is None:
        weight = sum(s.num for s in subsets)
        score = sum(s.score * s.num for s in subsets) / weight if weight else plain
    return MetricScore(
        name=name,
        num=total,
        score=score,
        macro_score=plain if subsets else score,
        categories=[CategoryScore(name="default", num=total, score=score, subsets=subsets)],
    )


def report_from_engine_metrics(
    records: list[SampleRecord],
    metrics: list[MetricScore],
    *,
    backend: str,
    dataset: str,
    model_name: str,
    fields: dict[str, Any],
) -> Report:
    """A report that copies the engine's metrics; the rows give the sample count and the failed samples."""
    errors = [SampleError(id=r.id, subset=r.subset, error=r.error) for r in records if r.error]
    return Report(
        name=f"{backend}/{dataset}",
        dataset_name=dataset,
        model_name=model_name,
        metrics=metrics,
        num_samples=len(records),
        num_errors=len(errors),
        errors=errors,
        **fields,
    )
