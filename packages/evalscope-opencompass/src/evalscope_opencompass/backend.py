"""`--backend opencompass`: OpenCompass evaluates, EvalScope keeps the command line, the config and the reports.

`prepare` validates everything it can without the engine's ~20 s import: the config keys, the engine's
interpreter, the dataset names (against the installed engine's config folder), the model, the data folder.
`run` writes a job file into `<run>/opencompass/`, runs `engine_driver.py` in the engine's interpreter (its
output streamed to `<run>/opencompass/engine.log`), then converts what OpenCompass wrote into one Report per
(model, dataset) and a `reviews/<model>/<dataset>.jsonl` for each. Until that conversion has succeeded nothing
is written outside `<run>/opencompass/`, so a failed run leaves a folder that says so (the log, the engine's
partial outputs) and no report that looks finished.

Several models go into ONE OpenCompass job, as OpenCompass itself does it: one engine start (~20 s of
imports), one config file, one summary with a column per model. Each report carries its model's name, which
the core uses to file it (`reports/<model>/`) and to key `run_task`'s result (`<dataset>@<model>` when several
models report a dataset). The run's own model name (`RunInfo.model_name`) is the first model's, so the run
folder's default paths point at a real model's folder.

API keys never reach a file: the generated config says `key='ENV'` (one key shared by every model, passed as
`$OPENAI_API_KEY`, so the config file also runs under OpenCompass's own CLI) or, when the models' keys differ,
`key='ENV:EVALSCOPE_OPENCOMPASS_KEY_<i>'`, which the driver resolves in memory when it builds model i.
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
from evalscope.errors import ConfigError, DatasetNotFoundError, EvalScopeError
from evalscope.report import Report
from evalscope.run_context import RunInfo, atomic_write_json, atomic_write_text

from evalscope_opencompass.catalog import DatasetChoice, load_catalog
from evalscope_opencompass.data_check import missing_local_data
from evalscope_opencompass.results import PlanEntry, build_dataset_report, load_subset, read_json
from evalscope_opencompass.settings import (
    META_TEMPLATES,
    OpenCompassModel,
    data_dir_for,
    limit_for,
    model_names,
    models_for,
    parse_eval_config,
)

log = logging.getLogger("evalscope.opencompass")

OPENCOMPASS = EngineSpec(
    name="opencompass",
    module="opencompass",
    distribution="opencompass",
    pin="0.5.4",
    plugin_package="evalscope-opencompass",
)
DRIVER = Path(__file__).with_name("engine_driver.py")
#: Per-model key variables, when the models' keys differ; the driver reads `key='ENV:<variable>'`.
KEY_VARIABLE = "EVALSCOPE_OPENCOMPASS_KEY_{index}"


@dataclass
class PreparedRun:
    engine: EngineInstall
    datasets: list[DatasetChoice]
    subsets: dict[str, list[str] | None]
    models: list[dict[str, Any]]  # OpenCompass model configs, no key in them (see `key_env`)
    model_names: list[str]  # each model's name: its OpenCompass abbr and its reports' model_name
    model_name: str  # the run's (RunInfo.model_name): the first model's
    key_env: dict[str, str] = field(repr=False)  # environment variable → API key, for the engine only
    data_dir: Path
    limit: int | float | str | None
    mode: str
    reuse: bool
    offline: bool
    timeout_s: float | None
    idle_timeout_s: float
    public_config: dict[str, Any] = field(default_factory=dict)


class OpenCompassBackend:
    """The `opencompass` backend (see the module docstring)."""

    def prepare(self, config: TaskConfig) -> PreparedRun:
        # Input errors first, so a bad config is reported the same with or without the engine installed.
        ec = parse_eval_config(config)
        names = ec.datasets or list(config.datasets)
        if not names:
            raise ConfigError(
                "No datasets: set eval_config.datasets (e.g. [gsm8k, mmlu]) or pass --datasets.",
                hint="`evalscope list --backend opencompass` shows what the installed OpenCompass offers",
            )
        models = models_for(config, ec)
        abbrs = model_names(models)
        if ec.reuse and config.use_cache is None:
            raise ConfigError(
                "eval_config.reuse asks OpenCompass to reuse earlier outputs, but this run has no earlier folder.",
                hint="resume a run with `--use-cache <run folder>` (use_cache: in a config file): the "
                "engine then reuses what it wrote there",
            )
        key_fields, key_env = _key_plan(models, config)
        model_dicts = [
            _model_dict(m, config, ec.generation_kwargs, name, key)
            for m, name, key in zip(models, abbrs, key_fields, strict=True)
        ]
        data_dir = data_dir_for(ec)
        limit = limit_for(config, ec)
        engine = find_engine(OPENCOMPASS, ec.python)
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
        if ec.work_dir is not None and Path(ec.work_dir) != config.work_dir:
            log.warning(
                "eval_config.work_dir %s is not used: run folders are created under work_dir (%s); "
                "set work_dir at the top level of the config",
                ec.work_dir,
                config.work_dir,
            )
        return PreparedRun(
            engine=engine,
            datasets=choices,
            subsets={c.name: config.args_for(c.name).subset_list for c in choices},
            models=model_dicts,
            model_names=abbrs,
            model_name=abbrs[0],
            key_env=key_env,
            data_dir=data_dir,
            limit=limit,
            mode=ec.mode,
            reuse=config.use_cache is not None,
            offline=config.is_offline(),
            timeout_s=ec.timeout,
            idle_timeout_s=ec.idle_timeout or max(600.0, 5 * (config.timeout or 120.0)),
            public_config=config.public_dump(),  # secrets in eval_config redacted by the core
        )

    def run(self, prepared: PreparedRun, run: RunInfo) -> list[Report]:
        p = prepared
        oc_dir = run.run_dir / "opencompass"
        oc_dir.mkdir(parents=True, exist_ok=True)
        job_path, plan_path, error_path = (
            oc_dir / "job.json",
            oc_dir / "plan.json",
            oc_dir / "driver_error.json",
        )
        for stale in (plan_path, error_path):
            stale.unlink(missing_ok=True)
        job = {
            "work_dir": str(oc_dir / "outputs"),
            "config_path": str(oc_dir / "config.py"),
            "plan_path": str(plan_path),
            "error_path": str(error_path),
            "data_dir": str(p.data_dir),
            "datasets": [
                {
                    "name": c.name,
                    "config": str(c.config_file),
                    "variable": c.variable,
                    "subsets": p.subsets[c.name],
                }
                for c in p.datasets
            ],
            "limit": p.limit,
            "mode": p.mode,
            "reuse": p.reuse,
            "models": p.models,
        }
        atomic_write_json(job_path, job)
        log.info(
            "opencompass %s (%s): %s on %s",
            p.engine.version,
            p.engine.python,
            ", ".join(p.model_names),
            ", ".join(c.name for c in p.datasets),
        )
        secrets = [key for key in p.key_env.values() if key != "EMPTY"]
        try:
            result = run_engine(
                [str(p.engine.python), str(DRIVER), str(job_path)],
                log_path=oc_dir / "engine.log",
                env=self._engine_env(p),
                cwd=oc_dir,
                timeout_s=p.timeout_s,
                idle_timeout_s=p.idle_timeout_s,
                secrets=secrets,
                what="OpenCompass",
            )
        except EngineFailed as exc:
            raise self._explain(exc, error_path) from None
        finally:
            scrub_secrets(oc_dir, secrets)
        log.info("OpenCompass finished in %.0f s; log: %s", result.elapsed_s, result.log_path)
        return self._convert(p, run, read_json(plan_path))

    # --- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _engine_env(p: PreparedRun) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.pop(
            "DATASET_SOURCE", None
        )  # ModelScope/HF sources would download; the local folder is the source
        env.update(
            {
                "COMPASS_DATA_CACHE": str(p.data_dir),
                "PYTHONUNBUFFERED": "1",
                "TOKENIZERS_PARALLELISM": "false",
                **p.key_env,
            }
        )
        if p.offline:
            env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        return env

    @staticmethod
    def _explain(exc: EngineFailed, error_path: Path) -> EvalScopeError:
        """The driver's own verdict on bad input, else the engine's failure with the end of its log."""
        if error_path.is_file():
            info = json.loads(error_path.read_text(encoding="utf-8"))
            cls = DatasetNotFoundError if info.get("kind") == "data" else ConfigError
            return cls(f"{info['message']} (engine log: {exc.log_path})")
        tail = _tail(exc.log_path, 12)
        return EngineFailed(
            exc.message.rsplit(" (engine log:", 1)[0] + (f"; last lines of its log:\n{tail}" if tail else ""),
            exc.log_path,
            exc.returncode,
            hint="the run folder keeps the engine's partial outputs under opencompass/; no report was written",
        )

    def _convert(self, p: PreparedRun, run: RunInfo, plan: dict[str, Any]) -> list[Report]:
        """One Report per (model, dataset), in the job's model order; reviews under each model's name."""
        output_dir = Path(plan["output_dir"])
        entries = [PlanEntry(e["dataset"], e["abbr"], e["subset"]) for e in plan["entries"]]
        reports: list[Report] = []
        pending: list[tuple[Path, str]] = []
        for abbr, name in zip(plan["model_abbrs"], p.model_names, strict=True):
            # the core's own layout, with this model's name: reviews/<model>/<dataset>.jsonl
            model_run = replace(run, model_name=name)
            for choice in p.datasets:
                subsets = [load_subset(output_dir, abbr, e) for e in entries if e.dataset == choice.name]
                fields = {
                    "pretty_name": f"{choice.name} (OpenCompass {choice.config_name})",
                    "benchmark_version": f"opencompass-{p.engine.version}/{choice.config_name}",
                    "backend": "opencompass",
                    "config": p.public_config,
                    "extra": {
                        "engine": "opencompass",
                        "engine_version": p.engine.version,
                        "engine_config": str(choice.config_file),
                        "engine_output_dir": str(output_dir),
                        "engine_model_abbr": abbr,
                    },
                }
                reports.append(build_dataset_report(choice.name, subsets, model_name=name, fields=fields))
                lines = "".join(r.model_dump_json() + "\n" for s in subsets for r in s.records)
                pending.append((model_run.reviews_path(choice.name), lines))
        for path, text in pending:  # only once every (model, dataset) converted
            atomic_write_text(path, text)
        return reports

    # --- listing --------------------------------------------------------------------------------------

    def list_datasets(self, include_configs: bool = True, python: str | None = None) -> list[dict[str, str]]:
        """What the installed OpenCompass offers (`evalscope list --backend opencompass`): EvalScope's names,
        then (with `include_configs`) every dataset config file, each usable in `eval_config.datasets`."""
        engine = find_engine(OPENCOMPASS, python)
        return load_catalog(engine.package_dir).rows(include_configs)


def list_datasets(include_configs: bool = True) -> list[dict[str, str]]:
    return OpenCompassBackend().list_datasets(include_configs)


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


def _tail(path: Path, n: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line[-300:] for line in lines[-n:])
