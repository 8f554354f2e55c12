"""`--backend opencompass`: OpenCompass evaluates, EvalScope keeps the command line, the config and the reports.

The flow (job file, engine run with time limits, secret scrubbing, failures, reviews) is the core's
`evalscope.engines.backend.ExternalEngineBackend`; this module holds what is OpenCompass's. `plan` validates
everything it can without the engine's ~20 s import: the config keys, the model, the data folder, then the
engine's interpreter, the dataset names (against the installed engine's config folder) and the local data.
`engine_driver.py` turns the job into an OpenCompass config and runs it; `convert` turns what OpenCompass wrote
into one Report per (model, dataset) (`results.py`).

Several models go into ONE OpenCompass job, as OpenCompass itself does it: one engine start (~20 s of
imports), one config file, one summary with a column per model. Each report carries its model's name, which
the core uses to file it (`reports/<model>/`) and to key `run_task`'s result (`<dataset>@<model>` when several
models report a dataset).

API keys never reach a file: the generated config says `key='ENV'` (one key shared by every model, passed as
`$OPENAI_API_KEY`, so the config file also runs under OpenCompass's own CLI) or, when the models' keys differ,
`key='ENV:EVALSCOPE_OPENCOMPASS_KEY_<i>'`, which the driver resolves in memory when it builds model i.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.engines.backend import Converted, EngineRun, ExternalEngineBackend
from evalscope.engines.env import EngineInstall, EngineSpec, find_engine
from evalscope.engines.settings import datasets_from
from evalscope.errors import ConfigError, DatasetNotFoundError

from evalscope_opencompass.catalog import DatasetChoice, load_catalog
from evalscope_opencompass.data_check import missing_local_data
from evalscope_opencompass.results import PlanEntry, build_dataset_report, load_subset
from evalscope_opencompass.settings import (
    META_TEMPLATES,
    OpenCompassEvalConfig,
    OpenCompassModel,
    data_dir_for,
    limit_for,
    model_names,
    models_for,
)

OPENCOMPASS = EngineSpec(
    name="opencompass",
    module="opencompass",
    distribution="opencompass",
    pin="0.5.4",
    plugin_package="evalscope-opencompass",
)
#: Per-model key variables, when the models' keys differ; the driver reads `key='ENV:<variable>'`.
KEY_VARIABLE = "EVALSCOPE_OPENCOMPASS_KEY_{index}"


@dataclass(kw_only=True)
class PreparedRun(EngineRun):
    datasets: list[DatasetChoice]
    models: list[dict[str, Any]]  # OpenCompass model configs, no key in them (see `key_env`)
    limit: int | float | str | None


class OpenCompassBackend(ExternalEngineBackend[OpenCompassEvalConfig, PreparedRun]):
    """The `opencompass` backend (see the module docstring)."""

    name = "opencompass"
    label = "OpenCompass"
    engine = OPENCOMPASS
    driver = Path(__file__).with_name("engine_driver.py")
    settings_model = OpenCompassEvalConfig
    unset_env = ("DATASET_SOURCE",)  # ModelScope/HF sources would download; the local folder is the source

    def plan(self, config: TaskConfig, settings: OpenCompassEvalConfig) -> PreparedRun:
        # Input errors first, so a bad config is reported the same with or without the engine installed.
        ec = settings
        names = datasets_from(
            ec.datasets, config, key="datasets", example="[gsm8k, mmlu]",
            hint="`evalscope list --backend opencompass` shows what the installed OpenCompass offers",
        )  # fmt: skip
        models = models_for(config, ec)
        abbrs = model_names(models)
        key_fields, key_env = _key_plan(models, config)
        model_dicts = [
            _model_dict(m, config, ec.generation_kwargs, name, key)
            for m, name, key in zip(models, abbrs, key_fields, strict=True)
        ]
        data_dir = data_dir_for(ec)
        limit = limit_for(config, ec)
        engine = self.locate(ec)
        choices = [load_catalog(engine.package_dir).resolve(n) for n in names]
        missing = [
            m for c in choices for m in missing_local_data(c.config_file, engine.package_dir, data_dir)
        ]
        if missing:
            raise DatasetNotFoundError(
                f"Local data not found: {', '.join(missing)}. The opencompass backend never downloads datasets.",
                hint=f"put OpenCompass's data under {data_dir} (the layout of its data archive: data/<dataset>/...), "
                "or point eval_config.data_dir elsewhere; `python -m evalscope_opencompass.local_data` writes "
                "GSM8K and MMLU in that layout from EvalScope's local copies",
            )
        job = {
            "data_dir": str(data_dir),
            "datasets": [
                {
                    "name": c.name,
                    "config": str(c.config_file),
                    "variable": c.variable,
                    "subsets": config.args_for(c.name).subset_list,
                }
                for c in choices
            ],
            "limit": limit,
            "mode": ec.mode,
            "reuse": config.use_cache is not None,
            "models": model_dicts,
        }
        return PreparedRun(
            engine=engine,
            job=job,
            model_names=abbrs,
            dataset_names=[c.name for c in choices],
            key_env=key_env,
            env={"COMPASS_DATA_CACHE": str(data_dir)},
            datasets=choices,
            models=model_dicts,
            limit=limit,
        )

    def convert(self, prepared: PreparedRun, plan: dict[str, Any]) -> Iterator[Converted]:
        """One Report per (model, dataset), in the job's model order."""
        output_dir = Path(plan["output_dir"])
        entries = [PlanEntry(e["dataset"], e["abbr"], e["subset"]) for e in plan["entries"]]
        for abbr, name in zip(plan["model_abbrs"], prepared.model_names, strict=True):
            for choice in prepared.datasets:
                subsets = [load_subset(output_dir, abbr, e) for e in entries if e.dataset == choice.name]
                fields = self.report_fields(
                    prepared,
                    pretty_name=f"{choice.name} (OpenCompass {choice.config_name})",
                    benchmark_version=f"opencompass-{prepared.engine.version}/{choice.config_name}",
                    engine_config=str(choice.config_file),
                    engine_output_dir=str(output_dir),
                    engine_model_abbr=abbr,
                )
                report = build_dataset_report(choice.name, subsets, model_name=name, fields=fields)
                yield Converted(report, [r for s in subsets for r in s.records])

    def catalogue(self, engine: EngineInstall) -> list[dict[str, str]]:
        """EvalScope's names, then every dataset config file the installed OpenCompass ships, each usable in
        `eval_config.datasets` (a file scan: no import, no cache needed)."""
        return load_catalog(engine.package_dir).rows()


