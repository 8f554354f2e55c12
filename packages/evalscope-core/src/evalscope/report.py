"""The one report schema every backend writes, and the per-sample record schema.

Reports nest metric → category → subset, as EvalScope's do, so its users' dashboards and the
future `evalscope app` read one shape whatever engine produced the numbers. Both models carry
`schema_version`; readers must accept older versions.

Version 2 added each figure's uncertainty (`stderr`, `ci_low`/`ci_high`), the metric that
aggregated it, and the samples a scorer could not decide (`unscored`: excluded from the figures and
counted, never scored 0 in silence). Version-1 files still validate: every new field has a default.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evalscope.contracts import ChatMessage, Usage
from evalscope.scoring import Metric, MetricValue

__all__ = [
    "CategoryScore",
    "MetricScore",
    "Report",
    "SCHEMA_VERSION",
    "SampleError",
    "SampleRecord",
    "SubsetScore",
    "build_report",
]

SCHEMA_VERSION = 2


class SampleRecord(BaseModel):
    """One evaluated sample: what was asked, what came back, how it scored, or why it failed."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    benchmark: str
    subset: str
    index: int
    id: str
    cache_key: str
    input: list[ChatMessage]
    target: str | list[str]
    choices: list[str] | None = None
    prediction: str | None = None
    predictions: list[str] = Field(default_factory=list, description="All n completions.")
    reasoning: str | None = None
    extracted: str | None = None
    explanation: str | None = Field(default=None, description="The scorer's reason (e.g. a judge's).")
    unscored: str | None = Field(
        default=None, description="Why the scorer could not decide: excluded from the figures, counted."
    )
    scores: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict, description="Per-metric weight; missing means 1.")
    error: str | None = None
    attempts: int = 0
    usage: Usage | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class _Figure(BaseModel):
    """A figure and its uncertainty: a standard error, and a 95 % interval where the metric gives one."""

    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class SubsetScore(_Figure):
    name: str
    num: int
    score: float


class CategoryScore(_Figure):
    name: str
    num: int
    score: float
    subsets: list[SubsetScore]


class MetricScore(_Figure):
    name: str = Field(description="Aggregated metric name, e.g. 'mean_acc'.")
    num: int
    score: float = Field(description="Micro average over all samples.")
    macro_score: float = Field(description="Mean of the subset scores.")
    categories: list[CategoryScore]
    aggregation: str = Field(default="mean", description="The metric that aggregated the values.")


class SampleError(BaseModel):
    id: str
    subset: str
    error: str


