"""The one report schema every backend writes, and the per-sample record schema.

Reports nest metric → category → subset, as EvalScope's do, so its users' dashboards and the
future `evalscope app` read one shape whatever engine produced the numbers. Both models carry
`schema_version`; readers must accept older versions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evalscope.contracts import ChatMessage, Usage

SCHEMA_VERSION = 1


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
    scores: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict, description="Per-metric weight; missing means 1.")
    error: str | None = None
    attempts: int = 0
    usage: Usage | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SubsetScore(BaseModel):
    name: str
    num: int
    score: float


class CategoryScore(BaseModel):
    name: str
    num: int
    score: float
    subsets: list[SubsetScore]


class MetricScore(BaseModel):
    name: str = Field(description="Aggregated metric name, e.g. 'mean_acc'.")
    num: int
    score: float = Field(description="Micro average over all samples.")
    macro_score: float = Field(description="Mean of the subset scores.")
    categories: list[CategoryScore]


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
    **fields: Any,
) -> Report:
    """Aggregate per-sample scores; a failed sample counts with score 0 for every metric."""
    recs = list(records)
    by_subset: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in recs:
        by_subset[r.subset].append(r)
    order = [s for s in (subset_order or []) if s in by_subset] + sorted(
        s for s in by_subset if s not in (subset_order or [])
    )
    metric_scores = []
    for metric in metrics:
        cats: dict[str, list[SubsetScore]] = defaultdict(list)
        for subset in order:
            recs_in = by_subset[subset]
            vals = [r.scores.get(metric, 0.0) if r.error is None else 0.0 for r in recs_in]
            weights = [r.weights.get(metric, 1.0) for r in recs_in]
            cat = category_of(subset) if category_of else "default"
            cats[cat].append(SubsetScore(name=subset, num=len(vals), score=_weighted_mean(vals, weights)))
        categories = [
            CategoryScore(
                name=cat,
                num=sum(s.num for s in subs),
                score=_weighted(subs),
                subsets=subs,
            )
            for cat, subs in cats.items()
        ]
        all_subsets = [s for c in categories for s in c.subsets]
        metric_scores.append(
            MetricScore(
                name=metric if metric.startswith("pass@") else f"mean_{metric}",
                num=sum(s.num for s in all_subsets),
                score=_weighted(all_subsets),
                macro_score=_mean([s.score for s in all_subsets]),
                categories=categories,
            )
        )
    errors = [SampleError(id=r.id, subset=r.subset, error=r.error) for r in recs if r.error is not None]
    return Report(
        name=name,
        dataset_name=dataset_name,
        model_name=model_name,
        metrics=metric_scores,
        num_samples=len(recs),
        num_errors=len(errors),
        errors=errors,
        **fields,
    )


def _weighted_mean(vals: list[float], weights: list[float]) -> float:
    total = sum(weights)
    return sum(v * w for v, w in zip(vals, weights, strict=True)) / total if total else math.nan


def _mean(vals: list[float]) -> float:
    return sum(vals) / len(vals) if vals else math.nan


def _weighted(subsets: list[SubsetScore]) -> float:
    total = sum(s.num for s in subsets)
    return sum(s.score * s.num for s in subsets) / total if total else math.nan
