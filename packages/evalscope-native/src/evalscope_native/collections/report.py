"""The data_collection report: EvalScope 1.14.1's five levels, each average with its standard error.

`Report.metrics` keeps the shape every report has (metric → category → subset): one metric per
member headline value (`mean_acc` when every member reports accuracy), categories named by the
schema path (`mix/math`), subsets `<dataset>/<subset>` — EvalScope's `gen_collection_report`.

`Report.extra["collection"]` holds EvalScope's `collection_detailed_report.json` levels, whose rows
it names the same way, plus one standard error per average:

* `subset_level` (task_type, dataset_name, subset_name): `micro_avg.`, `count`;
* `dataset_level` (task_type, dataset_name), `task_level` (task_type), `tag_level` (tags: a sample
  counts under each of its tags), `category_level` (category0, category1, …: the schema path):
  `micro_avg.` (the mean over samples), `macro_avg.` (the mean of its `<dataset>/<subset>` means),
  `weighted_avg.` (each sample weighted by its line's `weight` — the member's schema share over its
  number of samples — so members count as the schema says even where the counts could not),
  `count`.

Each average has `<kind>_stderr`: micro and weighted from the collection's aggregation (`mean`:
the sample standard error, and the ratio estimator's for weighted); macro combines its children's,
√(Σ seᵢ²) / k, where a child of one sample borrows the group's pooled variance. Each also has
`<kind>_ci`, a 95 % interval: the aggregation's own where it has one (`aggregation: bootstrap`, a
seeded percentile interval, for micro and weighted), else the normal one, average ± 1.96 · stderr. A failed sample
counts 0 and one a scorer could not decide is left out, as in every report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalscope import registry
from evalscope.report import MetricScore, Report, SampleRecord, build_report
from evalscope.scoring import Metric, MetricValue

if TYPE_CHECKING:
    from evalscope_native.benchmarks.data_collection import DataCollection

__all__ = ["DETAILED_REPORT", "LEVELS", "collection_report", "detailed_report_files"]

#: EvalScope's file of the levels, next to the report (`DataCollection.REPORT_NAME`)
DETAILED_REPORT = "collection_detailed_report.json"
LEVELS = ("subset_level", "dataset_level", "task_level", "tag_level", "category_level")


@dataclass(frozen=True)
class _Row:
    record: SampleRecord
    task_type: str
    dataset: str
    subset: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    weight: float
    value: float


def collection_report(collection: DataCollection, report: Report, records: Sequence[SampleRecord]) -> Report:
    from evalscope_native.benchmarks.data_collection import INFO, VALUE

    spec = registry.metrics().resolve(collection.aggregation)
    aggregate: Metric = registry.load_impl(spec)
    seed = collection.seed or 0
    metric_names = [collection.metric_of(r.id) for r in records]
    metrics = list(report.metrics)
    if set(metric_names) - {VALUE}:
        metrics = [_member_metric(collection, report, records, metric_names, name, aggregate, spec.name, seed)
                   for name in dict.fromkeys(metric_names)]  # fmt: skip
        metrics += [m for m in report.metrics if m.name.startswith("pass@")]
    rows = [_row(r, INFO, VALUE) for r in records if r.unscored is None]
    depth = max((len(r.categories) for r in rows), default=0)
    cat_cols = tuple(f"category{i}" for i in range(depth))
    figures = _Figures(aggregate, seed)
    levels: dict[str, Any] = {
        "subset_level": figures.level(rows, ("task_type", "dataset_name", "subset_name"),
                                      lambda r: [(r.task_type, r.dataset, r.subset)], macro=False),
        "dataset_level": figures.level(rows, ("task_type", "dataset_name"), lambda r: [(r.task_type, r.dataset)]),
        "task_level": figures.level(rows, ("task_type",), lambda r: [(r.task_type,)]),
        "tag_level": figures.level(rows, ("tags",), lambda r: [(t,) for t in dict.fromkeys(r.tags)]),
        "category_level": figures.level(
            rows, cat_cols, lambda r: [tuple(r.categories[i] if i < len(r.categories) else "" for i in range(depth))]
        ) if depth else [],
    }  # fmt: skip
    members: dict[str, dict[str, Any]] = {}
    for r, metric in zip(records, metric_names, strict=True):
        name = str(r.metadata.get(INFO, {}).get("dataset_name", r.subset.split("/", 1)[0]))
        entry = members.setdefault(
            name, {"benchmark": r.metadata.get(INFO, {}).get("benchmark", name), "metric": metric, "count": 0}
        )
        entry["count"] += 1
    levels["members"] = members
    levels["aggregation"] = spec.name
    levels["num_excluded"] = len(records) - len(rows)
    return report.model_copy(update={"metrics": metrics, "extra": {**report.extra, "collection": levels}})


def _member_metric(
    collection: DataCollection,
    report: Report,
    records: Sequence[SampleRecord],
    metric_names: list[str],
    name: str,
    aggregate: Metric,
    aggregation: str,
    seed: int,
) -> MetricScore:
    """The samples of the members whose headline is `name`, aggregated as any report's metric."""
    from evalscope_native.benchmarks.data_collection import VALUE

    own = [r for r, m in zip(records, metric_names, strict=True) if m == name]
    part = build_report(
        own,
        name=report.name,
        dataset_name=report.dataset_name,
        model_name=report.model_name,
        metrics=[VALUE],
        category_of=collection.category_of,
        aggregate=aggregate,
        aggregation=aggregation,
        seed=seed,
    )
    return part.metrics[0].model_copy(update={"name": f"mean_{name}"})


