"""Registration records: what a plugin tells the core about the things it provides.

Each spec is cheap metadata plus an `impl` string `"package.module:Attr"` that is imported only
when the thing is used. Listing 300 benchmarks therefore imports none of their adapters, and a
plugin whose implementation is broken still shows up in `evalscope list` (failing only on use).
The registry fills in `plugin` (the registering plugin's name) so canonical names are
`<plugin>/<name>`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BackendCapabilities",
    "BackendSpec",
    "BenchmarkSpec",
    "CommandSpec",
    "MetricSpec",
    "ModelSpec",
    "ReporterSpec",
    "RunnerSpec",
    "ScorerSpec",
    "spec_dump",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name, unique within its plugin (e.g. 'gsm8k').")
    impl: str = Field(description="'package.module:Attr' imported lazily when the thing is used.")
    description: str = ""
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = Field(default=(), description="Other names that resolve to this one.")
    plugin: str = Field(default="", description="Filled in by the registry: the registering plugin.")

    @property
    def canonical_name(self) -> str:
        return f"{self.plugin}/{self.name}" if self.plugin else self.name


class BenchmarkSpec(_Spec):
    """A benchmark: declarative metadata the engine and `evalscope list` need without importing it."""

    pretty_name: str = ""
    dataset_id: str = Field(description="Hub dataset id (the real download path); a local path works too.")
    subsets: tuple[str, ...] = ("default",)
    default_subsets: tuple[str, ...] | None = Field(
        default=None, description="Subsets evaluated when the user names none (all `subsets` if unset)."
    )
    eval_split: str = "test"
    few_shot_split: str | None = None
    few_shot_num: int = 0
    metrics: tuple[str, ...] = Field(
        default=("acc",), description="The values reported, in order (the first is the headline)."
    )
    scorer: str = Field(
        default="acc", description="The scorer (`evalscope list scorers`) that produces `metrics`."
    )
    aggregation: str = Field(
        default="mean", description="The metric (`evalscope list metrics`) aggregating each value."
    )
    aggregations: dict[str, str] = Field(
        default_factory=dict, description="Per-value metric overriding `aggregation` (e.g. a win rate's)."
    )
    scoring_policy: Literal["rule_default", "judge_default", "judge_only"] = Field(
        default="rule_default",
        description="rule_default: a rule scores it (a judge when asked); judge_default: the judge by "
        "default; judge_only: only a judge can score it (see judge.strategy).",
    )
    judge_scorer: str | None = Field(
        default=None, description="The scorer used when a judge scores it (default: the generic llm_judge)."
    )
    version: str = Field(
        description="Bumped whenever prompts, splits or scoring change; recorded in reports."
    )
    paper_url: str = ""
    local_only: bool = Field(
        default=False, description="No hub copy exists (custom datasets): never try a download."
    )
    sample_counts: dict[str, int] = Field(
        default_factory=dict,
        description="Rows of the eval split per subset, where known (for `evalscope list`).",
    )
    prestart: str | None = Field(
        default=None,
        description="`module:function` called first thing by `evalscope eval` when this benchmark is "
        "named, before the CLI's own imports: it starts a slow helper (a scoring process) so that its "
        "start-up overlaps the run's. Its module must import cheaply; a failure is ignored (the "
        "benchmark starts the helper itself later).",
    )


class ModelSpec(_Spec):
    """A model family: `eval_types` are the `--eval-type` values it answers to."""

    eval_types: tuple[str, ...] = ()


class ScorerSpec(_Spec):
    """A scorer: `impl` is a factory `(benchmark, **kwargs) -> Scorer` (see `evalscope.scoring`).

    The scorer judges one completion and returns a `Score` with the named `values`.
    """

    values: tuple[str, ...] = Field(
        default=(), description="The value names it produces (empty: the benchmark's `metrics`)."
    )
    higher_is_better: bool = True
    kind: str = Field(default="rule", description="rule | model (a judge) | execution (a sandbox).")


class MetricSpec(_Spec):
    """A metric: `impl` is `(values, weights, *, seed, records) -> MetricValue` (the `Metric` protocol
    of `evalscope.scoring`), aggregating per-sample values into a figure with its uncertainty (see
    `evalscope.aggregation`); `records` are the samples behind the values, for metrics that need more."""

    higher_is_better: bool = True


class BackendCapabilities(BaseModel):
    """What a backend honours of the run-wide flags. A flag it does not honour is refused before the
    run with the backend's rule (`evalscope.run`), never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: bool = Field(default=True, description="--limit N: the first N samples of each subset.")
    fractional_limit: bool = Field(default=False, description="--limit 0.5: that fraction of each subset.")
    batch_size: bool = Field(default=True, description="--eval-batch-size: concurrent requests or a batch.")
    resume: bool = Field(default=False, description="--use-cache <run folder>: resume without re-asking.")
    sample_events: bool = Field(default=False, description="Fires evalscope_on_sample_done for every sample.")
    judge: bool = Field(default=False, description="Scores with the run's LLM judge (--judge).")
    distributed: bool = Field(default=False, description="Can spread a run over several processes or nodes.")


class BackendSpec(_Spec):
    """An evaluation engine (`--backend`): native, opencompass, vlmeval, rag, ...

    `eval_config` names the pydantic model of the backend's `--eval-config` (`"package.module:Model"`,
    imported only when asked for); `capabilities` says which run-wide flags it honours.
    """

    eval_config: str | None = Field(default=None, description="'package.module:Model' of --eval-config.")
    capabilities: BackendCapabilities = Field(default_factory=BackendCapabilities)


class RunnerSpec(_Spec):
    """Where a run's work executes (`--runner`): `local` (this process, the default) or e.g. `ray`.

    `impl` names a class built as `cls(args)` (the validated `runner_args`) that implements
    `evalscope.runners.Runner`; `args_model` names the pydantic model of `--runner-args`
    (`"package.module:Model"`, imported only when used). A `distributed` runner needs a backend whose
    `capabilities.distributed` is true (it implements `evalscope.sharding.ShardableBackend`).
    """

    args_model: str | None = Field(default=None, description="'package.module:Model' of --runner-args.")
    distributed: bool = Field(default=False, description="Spreads shards over processes or nodes.")


class ReporterSpec(_Spec):
    """Writes, shows or exports a finished run (terminal table, JSON files, experiment trackers, ...).

    `accepts` says how `impl` is called: `"reports"` (the default) as `impl(reports, run, config)`
    after `evalscope eval` only (`evalscope.run.Reporter`); `"record"` as `impl(record)` with an
    `evalscope.run_record.RunRecord` — figures, tables and the redacted config — after `evalscope eval`
    and `evalscope perf` alike (experiment trackers).
    """

    default: bool = Field(default=False, description="Used when the user selects no reporter explicitly.")
    accepts: Literal["reports", "record"] = Field(
        default="reports",
        description="'reports': impl(reports, run, config), eval only; 'record': impl(RunRecord).",
    )


class CommandSpec(_Spec):
    """A CLI subcommand owned by a plugin: `impl` names a typer app (or click command)."""

    help: str = ""


def spec_dump(spec: _Spec) -> dict[str, Any]:
    """JSON-friendly view for `evalscope list --json` and the plugin listing."""
    return spec.model_dump(mode="json")
