"""Hooks the core implements itself: the terminal-table reporter."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import ReporterSpec


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
