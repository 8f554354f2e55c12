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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from evalscope.config import TaskConfig, read_config_file
from evalscope.errors import ConfigError, closest
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class VLMModel(BaseModel):
    """One model: `CustomAPIModel` (any OpenAI-compatible vision service) or a VLMEvalKit model name."""

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


class VLMEvalConfig(BaseModel):
    """`eval_config` for `eval_backend: VLMEvalKit` (EvalScope 1.x keys plus this plugin's settings)."""

    model_config = ConfigDict(extra="forbid")

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
    work_dir: str | None = None
    verbose: bool = False
    ignore: bool | None = Field(
        default=None, description="Accepted for EvalScope 1.x configs; VLMEvalKit's default."
    )
    # --- this plugin's settings ---
    python: str | None = Field(
        default=None, description="The engine's interpreter (env EVALSCOPE_VLMEVAL_PYTHON)."
    )
    data_dir: str | None = Field(
        default=None,
        description="VLMEvalKit's data folder holding <dataset>.tsv (env EVALSCOPE_VLMEVAL_DATA).",
    )
    timeout: float | None = Field(default=None, gt=0, description="Seconds for the whole engine run.")
    idle_timeout: float | None = Field(
        default=None, gt=0, description="Kill the engine after this many seconds without output."
    )


def parse_eval_config(config: TaskConfig) -> VLMEvalConfig:
    raw = config.eval_config
    source = "eval_config"
    if isinstance(raw, str):
        source = f"eval_config file {raw}"
        raw = read_config_file(Path(raw))
    try:
        return VLMEvalConfig.model_validate(dict(raw or {}))
    except ValidationError as exc:
        lines = [f"Invalid {source}:"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                fields = list(VLMEvalConfig.model_fields)
                guess = closest(str(err["loc"][-1]), fields)
                hint = f" Did you mean {guess[0]!r}?" if guess else ""
                lines.append(f"  - unknown key {loc!r}.{hint} Valid keys: {', '.join(sorted(fields))}")
            else:
                lines.append(f"  - {loc}: {err['msg']}")
        lines.append("  (the vlmeval backend's keys: docs/backends/vlmeval.md)")
        raise ConfigError("\n".join(lines)) from None


def model_for(config: TaskConfig, ec: VLMEvalConfig) -> VLMModel:
    """`eval_config.model`, else a CustomAPIModel from `--model` / `--api-url` / `--api-key`."""
    if ec.model:
        if len(ec.model) > 1:
            raise ConfigError(
                f"eval_config.model lists {len(ec.model)} models; the vlmeval backend runs one model per run "
                "(reports are filed per model): run `evalscope eval` once per model."
            )
        model = ec.model[0]
        model = VLMModel(name=model) if isinstance(model, str) else model
    elif config.model and config.api_url:
        model = VLMModel(name="CustomAPIModel", type=config.model, api_base=config.api_url)
    elif config.model:
        model = VLMModel(name=config.model)
    else:
        raise ConfigError(
            "The vlmeval backend needs a model: set eval_config.model ([{name: CustomAPIModel, type: <served "
            "model>, api_base: http://host/v1/chat/completions}]) or pass --model and --api-url."
        )
    if model.name == "CustomAPIModel":
        missing = [k for k in ("type", "api_base") if getattr(model, k) is None]
        if missing:
            raise ConfigError(
                f"eval_config.model[0] (CustomAPIModel) needs {' and '.join(missing)}: type is the served model "
                "name, api_base the service URL (http://host/v1/chat/completions)."
            )
    return model


def data_dir_for(ec: VLMEvalConfig) -> Path:
    """VLMEvalKit's data folder: eval_config.data_dir, $EVALSCOPE_VLMEVAL_DATA, $LMUData (VLMEvalKit's own)."""
    for source, value in (
        ("eval_config.data_dir", ec.data_dir),
        ("$EVALSCOPE_VLMEVAL_DATA", os.environ.get("EVALSCOPE_VLMEVAL_DATA")),
        ("$LMUData", os.environ.get("LMUData")),
    ):
        if value:
            path = Path(value).expanduser().resolve()
            if not path.is_dir():
                raise ConfigError(
                    f"VLMEvalKit's data folder {path} (from {source}) does not exist.",
                    hint="point it at the folder holding <dataset>.tsv files (VLMEvalKit's LMUData)",
                )
            return path
    raise ConfigError(
        "The vlmeval backend reads datasets from a local folder and never downloads them; none is set.",
        hint="set eval_config.data_dir (or $EVALSCOPE_VLMEVAL_DATA) to the folder holding <dataset>.tsv files",
    )


def engine_model(model: VLMModel, config: TaskConfig) -> dict[str, Any]:
    """The model as the driver registers it; the key is left out (it travels in the environment)."""
    out = model.model_dump(exclude_none=True, exclude={"key"})
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
