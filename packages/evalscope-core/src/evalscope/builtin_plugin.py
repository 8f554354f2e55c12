"""Hooks the core implements itself: the terminal-table reporter, the aggregating metrics, the local runner."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import MetricSpec, ReporterSpec, RunnerSpec


@hookimpl
def evalscope_register_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="mean",
            impl="evalscope.aggregation:mean",
            aliases=("weighted_mean",),
            description="(Weighted) mean with its standard error (lm-evaluation-harness's stderr).",
        ),
        MetricSpec(
            name="macro_f1",
            impl="evalscope.aggregation:macro_f1",
            aliases=("f1_set",),
            description="F1 over the set of labels (answer vs target), averaged over labels; bootstrap interval.",
        ),
        MetricSpec(
            name="bootstrap",
            impl="evalscope.aggregation:bootstrap",
            description="(Weighted) mean with a seeded 95 % percentile bootstrap interval (1,000 rounds).",
        ),
    ]


@hookimpl
def evalscope_register_reporters() -> list[ReporterSpec]:
    return [
        ReporterSpec(
            name="table",
            impl="evalscope.reporters:print_table",
            description="Print the score table (Model, Dataset, Metric, Category, Subset, Num, Score).",
            default=True,
        ),
    ]


@hookimpl
def evalscope_register_runners() -> list[RunnerSpec]:
    return [
        RunnerSpec(
            name="local",
            impl="evalscope.runners:LocalRunner",
            description="Run in this process (the default): the backend's own concurrency.",
        ),
    ]
