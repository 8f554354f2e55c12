"""`run_task`: validate, pick the backend through the registry, run it, write reports, tell plugins.

Order matters for "bad input loses nothing": the backend's `prepare` validates everything
(benchmark names, dataset files, model settings) *before* the run folder is created, so a typo
never leaves a half-written output behind.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from evalscope.config import TaskConfig, load_task_config
from evalscope.report import Report
from evalscope.run_context import (
    RunInfo,
    atomic_write_json,
    atomic_write_text,
    call_lifecycle,
    check_run_paths,
    choose_run_dir,
    reset_lifecycle_failures,
    setup_run_logging,
)

log = logging.getLogger("evalscope.run")


class Backend(Protocol):
    """An evaluation engine. `prepare` must not write anything; `run` writes into `run.run_dir`."""

    def prepare(self, config: TaskConfig) -> Any: ...

    def run(self, prepared: Any, run: RunInfo) -> list[Report]: ...


class ListsDatasets(Protocol):
    """Optional for a backend: what datasets it can evaluate (`evalscope list --backend <name>`).

    Engines such as OpenCompass know their own dataset catalogue; the CLI asks the backend instead of
    our benchmark registry. Each entry has at least `name`; `description` is shown when present.
    """

    def list_datasets(self) -> list[dict[str, str]]: ...


class Reporter(Protocol):
    def __call__(self, reports: list[Report], run: RunInfo, config: TaskConfig) -> None: ...


#: Backends provided by distributions of this project: an unknown one listed here says what to install.
KNOWN_BACKEND_PLUGINS = {"opencompass": "opencompass", "vlmeval": "vlmeval", "rag": "rag"}


def _resolve_backend(name: str) -> Any:
    from evalscope import registry
    from evalscope.distributions import install_hint
    from evalscope.errors import MissingDependencyError, UnknownNameError

    try:
        return registry.backends().resolve(name)
    except UnknownNameError:
        extra = KNOWN_BACKEND_PLUGINS.get(name.lower())
        if extra is None:
            raise
        raise MissingDependencyError(
            f"The {name} backend is provided by the evalscope-{extra} distribution, which is not installed.",
            hint=install_hint(f"evalscope-{extra}"),
        ) from None


def report_keys(reports: list[Report]) -> dict[str, Report]:
    """Reports keyed by dataset name; when several models report one dataset, `<dataset>@<model>`.

    Why: engines such as OpenCompass evaluate several models in one run, and a dict keyed by the
    dataset alone would silently keep only the last model's report.
    """
    count: dict[str, int] = {}
    for rep in reports:
        count[rep.dataset_name] = count.get(rep.dataset_name, 0) + 1
    return {
        (rep.dataset_name if count[rep.dataset_name] == 1 else f"{rep.dataset_name}@{rep.model_name}"): rep
        for rep in reports
    }


def run_task(
    task_cfg: TaskConfig | dict[str, Any] | str | os.PathLike[str],
    *,
    on_start: Callable[[RunInfo], None] | None = None,
) -> dict[str, Report]:
    """Run an evaluation and return its reports keyed by dataset name (as EvalScope's run_task does).

    `on_start` is called once the run folder exists, before any request: the CLI prints the folder
    there, so a user who interrupts the run knows what to pass to `--use-cache`.
    """
    from evalscope import registry
    from evalscope.secrets import register_secrets

    config = load_task_config(task_cfg)
    register_secrets(config.secret_values())
    check_run_paths(config.work_dir, config.use_cache)
    backend_spec = _resolve_backend(config.backend)
    backend: Backend = registry.load_impl(backend_spec)()
    reporter_specs = (
        [registry.reporters().resolve(n) for n in config.reporters]
        if config.reporters is not None
        else [s for s in registry.reporters().all() if s.default]
    )
    prepared = backend.prepare(config)

    run_dir = choose_run_dir(config.work_dir, config.use_cache)
    run_dir.mkdir(parents=True, exist_ok=True)
    run = RunInfo(
        run_dir=run_dir,
        # An external engine's config names the model itself (eval_config.models[0].path): the backend knows.
        model_name=getattr(prepared, "model_name", None) or config.display_model_name,
        backend=backend_spec.name,
        benchmarks=list(config.datasets),
    )
    handler = setup_run_logging(run.log_path, config.debug, config.secret_values())
    reports: list[Report] = []
    error: BaseException | None = None
    try:
        import yaml

        atomic_write_text(
            run_dir / "configs" / "task_config.yaml", yaml.safe_dump(config.public_dump(), sort_keys=False)
        )
        log.info("run folder: %s", run_dir)
        if on_start is not None:
            on_start(run)
        reset_lifecycle_failures()
        call_lifecycle("evalscope_on_run_start", run=run, config=config)
        reports = backend.run(prepared, run)
        for rep in reports:
            atomic_write_json(run.report_path(rep.dataset_name, rep.model_name), rep.model_dump(mode="json"))
        for spec in reporter_specs:
            try:
                reporter: Reporter = registry.load_impl(spec)
                reporter(reports, run, config)
            except Exception:
                log.exception("reporter %s failed; the reports are still on disk", spec.canonical_name)
        return report_keys(reports)
    except BaseException as exc:
        error = exc
        raise
    finally:
        call_lifecycle("evalscope_on_run_end", run=run, reports=reports, error=error)
        logging.getLogger("evalscope").removeHandler(handler)
        handler.close()
