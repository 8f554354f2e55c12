"""Every hook EvalScope plugins can implement, in one place.

A plugin is a module registered under the entry-point group `evalscope.plugins` whose functions
are decorated with `evalscope.hookimpl`. Three kinds of hooks:

* Registration hooks (`evalscope_register_*`) — *all results are collected*: each plugin returns
  a list of small specs (see `evalscope.specs`). They must be cheap: no heavy imports.
* Resolver hooks (`firstresult=True`) — *the first non-None answer wins*, in plugin order
  (later-registered plugins first, so a third party can override a built-in).
* Lifecycle hooks (`evalscope_on_*`) — *every plugin is called, each in isolation*: the core calls
  them one implementation at a time and logs (never raises) an exception, so one broken reporter
  cannot kill a run. Their return values are ignored.

Hooks evolve by gaining arguments, never by renaming; implementations may accept any subset of
the arguments (pluggy passes only those a function names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "evalscope"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

if TYPE_CHECKING:
    from pathlib import Path

    from evalscope.collections.loading import MemberLoader
    from evalscope.config import TaskConfig
    from evalscope.datasets import DatasetLoader, DataSource
    from evalscope.report import Report, SampleRecord
    from evalscope.run_context import RunInfo
    from evalscope.specs import (
        BackendSpec,
        BenchmarkSpec,
        CommandSpec,
        MetricSpec,
        ModelSpec,
        ReporterSpec,
        RunnerSpec,
        ScorerSpec,
    )


# --- registration: all results collected -------------------------------------------------------


@hookspec
def evalscope_register_benchmarks() -> list[BenchmarkSpec]:
    """Return the benchmarks this plugin provides. All plugins' lists are concatenated."""
    raise NotImplementedError


@hookspec
def evalscope_register_models() -> list[ModelSpec]:
    """Return the model families this plugin provides (API clients, local engines, mocks)."""
    raise NotImplementedError


@hookspec
def evalscope_register_scorers() -> list[ScorerSpec]:
    """Return the scorers this plugin provides: each judges one completion (`evalscope.scoring`)."""
    raise NotImplementedError


@hookspec
def evalscope_register_metrics() -> list[MetricSpec]:
    """Return the metrics this plugin provides: each aggregates per-sample values with an uncertainty."""
    raise NotImplementedError


@hookspec
def evalscope_register_backends() -> list[BackendSpec]:
    """Return the evaluation backends (engines) this plugin provides, selected by `--backend`."""
    raise NotImplementedError


@hookspec
def evalscope_register_runners() -> list[RunnerSpec]:
    """Return the runners this plugin provides (where a run's work executes), selected by `--runner`."""
    raise NotImplementedError


@hookspec
def evalscope_register_reporters() -> list[ReporterSpec]:
    """Return the reporters this plugin provides (they render or export finished runs).

    All results are collected. `ReporterSpec.accepts` says how each is called: with an eval run's
    reports, or with a `evalscope.run_record.RunRecord` after `eval` and `perf` (experiment trackers).
    """
    raise NotImplementedError


@hookspec
def evalscope_register_commands() -> list[CommandSpec]:
    """Return CLI subcommands (e.g. `perf`, `app`); each is imported only when invoked."""
    raise NotImplementedError


# --- resolvers: first non-None wins ---------------------------------------------------------------


@hookspec(firstresult=True)
def evalscope_resolve_dataset_loader(source: DataSource) -> DatasetLoader | None:
    """Return a loader able to read `source` (a local folder, a hub id, ...), or None to pass.

    First non-None result wins. The native plugin answers for local folders and the HF/ModelScope
    hubs; a plugin can claim other schemes (s3://, a company data lake) by answering first.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def evalscope_resolve_model(config: TaskConfig) -> str | None:
    """Return the canonical model name to use for `config` when the user named no model family.

    First non-None wins. Used to map `--eval-type` / `--api-url` / `--model` onto a registered
    model (e.g. `service` → `native/openai_api`).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def evalscope_resolve_collection_loader(data_dir: Path | None) -> MemberLoader | None:
    """Return the loader that turns a collection member (`evalscope.collections.DatasetInfo`) into its
    rendered samples, reading local data under `data_dir` (None: the usual default), or None to pass.

    First non-None wins. The native plugin answers with its benchmark adapters and data loader, so
    `WeightedSampler(schema).sample(n)` works as in EvalScope without naming an engine.
    """
    raise NotImplementedError


# --- lifecycle: every plugin called, each in isolation ------------------------------------------


@hookspec
def evalscope_on_run_start(run: RunInfo, config: TaskConfig) -> None:
    """Called once before a run starts evaluating. Exceptions are logged, never propagated."""


@hookspec
def evalscope_on_sample_done(run: RunInfo, record: SampleRecord) -> None:
    """Called after each sample is scored (from the engine's event loop: keep it fast)."""


@hookspec
def evalscope_on_run_end(run: RunInfo, reports: list[Report], error: BaseException | None) -> None:
    """Called once when a run ends, successfully (`error` is None) or not."""
