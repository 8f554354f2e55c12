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

from pathlib import Path
from typing import Any, Literal

from evalscope.config import TaskConfig
from evalscope.engines.settings import EngineSettings, check_distinct_names, data_dir_from
from evalscope.errors import ConfigError
from pydantic import BaseModel, ConfigDict, Field

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


class OpenCompassModel(BaseModel):
    """One model: an OpenAI-compatible service (`openai_api_base` set) or a local checkpoint folder."""

    model_config = ConfigDict(extra="forbid")

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


class OpenCompassEvalConfig(EngineSettings):
    """`eval_config` for `eval_backend: OpenCompass`: EvalScope 1.x keys, plus the engine keys every engine
    backend takes (`python`, `data_dir`: OpenCompass's data folder holding data/<dataset>/..., `timeout`,
    `idle_timeout`, `reuse`, `work_dir`)."""

    datasets: list[str] = Field(default_factory=list)
    models: list[OpenCompassModel] = Field(default_factory=list)
    limit: int | float | str | None = Field(
        default=None, description="N → the first N rows; a fraction < 1; or OpenCompass's '[start:end]'."
    )
    debug: bool = False
    generation_kwargs: dict[str, Any] = Field(default_factory=dict)
    mode: Literal["all", "infer"] = "all"


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
    (`reports/<name>/`, `reviews/<name>/`, the `<dataset>@<name>` keys of `run_task`).
    """
    names = [model.abbr or Path(model.path.rstrip("/")).name or "model" for model in models]
    check_distinct_names(names, key="models", rule="its abbr, else the last part of its path")
    return names


def data_dir_for(ec: OpenCompassEvalConfig) -> Path:
    """OpenCompass's data folder: eval_config.data_dir, $EVALSCOPE_OPENCOMPASS_DATA, $COMPASS_DATA_CACHE."""
    return data_dir_from(
        ec.data_dir,
        variables=("EVALSCOPE_OPENCOMPASS_DATA", "COMPASS_DATA_CACHE"),
        what="OpenCompass's data folder",
        backend="opencompass",
        layout="OpenCompass's `data/` (data/gsm8k/test.jsonl, data/mmlu/test/<subject>_test.csv, ...; "
        "docs/backends/opencompass.md#data shows the layout)",
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