class Report(BaseModel):
    """Scores of one model on one benchmark."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    name: str = Field(description="Canonical benchmark name, e.g. 'native/gsm8k'.")
    dataset_name: str
    pretty_name: str = ""
    benchmark_version: str = ""
    model_name: str
    backend: str = "native"
    metrics: list[MetricScore]
    num_samples: int
    num_errors: int = 0
    errors: list[SampleError] = Field(default_factory=list)
    num_unscored: int = Field(default=0, description="Samples the scorer could not decide (excluded).")
    unscored: list[SampleError] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    extra: dict[str, Any] = Field(default_factory=dict)

    def score(self, metric: str | None = None) -> float:
        """The headline score: the first metric's micro average, or the named one's."""
        for m in self.metrics:
            if metric is None or m.name == metric or m.name == f"mean_{metric}":
                return m.score
        raise KeyError(metric)


def build_report(
    records: Iterable[SampleRecord],
    *,
    name: str,
    dataset_name: str,
    model_name: str,
    metrics: list[str],
    category_of: Any = None,
    subset_order: list[str] | None = None,
    aggregate: Metric | None = None,
    aggregation: str = "mean",
    aggregates: dict[str, tuple[str, Metric]] | None = None,
    seed: int = 0,
    **fields: Any,
) -> Report:
    """Aggregate per-sample values with `aggregate` (default: the mean and its standard error).

    A failed sample (no prediction) counts with 0 for every value, as EvalScope counts it; a sample
    the scorer could not decide is left out of the figures and listed in `unscored`. A category's and
    the whole metric's figure is the sample-weighted (micro) average of its subsets', and its standard
    error combines theirs: sqrt(Σ (n_i / N)² se_i²).
    """
    from evalscope.aggregation import mean as mean_metric

    recs = list(records)
    by_subset: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in recs:
        by_subset[r.subset].append(r)
    order = [s for s in (subset_order or []) if s in by_subset] + sorted(
        s for s in by_subset if s not in (subset_order or [])
    )
    metric_scores = []
    for metric in metrics:
        how, agg = (aggregates or {}).get(metric, (aggregation, aggregate or mean_metric))
        cats: dict[str, list[SubsetScore]] = defaultdict(list)
        cat_records: dict[str, list[SampleRecord]] = defaultdict(list)
        for subset in order:
            scored = [r for r in by_subset[subset] if r.unscored is None]
            vals = [r.scores.get(metric, 0.0) if r.error is None else 0.0 for r in scored]
            weights = [r.weights.get(metric, 1.0) for r in scored]
            value = agg(vals, weights, seed=seed, records=scored)
            cat = category_of(subset) if category_of else "default"
            cats[cat].append(SubsetScore(name=subset, num=len(vals), **_figure(value)))
            cat_records[cat] += scored
        # A metric that is not an average (a Bradley-Terry fit) says `pools = True`: a category's and
        # the overall figure are computed on the pooled samples instead of averaged from subsets.
        categories = [
            CategoryScore(name=cat, subsets=subs, **_level(subs, cat_records[cat], metric, agg, seed))
            for cat, subs in cats.items()
        ]
        all_subsets = [s for c in categories for s in c.subsets]
        metric_scores.append(
            MetricScore(
                name=metric if metric.startswith(("pass@", "pass^")) else f"mean_{metric}",
                macro_score=_mean([s.score for s in all_subsets]),
                categories=categories,
                aggregation=how,
                **_level(all_subsets, [r for rs in cat_records.values() for r in rs], metric, agg, seed),
            )
        )
    errors = [SampleError(id=r.id, subset=r.subset, error=r.error) for r in recs if r.error is not None]
    unscored = [
        SampleError(id=r.id, subset=r.subset, error=r.unscored)
        for r in recs
        if r.unscored is not None and r.error is None
    ]
    return Report(
        name=name,
        dataset_name=dataset_name,
        model_name=model_name,
        metrics=metric_scores,
        num_samples=len(recs),
        num_errors=len(errors),
        errors=errors,
        num_unscored=len(unscored),
        unscored=unscored,
        **fields,
    )


def _level(
    subsets: list[SubsetScore], records: list[SampleRecord], metric: str, agg: Metric, seed: int
) -> dict[str, Any]:
    """A category's or the whole metric's figure: averaged from its subsets, or — for a metric that
    says `pools = True` (a Bradley-Terry fit is not an average) — computed on the pooled samples."""
    if not getattr(agg, "pools", False):
        return _pooled(subsets)
    vals = [r.scores.get(metric, 0.0) if r.error is None else 0.0 for r in records]
    weights = [r.weights.get(metric, 1.0) for r in records]
    return {**_figure(agg(vals, weights, seed=seed, records=records)), "num": len(records)}


def _figure(value: MetricValue) -> dict[str, Any]:
    return {
        "score": value.score,
        "stderr": value.stderr,
        "ci_low": value.ci_low,
        "ci_high": value.ci_high,
    }


def _pooled(subsets: list[SubsetScore]) -> dict[str, Any]:
    """Micro average of subsets (weighted by their sample counts) and its combined uncertainty."""
    total = sum(s.num for s in subsets)
    if len(subsets) == 1:
        only = subsets[0]
        return {"num": only.num, "score": only.score, "stderr": only.stderr, "ci_low": only.ci_low,
                "ci_high": only.ci_high}  # fmt: skip
    score = sum(s.score * s.num for s in subsets) / total if total else math.nan
    stderr = None
    if total and all(s.stderr is not None or s.num == 0 for s in subsets):
        stderr = math.sqrt(sum((s.num / total) ** 2 * (s.stderr or 0.0) ** 2 for s in subsets))
    return {"num": total, "score": score, "stderr": stderr}


def _mean(vals: list[float]) -> float:
    return sum(vals) / len(vals) if vals else math.nan
