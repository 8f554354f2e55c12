"""`--backend vlmeval` (also `VLMEvalKit`): VLMEvalKit evaluates vision-language models, EvalScope reports.

`prepare` validates the config, finds the engine's interpreter and checks that every dataset's TSV is in the
data folder (VLMEvalKit downloads a missing one; this backend never does). `run` links those TSVs into
`<run>/vlmeval/LMUData/` — VLMEvalKit writes decoded images next to its data, and the user's folder stays
untouched — runs `engine_driver.py` in the engine's interpreter (log: `<run>/vlmeval/engine.log`), and turns
the driver's `plan.json` into one Report and one reviews file per (model, dataset). Nothing is written outside
`<run>/vlmeval/` before that conversion has succeeded.

Several models go into ONE engine run, as VLMEvalKit's own `run_task` loops over models: one start (~25 s of
imports) instead of one per model. Each report carries its model's name, which the core uses to file it
(`reports/<model>/<dataset>.json`) and to key `run_task`'s result (`<dataset>@<model>` when several models
report a dataset); reviews go to `reviews/<model>/<dataset>.jsonl`. The run's own model name
(`RunInfo.model_name`) is the first model's.

API keys never reach a file: each model's key travels in the engine's environment
(`EVALSCOPE_VLM_API_KEY_<i>`, named by the job file) and is scrubbed from the engine log and VLMEvalKit's files.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.engines.env import EngineInstall, EngineSpec, find_engine
from evalscope.engines.process import EngineFailed, run_engine, scrub_secrets
from evalscope.errors import ConfigError, DatasetNotFoundError, EvalScopeError, closest
from evalscope.report import Report
from evalscope.run_context import RunInfo, atomic_write_json, atomic_write_text

from evalscope_vlmeval.results import dataset_records, dataset_report
from evalscope_vlmeval.settings import ResolvedModel, data_dir_for, parse_eval_config, resolve_models

log = logging.getLogger("evalscope.vlmeval")

VLMEVAL = EngineSpec(
    name="vlmeval",
    module="vlmeval",
    distribution="ms-vlmeval",
    pin="0.0.20",
    plugin_package="evalscope-vlmeval",
)
DRIVER = Path(__file__).with_name("engine_driver.py")


@dataclass
class PreparedRun:
    engine: EngineInstall
    data: list[str]
    data_files: dict[str, Path]
    models: list[ResolvedModel]
    model_name: str  # the run's (RunInfo.model_name): the first model's
    job: dict[str, Any]
    offline: bool
    timeout_s: float | None
    idle_timeout_s: float
    public_config: dict[str, Any] = field(default_factory=dict)


class VLMEvalBackend:
    """The `vlmeval` backend (see the module docstring)."""

    def prepare(self, config: TaskConfig) -> PreparedRun:
        ec = parse_eval_config(config)
        data = ec.data or list(config.datasets)
        if not data:
            raise ConfigError("No datasets: set eval_config.data (e.g. [MMBench_DEV_EN]) or pass --datasets.")
        models = resolve_models(config, ec)
        if ec.reuse and config.use_cache is None:
            raise ConfigError(
                "eval_config.reuse asks VLMEvalKit to reuse earlier outputs, but this run has no earlier folder.",
                hint="resume a run with `--use-cache <run folder>`",
            )
        if ec.work_dir is not None and Path(ec.work_dir) != config.work_dir:
            log.warning("eval_config.work_dir %s is not used: run folders go under work_dir (%s)", ec.work_dir,
                        config.work_dir)  # fmt: skip
        data_dir = data_dir_for(ec)
        files = {name: data_dir / f"{name}.tsv" for name in data}
        missing = [name for name, path in files.items() if not path.is_file()]
        if missing:
            local = sorted(p.stem for p in data_dir.glob("*.tsv"))
            guesses = {name: closest(name, local) for name in missing}
            lines = "; ".join(
                f"{files[n]}"
                + (f" (did you mean {', '.join(repr(g) for g in guesses[n])}?)" if guesses[n] else "")
                for n in missing
            )
            raise DatasetNotFoundError(
                f"Local data not found: {lines}. The vlmeval backend never downloads datasets.",
                hint=f"put VLMEvalKit's <dataset>.tsv files into {data_dir} (or point eval_config.data_dir "
                f"elsewhere); TSVs there now: {', '.join(local) or 'none'}",
            )
        engine = find_engine(VLMEVAL, ec.python)
        job = {
            "data": data,
            "models": [
                {"alias": m.alias, "model": m.engine, "key_env": m.key_env(i)} for i, m in enumerate(models)
            ],
            "mode": ec.mode,
            "nproc": ec.api_nproc or ec.nproc or config.eval_batch_size,
            "retry": ec.retry or config.retry.max_retries + 1,
            "reuse": config.use_cache is not None,
            "judge": ec.judge,
            "limit": ec.limit if ec.limit is not None else _whole(config.limit),
            "verbose": ec.verbose,
        }
        return PreparedRun(
            engine=engine,
            data=data,
            data_files=files,
            models=models,
            model_name=models[0].name,
            job=job,
            offline=config.is_offline(),
            timeout_s=ec.timeout,
            idle_timeout_s=ec.idle_timeout or max(600.0, 5 * (config.timeout or 120.0)),
            public_config=config.public_dump(),  # secrets in eval_config redacted by the core
        )

    def run(self, prepared: PreparedRun, run: RunInfo) -> list[Report]:
        p = prepared
        vl_dir = run.run_dir / "vlmeval"
        lmu = vl_dir / "LMUData"
        lmu.mkdir(parents=True, exist_ok=True)
        for name, src in p.data_files.items():
            link = lmu / f"{name}.tsv"
            if not link.exists():
                link.symlink_to(src.resolve())
        job_path, plan_path, error_path = (
            vl_dir / "job.json",
            vl_dir / "plan.json",
            vl_dir / "driver_error.json",
        )
        for stale in (plan_path, error_path):
            stale.unlink(missing_ok=True)
        job = p.job | {
            "work_dir": str(vl_dir / "outputs"),
            "plan_path": str(plan_path),
            "error_path": str(error_path),
        }
        atomic_write_json(job_path, job)
        log.info("VLMEvalKit %s (%s): %s on %s", p.engine.version, p.engine.python,
                 ", ".join(m.name for m in p.models), ", ".join(p.data))  # fmt: skip
        secrets = self._secrets(p)
        try:
            result = run_engine(
                [str(p.engine.python), str(DRIVER), str(job_path)],
                log_path=vl_dir / "engine.log",
                env=self._engine_env(p, lmu),
                cwd=vl_dir,
                timeout_s=p.timeout_s,
                idle_timeout_s=p.idle_timeout_s,
                secrets=secrets,
                what="VLMEvalKit",
            )
        except EngineFailed as exc:
            raise self._explain(exc, error_path, plan_path) from None
        finally:
            scrub_secrets(vl_dir, secrets)
        log.info("VLMEvalKit finished in %.0f s; log: %s", result.elapsed_s, result.log_path)
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        return self._convert(p, run, plan)

    @staticmethod
    def _secrets(p: PreparedRun) -> list[str]:
        return sorted({m.api_key for m in p.models if m.api_key and m.api_key != "EMPTY"})

    @staticmethod
    def _engine_env(p: PreparedRun, lmu: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(
            {
                "LMUData": str(lmu),
                "PYTHONUNBUFFERED": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "PRED_FORMAT": "xlsx",
                "EVAL_FORMAT": "csv",
            }
        )
        for i, m in enumerate(p.models):
            name = m.key_env(i)
            if name is not None and m.api_key is not None:
                env[name] = m.api_key
        if p.offline:
            env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        return env

    @staticmethod
    def _explain(exc: EngineFailed, error_path: Path, plan_path: Path) -> EvalScopeError:
        if error_path.is_file():
            info = json.loads(error_path.read_text(encoding="utf-8"))
            cls = DatasetNotFoundError if info.get("kind") == "data" else ConfigError
            return cls(f"{info['message']} (engine log: {exc.log_path})")
        detail = ""
        if plan_path.is_file():
            plan = json.loads(plan_path.read_text(encoding="utf-8"))
            detail = "; ".join(
                f"{alias}/{n}: {d['error']}"
                for alias, m in plan["models"].items()
                for n, d in m["datasets"].items()
                if d.get("error")
            )
        return EngineFailed(
            exc.message.rsplit(" (engine log:", 1)[0] + (f": {detail}" if detail else ""),
            exc.log_path,
            exc.returncode,
            hint="the run folder keeps VLMEvalKit's partial outputs under vlmeval/; no report was written",
        )

    def _convert(self, p: PreparedRun, run: RunInfo, plan: dict[str, Any]) -> list[Report]:
        """One Report per (model, dataset), in the job's model order; reviews under each model's name."""
        reports, pending = [], []
        for model in p.models:
            # The core's own layout, under this model's name: reviews/<model>/<dataset>.jsonl.
            model_run = replace(run, model_name=model.name)
            for name in p.data:
                entry = plan["models"][model.alias]["datasets"][name]
                records = dataset_records(name, entry)
                fields = {
                    "pretty_name": f"{name} (VLMEvalKit)",
                    "benchmark_version": f"ms-vlmeval-{p.engine.version}",
                    "backend": "vlmeval",
                    "config": p.public_config,
                    "extra": {
                        "engine": "vlmeval",
                        "engine_version": p.engine.version,
                        "engine_model": model.alias,
                        "engine_metrics": entry.get("metrics") or {},
                        "engine_rows_file": entry.get("rows_file"),
                    },
                }
                reports.append(dataset_report(name, entry, records, model_name=model.name, fields=fields))
                lines = "".join(r.model_dump_json() + "\n" for r in records)
                pending.append((model_run.reviews_path(name), lines))
        for path, text in pending:  # only once every (model, dataset) converted
            atomic_write_text(path, text)
        return reports

    def list_datasets(self, python: str | None = None) -> list[dict[str, str]]:
        """VLMEvalKit's supported datasets (`evalscope list --backend vlmeval`), cached per engine version.

        Any other name works too when `<data_dir>/<name>.tsv` exists (a custom dataset)."""
        from evalscope_vlmeval.listing import supported_datasets

        engine = find_engine(VLMEVAL, python)
        return [
            {"name": n, "description": f"VLMEvalKit {engine.version}"} for n in supported_datasets(engine)
        ]


def list_datasets() -> list[dict[str, str]]:
    return VLMEvalBackend().list_datasets()


def _whole(limit: float | None) -> int | None:
    if limit is None:
        return None
    if limit < 1:
        raise ConfigError("the vlmeval backend takes a whole number of rows as limit (VLMEvalKit's --limit).")
    return int(limit)
