"""The `vlmeval` backend's config: EvalScope's VLMEvalKit `eval_config` keys, validated, merged with the flags.

EvalScope 1.x users write

    eval_backend: VLMEvalKit
    eval_config:
      data: [SEEDBench_IMG]
      model: [{name: CustomAPIModel, type: qwen-vl-chat, api_base: http://127.0.0.1:8000/v1/chat/completions,
               key: EMPTY, temperature: 0.0, img_size: -1, max_tokens: 1024}]
      mode: all
      limit: 20
      nproc: 16
      judge: exact_matching

and that works unchanged; `--model`, `--api-url`, `--api-key`, `--datasets`, `--limit`, `--eval-batch-size` fill
in what `eval_config` leaves out. Unknown keys fail with the closest valid name.

`model` is a list, as in EvalScope 1.x: every entry is evaluated (VLMEvalKit loops over them in one run) and
reported under its own name (`resolve_models`). An entry is a CustomAPIModel (an OpenAI-compatible service) or
any model of VLMEvalKit's `supported_VLM` with the arguments of its class — `model_path` pointing at a local
checkpoint folder, for one (docs/backends/vlmeval.md lists which classes run on a CPU).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evalscope.config import TaskConfig
from evalscope.engines.settings import EngineSettings, check_distinct_names, data_dir_from
from evalscope.errors import ConfigError
from pydantic import BaseModel, ConfigDict, Field


class VLMModel(BaseModel):
    """One model: `CustomAPIModel` (any OpenAI-compatible vision service) or a VLMEvalKit model name.

    Keys other than these go to the VLMEvalKit model class as they are (`model_path`, `max_new_tokens`, ...).
    """

    model_config = ConfigDict(extra="allow")  # other keys go to the VLMEvalKit model class as they are

    name: str = Field(
        default="CustomAPIModel", description="VLMEvalKit model name; CustomAPIModel for a service."
    )
    type: str | None = Field(default=None, description="CustomAPIModel: the served model name.")
    api_base: str | None = Field(
        default=None, description="CustomAPIModel: http://host/v1[/chat/completions]."
    )
    key: str | None = Field(default=None, description="API key (never written to disk); default EMPTY.")
    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    img_size: int | None = None
    timeout: int | None = Field(default=None, ge=1)
    retry: int | None = Field(default=None, ge=1)
    abbr: str | None = Field(
        default=None,
        description="This plugin's: the model's name in reports (default: type, else name); not sent to VLMEvalKit.",
    )


class VLMEvalConfig(EngineSettings):
    """`eval_config` for `eval_backend: VLMEvalKit`: EvalScope 1.x keys, plus the engine keys every engine
    backend takes (`python`, `data_dir`: VLMEvalKit's data folder holding <dataset>.tsv, `timeout`,
    `idle_timeout`, `work_dir`)."""

    data: list[str] = Field(default_factory=list)
    model: list[VLMModel | str] = Field(default_factory=list)
    mode: Literal["all", "infer"] = "all"
    limit: int | None = Field(default=None, ge=1)
    nproc: int | None = Field(
        default=None, ge=1, description="Concurrent API requests (VLMEvalKit's api_nproc)."
    )
    api_nproc: int | None = Field(default=None, ge=1)
    retry: int | None = Field(default=None, ge=1)
    reuse: bool = False
    judge: str = Field(
        default="exact_matching", description="'exact_matching' (offline) or a judge model name."
    )
    verbose: bool = False
    ignore: bool | None = Field(
        default=None, description="Accepted for EvalScope 1.x configs; VLMEvalKit's default."
    )


def models_for(config: TaskConfig, ec: VLMEvalConfig) -> list[VLMModel]:
    """`eval_config.model` (every entry), else one CustomAPIModel from `--model` / `--api-url` / `--api-key`."""
    if ec.model:
        models = [VLMModel(name=m) if isinstance(m, str) else m for m in ec.model]
    elif config.model and config.api_url:
        models = [VLMModel(name="CustomAPIModel", type=config.model, api_base=config.api_url)]
    elif config.model:
        models = [VLMModel(name=config.model)]
    else:
        raise ConfigError(
            "The vlmeval backend needs a model: set eval_config.model ([{name: CustomAPIModel, type: <served "
            "model>, api_base: http://host/v1/chat/completions}]) or pass --model and --api-url."
        )
    for i, model in enumerate(models):
        if model.name == "CustomAPIModel":
            missing = [k for k in ("type", "api_base") if getattr(model, k) is None]
            if missing:
                raise ConfigError(
                    f"eval_config.model[{i}] (CustomAPIModel) needs {' and '.join(missing)}: type is the served "
                    "model name, api_base the service URL (http://host/v1/chat/completions)."
                )
    if config.model_id and len(models) > 1:
        raise ConfigError(
            f"--model-id names one model, but eval_config.model lists {len(models)}.",
            hint="drop --model-id and set `abbr` on each entry of eval_config.model to name its reports",
        )
    return models


@dataclass(frozen=True)
class ResolvedModel:
    """One model of the run, as the backend hands it to the driver and files its reports."""

    name: str  # the reports' model_name: reports/<name>/, reviews/<name>/, run_task's `<dataset>@<name>`
    alias: str  # its name inside VLMEvalKit: the supported_VLM entry and the folder of its outputs
    engine: dict[str, Any]  # the keyword arguments of its VLMEvalKit model class; never the key
    api_key: str | None = field(repr=False)  # in the engine's environment only (`key_env`), never a file

    def key_env(self, index: int) -> str | None:
        return None if self.api_key is None else f"EVALSCOPE_VLM_API_KEY_{index}"


def resolve_models(config: TaskConfig, ec: VLMEvalConfig) -> list[ResolvedModel]:
    """Each model with its report name, VLMEvalKit alias, class arguments and key. Names must differ.

    A model's name is its `abbr`, else (one model) `--model-id`, else a CustomAPIModel's served model name
    (`type`, last path part) or the VLMEvalKit model name (`name`), as EvalScope 1.x named them. Outputs and
    reports are filed under it, so two models with one name would overwrite each other: that is an error
    naming the fix, not a silent suffix (`qwen-2` would not say which entry it is).
    """
    flag_key = config.api_key.get_secret_value() if config.api_key is not None else ""
    resolved: list[ResolvedModel] = []
    for i, model in enumerate(models_for(config, ec)):
        custom = model.name == "CustomAPIModel"
        name = model.abbr or config.model_id or (model.type if custom else None) or model.name
        name = Path(str(name).rstrip("/")).name or "model"
        # CustomAPIModel always sends a key (EMPTY when none is set); other classes get one only if given.
        key = model.key or ((flag_key or "EMPTY") if custom else None)
        engine = engine_model(model, config, i)
        resolved.append(ResolvedModel(name=name, alias=safe_alias(name), engine=engine, api_key=key))
    check_distinct_names(
        [m.name for m in resolved],
        key="model",
        rule="its `abbr`, else a CustomAPIModel's `type`, else its `name`",
        folder=safe_alias,
    )
    return resolved


def safe_alias(name: str) -> str:
    """A name VLMEvalKit can use as a folder and a file-name prefix."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "model"


