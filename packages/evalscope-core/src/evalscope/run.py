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

__all__ = ["Backend", "ListsDatasets", "Reporter", "check_capabilities", "report_keys", "run_task"]

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


def _resolve_backend(name: str) -> Any:
    from evalscope import registry
    from evalscope.distributions import install_hint, provider_of
    from evalscope.errors import MissingDependencyError, UnknownNameError

    try:
        return registry.backends().resolve(name)
    except UnknownNameError:
        dist = provider_of("backend", name)
        if dist is None:
            raise
        raise MissingDependencyError(
            f"The {name} backend is provided by the {dist} distribution, which is not installed.",
            hint=install_hint(dist),
        ) from None


def check_capabilities(spec: Any, config: TaskConfig) -> None:
    """Refuse a run-wide flag the backend does not honour, naming its rule (never ignore it silently).

    Only flags the user set count (`model_fields_set`): a default is not a request.
    """
    from evalscope.errors import ConfigError

    caps = spec.capabilities
    given = config.model_fields_set
    name = spec.name
    if config.limit is not None and "limit" in given:
        if not caps.limit:
            raise ConfigError(f"The {name} backend has no --limit; it evaluates whole datasets.",
                              hint="drop --limit (or set the engine's own limit in --eval-config)")  # fmt: skip
        if config.limit < 1 and not caps.fractional_limit:
            raise ConfigError(
                f"The {name} backend takes --limit as a whole number of samples per dataset, not a "
                f"fraction ({config.limit:g}).",
                hint="pass --limit N (e.g. --limit 100)",
            )
    if config.use_cache is not None and not caps.resume:
        raise ConfigError(f"The {name} backend cannot resume a run: --use-cache is not supported.",
                          hint="drop --use-cache to start a new run")  # fmt: skip
    if "eval_batch_size" in given and not caps.batch_size:
        raise ConfigError(f"The {name} backend sets its own parallelism: --eval-batch-size is not supported.",
                          hint="drop --eval-batch-size (or use the engine's setting in --eval-config)")  # fmt: skip
    if config.eval_config is not None and spec.eval_config is None:
        raise ConfigError(f"The {name} backend takes no --eval-config (eval_config).",
                          hint="drop it, or pick the backend it is meant for with --eval-backend")  # fmt: skip
    if not caps.judge and (config.judge.models or "judge" in given and config.judge.strategy != "auto"):
        raise ConfigError(f"The {name} backend does not score with the run's LLM judge (--judge).",
                          hint="drop --judge / --judge-model-args, or configure the engine's own judge")  # fmt: skip


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


def _send_to_trackers(specs: list[Any], reports: list[Report], run: RunInfo, config: TaskConfig) -> None:
    """The `accepts="record"` reporters (experiment trackers) get the run as a `RunRecord`."""
    from evalscope.run_record import record_from_reports, send_record

    record_specs = [s for s in specs if s.accepts == "record"]
    if not record_specs:
        return
    try:
        record = record_from_reports(reports, run, config)
    except Exception:  # e.g. an unreadable reviews file: the reports are written, the run stands
        log.exception("could not build the run record for %s", ", ".join(s.name for s in record_specs))
        return
    send_record(record, record_specs)


def run_task(
    task_cfg: TaskConfig | dict[str, Any] | str | os.PathLike[str],
    *,
    runner: str | None = None,
    runner_args: dict[str, Any] | None = None,
    on_start: Callable[[RunInfo], None] | None = None,
) -> dict[str, Report]:
    """Run an evaluation and return its reports keyed by dataset name (as EvalScope's run_task does).

    `runner` / `runner_args` override the config's (`run_task(cfg, runner="ray")`); the default
    runner, `local`, runs in this process. `on_start` is called once the run folder exists, before
    any request: the CLI prints the folder there, so a user who interrupts the run knows what to pass
    to `--use-cache`.
    """
    from evalscope import registry
    from evalscope.run_record import resolve_reporters
    from evalscope.runners import check_runner, resolve_runner
    from evalscope.secrets import register_secrets

    config = load_task_config(task_cfg)
    if runner is not None or runner_args is not None:
        update: dict[str, Any] = {} if runner is None else {"runner": runner}
        if runner_args is not None:
            update["runner_args"] = {**config.runner_args, **runner_args}
        config = TaskConfig.model_validate({**config.model_dump(exclude_unset=True), **update})
    register_secrets(config.secret_values())
    check_run_paths(config.work_dir, config.use_cache)
    backend_spec = _resolve_backend(config.backend)
    check_capabilities(backend_spec, config)
    runner_spec, executor = resolve_runner(config.runner, config.runner_args)
    check_runner(runner_spec, backend_spec)
    executor.check(config, backend_spec)
    backend: Backend = registry.load_impl(backend_spec)()
    reporter_specs = resolve_reporters(config.reporters)
    prepared = backend.prepare(config)

    run_dir = choose_run_dir(config.work_dir, config.use_cache)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # what check_run_paths cannot foresee: /proc, a read-only mount, a full disk
        from evalscope.errors import ConfigError

        flag = "--work-dir" if config.use_cache is None else "--use-cache"
        raise ConfigError(
            f"{flag}: cannot create the run folder {run_dir} ({exc.strerror or exc}).",
            hint="choose a folder you can write to, e.g. --work-dir ./outputs",
        ) from None
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
        from evalscope.yaml_text import dump_yaml

        atomic_write_text(run_dir / "configs" / "task_config.yaml", dump_yaml(config.public_dump()))
        log.info("run folder: %s", run_dir)
        if on_start is not None:
            on_start(run)
        reset_lifecycle_failures()
        call_lifecycle("evalscope_on_run_start", run=run, config=config)
        reports = executor.run_eval(backend, prepared, run)
        for rep in reports:
            atomic_write_json(run.report_path(rep.dataset_name, rep.model_name), rep.model_dump(mode="json"))
        for spec in reporter_specs:
            if spec.accepts == "record":
                continue
            try:
                reporter: Reporter = registry.load_impl(spec)
                reporter(reports, run, config)
            except Exception:
                log.exception("reporter %s failed; the reports are still on disk", spec.canonical_name)
        _send_to_trackers(reporter_specs, reports, run, config)
        return report_keys(reports)
    except BaseException as exc:
        error = exc
        raise
    finally:
        call_lifecycle("evalscope_on_run_end", run=run, reports=reports, error=error)
        logging.getLogger("evalscope").removeHandler(handler)
        handler.close()
