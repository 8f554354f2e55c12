"""`--backend vlmeval` (also `VLMEvalKit`): VLMEvalKit evaluates vision-language models, EvalScope reports.

The flow (job file, engine run with time limits, secret scrubbing, failures, reviews, the cached dataset
listing) is the core's `evalscope.engines.backend.ExternalEngineBackend`; this module holds what is
VLMEvalKit's. `plan` validates the config, checks that every dataset's TSV is in the data folder (VLMEvalKit
downloads a missing one; this backend never does) and finds the engine's interpreter; `stage` links the TSVs
into the run folder; `engine_driver.py` runs VLMEvalKit; `convert` turns the driver's plan into one Report per
(model, dataset) (`results.py`).

Several models go into ONE engine run, as VLMEvalKit's own `run_task` loops over models: one start (~25 s of
imports) instead of one per model. Each report carries its model's name, which the core uses to file it
(`reports/<model>/<dataset>.json`) and to key `run_task`'s result (`<dataset>@<model>` when several models
report a dataset); reviews go to `reviews/<model>/<dataset>.jsonl`.

API keys never reach a file: each model's key travels in the engine's environment
(`EVALSCOPE_VLM_API_KEY_<i>`, named by the job file) and is scrubbed from the engine log and VLMEvalKit's files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.engines.backend import Converted, EngineRun, ExternalEngineBackend
from evalscope.engines.env import EngineSpec
from evalscope.engines.settings import datasets_from
from evalscope.errors import ConfigError, DatasetNotFoundError, closest

from evalscope_vlmeval.results import dataset_records, dataset_report
from evalscope_vlmeval.settings import ResolvedModel, VLMEvalConfig, data_dir_for, resolve_models

VLMEVAL = EngineSpec(
    name="vlmeval",
    module="vlmeval",
    distribution="ms-vlmeval",
    pin="0.0.20",
    plugin_package="evalscope-vlmeval",
)


@dataclass(kw_only=True)
class PreparedRun(EngineRun):
    models: list[ResolvedModel]
    data_files: dict[str, Path]


class VLMEvalBackend(ExternalEngineBackend[VLMEvalConfig, PreparedRun]):
    """The `vlmeval` backend (see the module docstring)."""

    name = "vlmeval"
    label = "VLMEvalKit"
    engine = VLMEVAL
    driver = Path(__file__).with_name("engine_driver.py")
    settings_model = VLMEvalConfig

    def plan(self, config: TaskConfig, settings: VLMEvalConfig) -> PreparedRun:
        ec = settings
        data = datasets_from(ec.data, config, key="data", example="[MMBench_DEV_EN]")
        models = resolve_models(config, ec)
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
        engine = self.locate(ec)
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
        key_env = {
            variable: m.api_key
            for i, m in enumerate(models)
            if (variable := m.key_env(i)) is not None and m.api_key is not None
        }
        return PreparedRun(
            engine=engine,
            job=job,
            model_names=[m.name for m in models],
            dataset_names=data,
            key_env=key_env,
            env={"PRED_FORMAT": "xlsx", "EVAL_FORMAT": "csv"},
            models=models,
            data_files=files,
        )

    def stage(self, prepared: PreparedRun, folder: Path) -> dict[str, str]:
        """Link the TSVs into `<run>/vlmeval/LMUData/`: VLMEvalKit writes decoded images next to its data, and
        the user's folder stays untouched."""
        lmu = folder / "LMUData"
        lmu.mkdir(parents=True, exist_ok=True)
        for name, src in prepared.data_files.items():
            link = lmu / f"{name}.tsv"
            if not link.exists():
                link.symlink_to(src.resolve())
        return {"LMUData": str(lmu)}

    def convert(self, prepared: PreparedRun, plan: dict[str, Any]) -> Iterator[Converted]:
        """One Report per (model, dataset), in the job's model order."""
        for model in prepared.models:
            for name in prepared.dataset_names:
                entry = plan["models"][model.alias]["datasets"][name]
                records = dataset_records(name, entry)
                fields = self.report_fields(
                    prepared,
                    pretty_name=f"{name} (VLMEvalKit)",
                    benchmark_version=f"ms-vlmeval-{prepared.engine.version}",
                    engine_model=model.alias,
                    engine_metrics=entry.get("metrics") or {},
                    engine_rows_file=entry.get("rows_file"),
                )
                report = dataset_report(name, entry, records, model_name=model.name, fields=fields)
                yield Converted(report, records)


def list_datasets() -> list[dict[str, str]]:
    """VLMEvalKit's supported datasets, cached per engine version. Any other name works too when
    `<data_dir>/<name>.tsv` exists (a custom dataset)."""
    return VLMEvalBackend().list_datasets()


def _whole(limit: float | None) -> int | None:
    if limit is None:
        return None
    if limit < 1:
        raise ConfigError("the vlmeval backend takes a whole number of rows as limit (VLMEvalKit's --limit).")
    return int(limit)