def data_dir_for(ec: VLMEvalConfig) -> Path:
    """VLMEvalKit's data folder: eval_config.data_dir, $EVALSCOPE_VLMEVAL_DATA, $LMUData (VLMEvalKit's own)."""
    return data_dir_from(
        ec.data_dir,
        variables=("EVALSCOPE_VLMEVAL_DATA", "LMUData"),
        what="VLMEvalKit's data folder",
        backend="vlmeval",
        layout="<dataset>.tsv files (VLMEvalKit's LMUData)",
    )


def engine_model(model: VLMModel, config: TaskConfig, index: int = 0) -> dict[str, Any]:
    """The model as the driver registers it; the key is left out (it travels in the environment).

    A local `model_path` that exists is made absolute (the engine runs in the run folder, where a relative
    path would point elsewhere); one that looks like a path (`/`, `.`, `~`) but does not exist fails here,
    because VLMEvalKit would take it for a hub id and try to download it.
    """
    out = model.model_dump(exclude_none=True, exclude={"key", "abbr"})
    path = out.get("model_path")
    if isinstance(path, str) and path:
        local = Path(path).expanduser()
        if local.exists():
            out["model_path"] = str(local.resolve())
        elif path.startswith(("/", ".", "~")):
            raise ConfigError(
                f"eval_config.model[{index}].model_path {path!r} does not exist.",
                hint="point model_path at a checkpoint folder (config.json, weights, processor files) or use a "
                "hub id such as ibm-granite/granite-docling-258M",
            )
    if model.name == "CustomAPIModel":
        base = (model.api_base or "").rstrip("/")
        out["api_base"] = base if base.endswith("/chat/completions") else base + "/chat/completions"
        gen = config.generation_config
        out.setdefault("temperature", gen.temperature if gen.temperature is not None else 0)
        max_tokens = gen.effective_max_tokens()
        if max_tokens is not None:
            out.setdefault("max_tokens", max_tokens)
        out.setdefault("img_size", -1)
        out.setdefault("retry", config.retry.max_retries + 1)
        out.setdefault("timeout", int(config.timeout or 120))
    return out