def list_datasets(include_configs: bool = True) -> list[dict[str, str]]:
    return load_catalog(find_engine(OPENCOMPASS).package_dir).rows(include_configs)


def _key_plan(models: list[OpenCompassModel], config: TaskConfig) -> tuple[list[str | None], dict[str, str]]:
    """Each model's `key` field in the job (None: a local model) and the environment that carries the keys.

    One key for every API model (the usual case, `EMPTY` included): `key='ENV'` and `$OPENAI_API_KEY`, which
    OpenCompass reads itself, so the config file also runs by hand. Different keys: model i says
    `key='ENV:EVALSCOPE_OPENCOMPASS_KEY_<i>'` and the driver hands that variable's value to the model class
    in memory (OpenCompass's `ENV` names one variable for all models).
    """
    default = config.api_key.get_secret_value() if config.api_key is not None else ""
    keys = [(m.key or default or "EMPTY") if m.is_api else None for m in models]
    distinct = {k for k in keys if k is not None}
    if len(distinct) <= 1:
        shared = next(iter(distinct), "EMPTY")
        return ["ENV" if k is not None else None for k in keys], {"OPENAI_API_KEY": shared}
    fields: list[str | None] = []
    env = {"OPENAI_API_KEY": "EMPTY"}  # no model reads it; never the caller's own key
    for i, key in enumerate(keys):
        if key is None:
            fields.append(None)
            continue
        variable = KEY_VARIABLE.format(index=i)
        env[variable] = key
        fields.append(f"ENV:{variable}")
    return fields, env


def _model_dict(
    model: OpenCompassModel,
    config: TaskConfig,
    generation_kwargs: dict[str, Any],
    abbr: str,
    key: str | None,
) -> dict[str, Any]:
    """The OpenCompass model config: an API model (OpenAI class) or a local Hugging Face checkpoint."""
    gen = config.generation_config
    max_out = model.max_out_len or gen.effective_max_tokens() or generation_kwargs.get("max_out_len") or 2048
    temperature = model.temperature if model.temperature is not None else gen.temperature
    if temperature is None:
        temperature = generation_kwargs.get("temperature")
    meta = (
        META_TEMPLATES[model.meta_template] if isinstance(model.meta_template, str) else model.meta_template
    )
    out: dict[str, Any] = {
        "abbr": abbr,
        "path": model.path,
        "max_out_len": int(max_out),
        "max_seq_len": model.max_seq_len,
        "batch_size": model.batch_size or config.eval_batch_size,
        "run_cfg": {"num_gpus": 0},
        # OpenCompass lets a dataset's own `max_out_len` (512 for GSM8K) win over the model's; one the user
        # set on the model is meant for every dataset this model runs, so the driver writes it into the
        # inferencers of that model's copy of the datasets (engine_driver.bound_generation)
        "_max_out_len_override": model.max_out_len is not None,
    }
    if model.is_api:
        base = (model.openai_api_base or "").rstrip("/")
        out.update(
            {
                "type": _model_type(model.type or "OpenAI"),
                "openai_api_base": base if base.endswith("/chat/completions") else base + "/chat/completions",
                "key": key,
                "meta_template": meta,
                "query_per_second": model.query_per_second,
                "retry": model.retry or config.retry.max_retries + 1,
                "temperature": temperature,
                "tokenizer_path": model.tokenizer_path,
                "_needs_offline_tokenizer": model.tokenizer_path is None,
            }
        )
        if model.type == "OpenAISDK" and out["openai_api_base"].endswith("/chat/completions"):
            out["openai_api_base"] = out["openai_api_base"].removesuffix(
                "/chat/completions"
            )  # the SDK adds it
        if model.extra_body is not None:
            out["extra_body"] = model.extra_body
    else:
        folder = Path(model.path).expanduser()
        if not folder.is_dir():
            raise ConfigError(
                f"Model path {model.path!r} has no openai_api_base and is not a local folder.",
                hint="for a service set openai_api_base (or --api-url); for a local checkpoint give its folder",
            )
        kind = "HuggingFacewithChatTemplate" if model.is_chat else "HuggingFaceBaseModel"
        out.update(
            {
                "type": _model_type(model.type or kind),
                "path": str(folder.resolve()),
                "generation_kwargs": model.generation_kwargs or {"do_sample": False},
                "model_kwargs": {"device_map": "cpu", "torch_dtype": "torch.float32"},
            }
        )
        if temperature:
            out["generation_kwargs"] = {
                **out["generation_kwargs"],
                "temperature": temperature,
                "do_sample": True,
            }
    out.update(model.engine_kwargs)
    return out


def _model_type(name: str) -> str:
    return name if "." in name else f"opencompass.models.{name}"