def _row(record: SampleRecord, info_key: str, value_name: str) -> _Row:
    info = record.metadata.get(info_key, {})
    dataset, _, subset = record.subset.partition("/")
    return _Row(
        record=record,
        task_type=str(info.get("task_type", "")),
        dataset=str(info.get("dataset_name", dataset)),
        subset=str(info.get("subset_name", subset)),
        tags=tuple(info.get("tags") or ()),
        categories=tuple(info.get("categories") or ()),
        weight=float(info.get("weight", 1.0)),
        value=0.0 if record.error is not None else float(record.scores.get(value_name, 0.0)),
    )


class _Figures:
    def __init__(self, aggregate: Metric, seed: int) -> None:
        self.aggregate = aggregate
        self.seed = seed

    def level(
        self,
        rows: list[_Row],
        columns: tuple[str, ...],
        keys: Callable[[_Row], list[tuple[str, ...]]],
        macro: bool = True,
    ) -> list[dict[str, Any]]:
        """One row per group, sorted by count (largest first), then by the group's key (EvalScope's order)."""
        groups: dict[tuple[str, ...], list[_Row]] = {}
        for row in rows:
            for key in keys(row):
                groups.setdefault(key, []).append(row)
        out = [
            {**dict(zip(columns, key, strict=True)), **self.figures(groups[key], macro)}
            for key in sorted(groups)
        ]
        out.sort(key=lambda r: -r["count"])
        return out

    def figures(self, rows: list[_Row], macro: bool) -> dict[str, Any]:
        values = [r.value for r in rows]
        recs = [r.record for r in rows]
        micro = self.aggregate(values, [], seed=self.seed, records=recs)
        out: dict[str, Any] = {"micro_avg.": micro.score}
        weighted: MetricValue | None = None
        children: dict[tuple[str, str], list[float]] = {}
        if macro:
            for r in rows:
                children.setdefault((r.dataset, r.subset), []).append(r.value)
            out["macro_avg."] = sum(_mean(c) for c in children.values()) / len(children)
            weights = [r.weight for r in rows]
            weighted = (
                self.aggregate(values, weights, seed=self.seed, records=recs) if sum(weights) > 0 else micro
            )
            out["weighted_avg."] = weighted.score
        out["count"] = len(rows)
        out["micro_stderr"] = micro.stderr
        if macro and weighted is not None:
            out["macro_stderr"] = _macro_stderr(list(children.values()), values)
            out["weighted_stderr"] = weighted.stderr
        for kind, value in (("micro", micro), ("weighted", weighted)):
            if value is not None and value.ci_low is not None and value.ci_high is not None:
                out[f"{kind}_ci"] = [value.ci_low, value.ci_high]  # the aggregation's own (bootstrap)
        for kind in ("micro", "macro", "weighted") if macro else ("micro",):
            if f"{kind}_ci" not in out:
                out[f"{kind}_ci"] = _normal_interval(out[f"{kind}_avg."], out[f"{kind}_stderr"])
        return out


def _normal_interval(value: float, stderr: float | None) -> list[float] | None:
    """The 95 % normal interval, value ± 1.96 standard errors (None without a standard error)."""
    if stderr is None or not math.isfinite(stderr) or not math.isfinite(value):
        return None
    return [value - 1.96 * stderr, value + 1.96 * stderr]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _variance(values: list[float]) -> float:
    mu = _mean(values)
    return sum((v - mu) ** 2 for v in values) / (len(values) - 1)


def _macro_stderr(children: list[list[float]], pooled: list[float]) -> float | None:
    """Standard error of the mean of the children's means: √(Σ sᵢ²/nᵢ) / k (independent children).

    A child of one sample has no variance of its own; it borrows the pooled variance of the whole
    group (None when the whole group is one sample).
    """
    fallback = _variance(pooled) if len(pooled) > 1 else None
    total = 0.0
    for child in children:
        var = _variance(child) if len(child) > 1 else fallback
        if var is None:
            return None
        total += var / len(child)
    return math.sqrt(total) / len(children)


def detailed_report_files(report: Report) -> dict[str, str]:
    """EvalScope's `collection_detailed_report.json` (the five levels), written next to the report."""
    levels = report.extra.get("collection")
    if not isinstance(levels, dict):
        return {}
    detailed = {level: levels.get(level, []) for level in LEVELS}
    return {DETAILED_REPORT: json.dumps(detailed, ensure_ascii=False, indent=2) + "\n"}
