"""`ExternalEngineBackend`: the template of a backend that hands the evaluating to another framework.

The engine (OpenCompass, VLMEvalKit, ...) runs in its own interpreter, driven as a subprocess; EvalScope keeps
the command line, the config and the reports. What every such backend does is here; a plugin writes four
things:

* **settings**: a pydantic model subclassing `EngineSettings` (`settings_model`), its `eval_config` keys under
  EvalScope 1.x's names (the spec's `eval_config = "package.module:Model"` names it too);
* **`plan(config, settings)`**: every check that needs no output, then the job for the driver, returned as an
  `EngineRun` (or a dataclass extending it). It calls `self.locate(settings)` for the engine's interpreter
  after the checks that do not need the engine, so bad input reads the same with or without it installed;
* **a driver** (`driver`): a script the engine's interpreter imports, `run(job) -> plan` (and optionally
  `catalogue()`), standard library + the engine only; see `driver/evalscope_driver.py`;
* **`convert(prepared, plan)`**: the result mapping, one `Converted(report, records)` per (model, dataset).

The template does the rest. `prepare` parses the settings (unknown keys with the closest names), refuses
`reuse` without `--use-cache`, and fills in the run's time limits, offline flag and public config. `run` writes
`<run>/<name>/job.json` (no secret: API keys travel in the engine's environment, `EngineRun.key_env`), runs the
driver under the time limits with its output in `engine.log` (redacted as it streams), scrubs the secrets from
the files the engine wrote itself, explains a failure (the driver's verdict on bad input, the items that failed,
else the end of the log), and writes `reviews/<model>/<dataset>.jsonl` only once every (model, dataset)
converted, so a failed run leaves no report that looks finished. `list_datasets` (`evalscope list --backend X`)
asks the driver's `catalogue()` once per engine version and keeps the answer on disk, unless the plugin
answers `catalogue(engine)` itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar, cast

from evalscope.config import TaskConfig
from evalscope.engines.env import EngineInstall, EngineSpec, find_engine
from evalscope.engines.job import (
    JobFiles,
    ask_driver_catalogue,
    driver_command,
    engine_environment,
    explain_failure,
    read_engine_json,
)
from evalscope.engines.process import EngineFailed, run_engine, scrub_secrets
from evalscope.engines.settings import EngineSettings, idle_timeout_for, parse_settings
from evalscope.errors import ConfigError
from evalscope.report import Report, SampleRecord
from evalscope.run_context import RunInfo, atomic_write_json, atomic_write_text

__all__ = ["Converted", "EngineRun", "ExternalEngineBackend"]


@dataclass(kw_only=True)
class EngineRun:
    """What `prepare` hands to `run`. A plugin extends it with what its result mapping needs."""

    engine: EngineInstall
    job: dict[str, Any]  # the job file's own keys; no secret (the template adds the file paths)
    model_names: list[str]  # each model's report name (reports/<name>/), in the job's order
    dataset_names: list[str]
    #: variable → API key: the keys reach the engine in its environment only, never a file (nor a repr)
    key_env: dict[str, str] = field(default_factory=dict, repr=False)
    env: dict[str, str] = field(default_factory=dict)  # more variables for the engine (its data folder, ...)
    # filled in by the template's `prepare`:
    offline: bool = False
    timeout_s: float | None = None
    idle_timeout_s: float = 600.0
    public_config: dict[str, Any] = field(default_factory=dict)  # secrets redacted by the core

    @property
    def model_name(self) -> str:
        """The run's own model name (`RunInfo.model_name`): the first model's, so default paths are real."""
        return self.model_names[0]

    def secrets(self) -> list[str]:
        return sorted({key for key in self.key_env.values() if key and key != "EMPTY"})


class Converted(NamedTuple):
    """One (model, dataset) converted: its report (which names both) and its rows, written as reviews."""

    report: Report
    records: list[SampleRecord]


SettingsT = TypeVar("SettingsT", bound=EngineSettings)
RunT = TypeVar("RunT", bound=EngineRun)


class ExternalEngineBackend(Generic[SettingsT, RunT]):
    """The shared flow of an external-engine backend (see the module docstring); subclasses set the class
    attributes and write `plan` and `convert`."""

    #: the backend's name: its subfolder of the run, `Report.backend`, docs/backends/<name>.md
    name: ClassVar[str]
    label: ClassVar[str]  # the engine as messages name it ("OpenCompass")
    engine: ClassVar[EngineSpec]
    driver: ClassVar[Path]  # the plugin's engine-side script (`run(job) -> plan`)
    settings_model: ClassVar[type[EngineSettings]]
    unset_env: ClassVar[tuple[str, ...]] = ()  # our variables the engine must not see

    # --- what a plugin writes ---------------------------------------------------------------------------

    def plan(self, config: TaskConfig, settings: SettingsT) -> RunT:
        """Validate (writing nothing) and build the job; call `self.locate(settings)` once input is checked."""
        raise NotImplementedError

    def convert(self, prepared: RunT, plan: Any) -> Iterable[Converted]:
        """The driver's plan (and the engine's files it points at) → one `Converted` per (model, dataset)."""
        raise NotImplementedError

    def stage(self, prepared: RunT, folder: Path) -> dict[str, str]:
        """Put what the engine reads into its folder of the run, before the job starts; return further
        environment variables for it. Default: nothing."""
        return {}

    def catalogue(self, engine: EngineInstall) -> list[dict[str, str]]:
        """`evalscope list --backend <name>` rows (`name`, `description`). Default: the driver's `catalogue()`
        (names), asked once per engine version and cached in `$EVALSCOPE_CACHE_DIR/engines/`."""
        from evalscope.cache_dirs import cache_dir

        cache = cache_dir("engines", f"{self.engine.name}-{engine.version}-datasets.json")
        if cache.is_file():
            names = json.loads(cache.read_text(encoding="utf-8"))
        else:
            names = ask_driver_catalogue(engine, self.driver, self.label)
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(names), encoding="utf-8")
        return [{"name": str(n), "description": f"{self.label} {engine.version}"} for n in names]

    # --- the template -----------------------------------------------------------------------------------

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"evalscope.{self.name}")

    def prepare(self, config: TaskConfig) -> RunT:
        settings = cast(SettingsT, parse_settings(self.settings_model, config, backend=self.name))
        if settings.reuse and config.use_cache is None:
            raise ConfigError(
                f"eval_config.reuse asks {self.label} to reuse earlier outputs, but this run has no earlier folder.",
                hint="resume a run with `--use-cache <run folder>` (use_cache: in a config file): the engine then "
                "reuses what it wrote there",
            )
        prepared = self.plan(config, settings)
        if settings.work_dir is not None and Path(settings.work_dir) != config.work_dir:
            self.log.warning("eval_config.work_dir %s is not used: run folders are created under work_dir (%s); "
                             "set work_dir at the top level of the config", settings.work_dir, config.work_dir)  # fmt: skip
        return replace(
            prepared,
            offline=config.is_offline(),
            timeout_s=settings.timeout,
            idle_timeout_s=idle_timeout_for(settings, config),
            public_config=config.public_dump(),
        )

    def locate(self, settings: EngineSettings) -> EngineInstall:
        """The engine's interpreter (`eval_config.python`, `$EVALSCOPE_<ENGINE>_PYTHON`, the engines dir, ours)."""
        return find_engine(self.engine, settings.python)

    def run(self, prepared: RunT, run: RunInfo) -> list[Report]:
        p = prepared
        files = JobFiles(run.run_dir / self.name)
        files.folder.mkdir(parents=True, exist_ok=True)
        files.clear_stale()
        extra_env = {**p.env, **self.stage(p, files.folder), **p.key_env}
        atomic_write_json(files.job, {**p.job, **files.job_keys()})
        self.log.info("%s %s (%s): %s on %s", self.label, p.engine.version, p.engine.python,
                      ", ".join(p.model_names), ", ".join(p.dataset_names))  # fmt: skip
        secrets = p.secrets()
        try:
            result = run_engine(
                driver_command(p.engine.python, self.driver, str(files.job)),
                log_path=files.log,
                env=engine_environment(extra_env, offline=p.offline, unset=self.unset_env),
                cwd=files.folder,
                timeout_s=p.timeout_s,
                idle_timeout_s=p.idle_timeout_s,
                secrets=secrets,
                what=self.label,
            )
        except EngineFailed as exc:
            raise explain_failure(exc, files) from None
        finally:
            scrub_secrets(files.folder, secrets)
        self.log.info("%s finished in %.0f s; log: %s", self.label, result.elapsed_s, result.log_path)
        converted = list(self.convert(p, read_engine_json(files.plan, self.label)))
        for report, records in converted:  # only once every (model, dataset) converted
            # the core's layout, under this model's name: reviews/<model>/<dataset>.jsonl
            model_run = replace(run, model_name=report.model_name)
            atomic_write_text(
                model_run.reviews_path(report.dataset_name),
                "".join(r.model_dump_json() + "\n" for r in records),
            )
        return [c.report for c in converted]

    def report_fields(
        self, prepared: RunT, *, pretty_name: str, benchmark_version: str, **extra: Any
    ) -> dict[str, Any]:
        """The `Report` fields every engine report carries; `extra` goes to `Report.extra` after the engine's
        name and version."""
        return {
            "pretty_name": pretty_name,
            "benchmark_version": benchmark_version,
            "backend": self.name,
            "config": prepared.public_config,
            "extra": {"engine": self.name, "engine_version": prepared.engine.version, **extra},
        }

    def list_datasets(self, python: str | None = None) -> list[dict[str, str]]:
        """What the installed engine offers (`evalscope list --backend <name>`)."""
        return self.catalogue(find_engine(self.engine, python))
