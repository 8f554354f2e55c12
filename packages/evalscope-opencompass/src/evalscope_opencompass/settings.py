"""The `opencompass` backend's config: EvalScope's `eval_config` keys, validated, merged with the run's flags.

EvalScope 1.x users write

    eval_backend: OpenCompass
    eval_config:
      datasets: [gsm8k, mmlu]
      models: [{path: qwen2.5, openai_api_base: http://127.0.0.1:8000/v1/chat/completions, is_chat: true,
                batch_size: 16}]
      limit: 10

and that works unchanged. `models` may list several models: OpenCompass evaluates them all in one job and
each gets its own reports (`reports/<model>/<dataset>.json`); their names (abbr, else the last part of the path)
must differ. The same run can be spelled with the usual flags instead (`--model qwen2.5 --api-url
http://127.0.0.1:8000/v1 --datasets gsm8k mmlu --limit 10 --backend opencompass`): whatever `eval_config` leaves
out is taken from the top-level TaskConfig. Unknown keys fail with the closest valid name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from evalscope.config import TaskConfig, read_config_file
from evalscope.errors import ConfigError, closest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: OpenCompass's API meta template (HUMAN/BOT/SYSTEM turns ↔ user/assistant/system messages), the one its
#: own API model configs use; EvalScope 1.x names it 'default-api-meta-template-oc'.
API_META_TEMPLATE: dict[str, Any] = {
    "round": [
        {"role": "HUMAN", "api_role": "HUMAN"},
        {"role": "BOT", "api_role": "BOT", "generate": True},
    ],
    "reserved_roles": [{"role": "SYSTEM", "api_role": "SYSTEM"}],
}
META_TEMPLATES = {"default-api-meta-template-oc": API_META_TEMPLATE}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenCompassModel(_Strict):
    """One model: an OpenAI-compatible service (`openai_api_base` set) or a local checkpoint folder."""

    path: str = Field(description="Served model name (API), or a local checkpoint folder.")
    openai_api_base: str | None = Field(
        default=None,
        description="http://host/v1 or http://host/v1/chat/completions; unset: a local checkpoint.",
    )
    key: str | None = Field(default=None, description="API key (never written to disk); default EMPTY.")
    abbr: str | None = Field(
        default=None,
        description="The model's name in OpenCompass's outputs and in reports (default: last part of path); "
        "must differ between the models of a run.",
    )
    is_chat: bool = Field(
        default=True,
        description="false: a local checkpoint runs as OpenCompass's HuggingFaceBaseModel (plain-text prompt, "
        "no chat template); refused for an API model.",
    )
    batch_size: int | None = Field(default=None, ge=1)
    query_per_second: float = Field(default=16, gt=0, description="OpenCompass's request rate limit.")
    max_out_len: int | None = Field(default=None, ge=1)
    max_seq_len: int = Field(default=32768, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    retry: int | None = Field(default=None, ge=1, description="Attempts per request (OpenCompass's `retry`).")
    meta_template: str | dict[str, Any] | None = "default-api-meta-template-oc"
    tokenizer_path: str | None = Field(
        default=None, description="Tokenizer used to count prompt tokens (a local folder when offline)."
    )
    extra_body: dict[str, Any] | None = None
    type: str | None = Field(
        default=None,
        description="OpenCompass model class, e.g. 'OpenAISDK' (default OpenAI, or HF for a folder).",
    )
    generation_kwargs: dict[str, Any] | None = None
    engine_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Passed verbatim to the OpenCompass model class (escape hatch)."
    )

    @property
    def is_api(self) -> bool:
        return self.openai_api_base is not None


class OpenCompassEvalConfig(_Strict):
    """`eval_config` for `eval_backend: OpenCompass` (EvalScope 1.x keys plus this plugin's settings)."""

    datasets: list[str] = Field(default_factory=list)
    models: list[OpenCompassModel] = Field(default_factory=list)
    limit: int | float | str | None = Field(
        default=None, description="N → the first N rows; a fraction < 1; or OpenCompass's '[start:end]'."
    )
    work_dir: str | None = None
    reuse: bool | str | None = None
    debug: bool = False
    generation_kwargs: dict[str, Any] = Field(default_factory=dict)
    # --- this plugin's settings ---
    python: str | None = Field(
        default=None, description="The engine's interpreter (env EVALSCOPE_OPENCOMPASS_PYTHON)."
    )
    data_dir: str | None = Field(
        default=None,
        description="OpenCompass's data folder, holding data/<dataset>/... (env EVALSCOPE_OPENCOMPASS_DATA).",
    )
    timeout: float | None = Field(default=None, gt=0, description="Seconds for the whole engine run.")
    idle_timeout: float | None = Field(
        default=None, gt=0, description="Kill the engine after this many seconds without output."
    )
    mode: Literal["all", "infer"] = "all"


def parse_eval_config(config: TaskConfig) -> OpenCompassEvalConfig:
    """`config.eval_config` (a mapping or a YAML/JSON path) validated; errors name the key and the fix."""
    raw = config.eval_config
    source = "eval_config"
    if isinstance(raw, str):
        source = f"eval_config file {raw}"
        raw = read_config_file(Path(raw))
    data = dict(raw or {})
    try:
        return OpenCompassEvalConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _describe(exc: ValidationError, source: str) -> str:
    """One line per problem; an unknown key gets the closest valid names at its level (models[] included)."""
    lines = [f"Invalid {source}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            in_model = len(err["loc"]) > 1 and err["loc"][0] == "models"
            fields = list((OpenCompassModel if in_model else OpenCompassEvalConfig).model_fields)
            guess = closest(str(err["loc"][-1]), fields)
            hint = f" Did you mean {guess[0]!r}?" if guess else ""
            lines.append(f"  - unknown key {loc!r}.{hint} Valid keys: {', '.join(sorted(fields))}")
        else:
            lines.append(f"  - {loc}: {err['msg']}")
    lines.append("  (the opencompass backend's keys: docs/backends/opencompass.md)")
    return "\n".join(lines)


def models_for(config: TaskConfig, ec: OpenCompassEvalConfig) -> list[OpenCompassModel]:
    """`eval_config.models` (all of them: OpenCompass evaluates every model of a job), else one model from the
    run's flags (`--model`, `--api-url`, `--api-key`). Each entry is checked on its own; errors name its index."""
    if ec.models:
        models = ec.models
    elif config.model:
        models = [
            OpenCompassModel(
                path=config.model,
                abbr=config.model_id,
                openai_api_base=config.api_url,
                key=config.api_key.get_secret_value() if config.api_key is not None else None,
            )
        ]
    else:
        raise ConfigError(
            "The opencompass backend needs a model: set eval_config.models "
            "([{path: <served model name>, openai_api_base: http://host/v1/chat/completions}]) "
            "or pass --model and --api-url."
        )
    for i, model in enumerate(models):
        if not model.is_chat and model.is_api:
            raise ConfigError(
                f"eval_config.models[{i}].is_chat: false asks for a text-completions API, which OpenCompass "
                "0.5's API models do not offer (they all call /chat/completions).",
                hint="serve the model with a chat endpoint and set is_chat: true, or evaluate it with "
                '--backend native --model-args \'{"api": "completions"}\'; is_chat: false works for a local '
                "checkpoint (OpenCompass's HuggingFaceBaseModel)",
            )
        if isinstance(model.meta_template, str) and model.meta_template not in META_TEMPLATES:
            raise ConfigError(
                f"eval_config.models[{i}].meta_template {model.meta_template!r} is unknown; use "
                f"{', '.join(repr(k) for k in META_TEMPLATES)}, a template mapping, or null."
            )
    return models


def model_names(models: list[OpenCompassModel]) -> list[str]:
    """Each model's name: its `abbr`, else the last part of its path. Names must differ.

    The name is OpenCompass's `abbr` (its outputs go to `predictions/<abbr>/`, `results/<abbr>/`) and ours
    (`reports/<name>/`, `reviews/<name>/`, the `<dataset>@<name>` keys of `run_task`). Two models with one name
    would overwrite each other's outputs, so a clash is an error naming the fix rather than a silent suffix:
    `qwen-2` would not say which of the two entries it is.
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, model in enumerate(models):
        name = model.abbr or Path(model.path.rstrip("/")).name or "model"
        folder = name.replace("/", "_").replace("\\", "_").replace(":", "_")  # as the run folder files it
        if folder in seen:
            j = seen[folder]
            raise ConfigError(
                f"eval_config.models[{j}] and models[{i}] are both named {name!r} (a model's name is its abbr, "
                "else the last part of its path); each model's outputs and reports are filed under its name, "
                "so names must differ.",
                hint=f"set a distinct `abbr` on each, e.g. models[{i}].abbr: {name}-{i}",
            )
        seen[folder] = i
        names.append(name)
    return names


def data_dir_for(ec: OpenCompassEvalConfig) -> Path:
    """OpenCompass's data folder: eval_config.data_dir, $EVALSCOPE_OPENCOMPASS_DATA, $COMPASS_DATA_CACHE."""
    for source, value in (
        ("eval_config.data_dir", ec.data_dir),
        ("$EVALSCOPE_OPENCOMPASS_DATA", os.environ.get("EVALSCOPE_OPENCOMPASS_DATA")),
        ("$COMPASS_DATA_CACHE", os.environ.get("COMPASS_DATA_CACHE")),
    ):
        if value:
            path = Path(value).expanduser().resolve()
            if not path.is_dir():
                raise ConfigError(
                    f"OpenCompass's data folder {path} (from {source}) does not exist.",
                    hint="point it at the folder that holds OpenCompass's `data/` (e.g. data/gsm8k/test.jsonl); "
                    "docs/backends/opencompass.md#data shows the layout",
                )
            return path
    raise ConfigError(
        "The opencompass backend reads datasets from a local folder and never downloads them; none is set.",
        hint="set eval_config.data_dir (or $EVALSCOPE_OPENCOMPASS_DATA) to the folder that holds OpenCompass's "
        "`data/` (data/gsm8k/test.jsonl, data/mmlu/test/<subject>_test.csv, ...)",
    )


def limit_for(config: TaskConfig, ec: OpenCompassEvalConfig) -> int | float | str | None:
    """OpenCompass's `test_range`: N → '[0:N]' (the first N rows, as `--limit` means for the native backend)."""
    limit = ec.limit if ec.limit is not None else config.limit
    if limit is None:
        return None
    if isinstance(limit, str):
        text = limit.strip()
        if not (text.startswith("[") and text.endswith("]") and ":" in text):
            raise ConfigError(f"eval_config.limit {limit!r}: use a number, or a slice string like '[0:100]'.")
        return text
    if limit <= 0:
        raise ConfigError(f"limit must be positive, got {limit}.")
    if limit >= 1:
        if limit != int(limit):
            raise ConfigError(f"limit {limit}: use a whole number of rows, or a fraction below 1.")
        return f"[0:{int(limit)}]"
    return float(limit)
