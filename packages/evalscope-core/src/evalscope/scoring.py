"""The scoring seam: a *scorer* judges one completion, a *metric* aggregates many.

The split is Inspect AI's. A scorer turns (sample, completion, extracted answer) into a `Score`: one
or several named values (IFEval gives four, DROP gives f1 and em), the answer it judged, an
explanation (a judge's reasoning, the failing test) and metadata. A scorer may be `async` (an LLM
judge waits on the network) or plain (a regex, Math-Verify, the code sandbox); the engine awaits
what needs awaiting. A scorer that cannot decide (a judge whose verdict stays malformed) says so in
`Score.unscored`: the sample is then left out of the metric and counted, never scored 0 in silence.

A metric (`evalscope.aggregation`) turns the values of many samples into a figure and its
uncertainty. Both are registered through hooks (`evalscope_register_scorers`,
`evalscope_register_metrics`) as specs whose `impl` is imported on use, so a third-party plugin adds
either in two files (docs/writing-plugins.md).

A scorer's `impl` is a factory: `factory(benchmark, **kwargs) -> Scorer`. It receives the
benchmark adapter so that a generic scorer can follow per-benchmark settings (`integer_only`
answers, partial credit for several correct letters) without a subclass per benchmark.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from evalscope.contracts import Sample

__all__ = ["Score", "Scorer", "ScorerFactory", "MetricValue", "Metric"]


class Score(BaseModel):
    """What a scorer concluded about one completion."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, float] = Field(default_factory=dict, description="Named values, e.g. {'acc': 1.0}.")
    answer: str | None = Field(default=None, description="The answer the values judge (extracted).")
    explanation: str | None = Field(default=None, description="Why: a judge's reasoning, a failing test.")
    weights: dict[str, float] = Field(
        default_factory=dict, description="Per-value weight in a weighted mean; missing means 1."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    unscored: str | None = Field(
        default=None,
        description="Why no value could be decided (e.g. a malformed judge verdict): the sample is "
        "excluded from the metrics and counted in the report instead.",
    )


@runtime_checkable
class Scorer(Protocol):
    """Judges one completion. `__call__` may be a coroutine function (`async def`).

    `values` names what it produces; the engine reports each under the benchmark's metric.
    `completion` is the reply with any reasoning block removed; `extracted` is the benchmark's
    `extract_answer` of it.
    """

    values: Sequence[str]

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score | Awaitable[Score]: ...


class ScorerFactory(Protocol):
    """What a `ScorerSpec.impl` names: builds a scorer for one benchmark of one run."""

    def __call__(self, benchmark: Any, **kwargs: Any) -> Scorer: ...


class MetricValue(BaseModel):
    """An aggregated figure and its uncertainty (a standard error, or a percentile interval)."""

    score: float
    num: int
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class Metric(Protocol):
    """Aggregates per-sample values (with weights; 1 when absent) into a `MetricValue`.

    `seed` makes resampling metrics (bootstrap intervals) reproducible: same seed, same bytes.
    `records` are the samples behind `values` (`SampleRecord`s, same order), for metrics that need
    more than one number a sample — a Bradley-Terry fit over the judge's games, a length-controlled
    win rate over answer lengths. Most metrics ignore them (accept `**_`).
    """

    def __call__(
        self, values: Sequence[float], weights: Sequence[float], *, seed: int = 0, records: Sequence[Any] = ()
    ) -> MetricValue: ...
