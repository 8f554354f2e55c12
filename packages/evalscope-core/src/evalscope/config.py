"""The run configuration: one `TaskConfig`, built the same from CLI flags, a dict, YAML or JSON.

Names follow EvalScope 1.x so its users' commands and config files keep working
(`--datasets`, `--dataset-args`, `--generation-config`, `--eval-batch-size`, `eval_backend`, ...).
Every model forbids unknown keys; `load_task_config` turns pydantic's errors into one message
that names the key, where it was, and the closest valid names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from evalscope.errors import ConfigError, DataFormatError, closest
from evalscope.judge_config import LEGACY_JUDGE_KEYS, JudgeConfig, fold_legacy_judge_keys

__all__ = [
    "DatasetArgs",
    "GenerationConfig",
    "RetryConfig",
    "TaskConfig",
    "format_validation_error",
    "load_task_config",
    "read_config_file",
    "validate_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class GenerationConfig(_Strict):
    """Sampling parameters, as the OpenAI API names them (local engines map them to their own)."""

    max_tokens: int | None = Field(default=None, ge=1)
    max_new_tokens: int | None = Field(
        default=None, ge=1, description="Synonym of max_tokens (transformers)."
    )
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = None
    n: int = Field(default=1, ge=1)
    seed: int | None = None
    stop: list[str] | None = None
    do_sample: bool | None = None
    repetition_penalty: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    extra_body: dict[str, Any] | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    def effective_max_tokens(self) -> int | None:
        return self.max_tokens if self.max_tokens is not None else self.max_new_tokens


class DatasetArgs(_Strict):
    """Per-benchmark overrides (`--dataset-args '{"gsm8k": {"few_shot_num": 0}}'`)."""

    dataset_id: str | None = Field(
        default=None, description="Hub id or a local folder/file in the hub layout."
    )
    local_path: str | None = Field(default=None, description="EvalScope's name for a local dataset folder.")
    subset_list: list[str] | None = None
    few_shot_num: int | None = Field(default=None, ge=0)
    few_shot_random: bool = False
    train_split: str | None = None
    eval_split: str | None = None
    prompt_template: str | None = None
    few_shot_prompt_template: str | None = None
    system_prompt: str | None = None
    metric_list: list[str] | None = None
    aggregation: str | None = Field(
        default=None, description="The metric aggregating each value: mean (default), bootstrap, ..."
    )
    extra_params: dict[str, Any] = Field(default_factory=dict)


class RetryConfig(_Strict):
    """How failed requests are retried: exponential backoff with jitter, bounded in count and time."""

    max_retries: int = Field(default=5, ge=0)
    max_total_s: float = Field(default=300.0, gt=0, description="Give up on a sample after this long in all.")
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_consecutive_failures: int = Field(
        default=20,
        ge=0,
        description="Stop after this many failed requests in a row with the same cause, none succeeding "
        "in between (a dead or misconfigured service); 0 never stops. With --ignore-errors the samples "
        "not yet sent are recorded as failed instead.",
    )


class TaskConfig(_Strict):
    """Everything a run needs. Secrets (`api_key`) are never written to disk or logs."""

    model: str | None = None
    model_id: str | None = Field(default=None, description="Display name in reports (default: from --model).")
    model_args: dict[str, Any] = Field(default_factory=dict)
    eval_type: str | None = Field(
        default=None,
        description="service | checkpoint | mock_llm | scripted, or any a model plugin declares (auto if unset).",
    )
    api_url: str | None = None
    api_key: SecretStr | None = None
    datasets: list[str] = Field(default_factory=list)
    dataset_args: dict[str, DatasetArgs] = Field(default_factory=dict)
    dataset_hub: Literal["huggingface", "modelscope"] = "huggingface"
    data_dir: Path | None = Field(
        default=None,
        description="Root of local datasets laid out <benchmark>/<subset>/<split>.<ext> (env EVALSCOPE_DATA_DIR).",
    )
    offline: bool = Field(default=False, description="Never touch the network (also HF_HUB_OFFLINE=1).")
    generation_config: GenerationConfig = Field(default_factory=GenerationConfig)
    limit: float | None = Field(default=None, gt=0, description="N samples per subset, or a fraction if < 1.")
    eval_batch_size: int = Field(
        default=8, ge=1, description="Concurrent requests (API) or batch size (local)."
    )
    work_dir: Path = Path("./outputs")
    use_cache: Path | None = Field(
        default=None, description="A previous run folder to reuse predictions from."
    )
    rerun_review: bool = False
    seed: int | None = 42
    timeout: float | None = Field(default=120.0, gt=0, description="Per-request timeout in seconds.")
    test_connection: bool = Field(
        default=True,
        description="Check that the model service answers the API before the run (fails in seconds).",
    )
    stream: bool = False
    ignore_errors: bool = False
    debug: bool = False
    backend: str = "native"
    runner: str = Field(
        default="local", description="Where the work runs: local (this process) or a runner plugin's (ray)."
    )
    runner_args: dict[str, Any] = Field(
        default_factory=dict, description="The runner's settings (e.g. ray: address, shard_size)."
    )
    eval_config: dict[str, Any] | str | None = Field(default=None, description="Backend-specific config.")
    retry: RetryConfig = Field(default_factory=RetryConfig)
    judge: JudgeConfig = Field(
        default_factory=JudgeConfig, description="LLM-as-judge: strategy, judge models, contract, panel."
    )
    reporters: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _evalscope_names(cls, data: Any) -> Any:
        """Accept EvalScope's spellings: `eval_backend: OpenCompass`, `model: {...}` kept as-is."""
        if isinstance(data, dict):
            data = fold_legacy_judge_keys(data)
        if isinstance(data, dict) and "eval_backend" in data:
            data = dict(data)
            backend = data.pop("eval_backend")
            data.setdefault("backend", backend)
        if isinstance(data, dict) and isinstance(data.get("eval_config"), dict) and "work_dir" not in data:
            # EvalScope 1.x put an external engine's output folder in eval_config.work_dir.
            work_dir = data["eval_config"].get("work_dir")
            if work_dir:
                data = {**data, "work_dir": work_dir}
        return data

    @field_validator("backend")
    @classmethod
    def _backend_lower(cls, v: str) -> str:
        return v.strip()  # resolved by the registry, case-insensitively, with each spec's aliases

    @field_validator("api_url")
    @classmethod
    def _api_url_http(cls, v: str | None) -> str | None:
        """`127.0.0.1:8000/v1` would be sent nowhere useful: name the scheme it needs, at once."""
        if v is None:
            return v
        from evalscope.secrets import redact_url

        url = v.strip()
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise ValueError(
                f"api_url {redact_url(url)!r} has no scheme; did you mean 'http://{redact_url(url)}'? "
                "(https:// for a TLS service)"
            )
        if scheme.lower() not in ("http", "https"):
            raise ValueError(
                f"api_url {redact_url(url)!r} must start with http:// or https://, not {scheme}://"
            )
        if not rest.split("/", 1)[0].rsplit("@", 1)[-1]:
            raise ValueError(f"api_url {redact_url(url)!r} names no host")
        return url

    @field_validator("datasets", mode="before")
    @classmethod
    def _datasets_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("limit")
    @classmethod
    def _limit_whole(cls, v: float | None) -> float | None:
        if v is not None and v >= 1 and v != int(v):
            raise ValueError("limit must be a whole number of samples, or a fraction below 1")
        return v

    # --- derived values -------------------------------------------------------------------------

    @property
    def display_model_name(self) -> str:
        if self.model_id:
            return self.model_id
        name = (self.model or "model").rstrip("/")
        return name.rsplit("/", 1)[-1]

    def resolved_data_dir(self) -> Path | None:
        if self.data_dir is not None:
            return self.data_dir
        env = os.environ.get("EVALSCOPE_DATA_DIR")
        return Path(env) if env else None

    def is_offline(self) -> bool:
        return self.offline or os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "TRUE", "yes")

    def args_for(self, benchmark_name: str, *aliases: str) -> DatasetArgs:
        for key in (benchmark_name, *aliases):
            if key in self.dataset_args:
                return self.dataset_args[key]
        return DatasetArgs()

    def public_dump(self) -> dict[str, Any]:
        """The resolved config as written into reports and configs/: every secret masked.

        Keys may hide in several places: `--api-key`, a secret-named key at any depth of
        `model_args` or `eval_config` (OpenCompass: `models[].key`), `user:pass@` or `?key=` in the URL.
        """
        from evalscope.secrets import MASK, redact_data, redact_url

        data = self.model_dump(mode="json")
        if self.api_key is not None:
            data["api_key"] = MASK
        if data.get("api_url"):
            data["api_url"] = redact_url(data["api_url"])
        for judge in data["judge"]["models"]:  # a judge's URL may carry credentials like the model's
            if judge.get("api_url"):
                judge["api_url"] = redact_url(judge["api_url"])
        redacted: dict[str, Any] = redact_data(data)
        return redacted

    def secret_values(self) -> list[str]:
        """Every secret this config carries, for `secrets.register_secrets` (files, logs, messages).

        The top-level key, secret-named keys in `model_args` and `eval_config`, the URL's password
        and `?key=` value, and `OPENAI_API_KEY` (the SDK sends it when no key is given).
        """
        from evalscope.secrets import environment_secrets, secrets_in_data, url_secrets

        found = [self.api_key.get_secret_value()] if self.api_key is not None else []
        dumped = self.model_dump(mode="python")
        found += secrets_in_data(dumped.get("model_args"))
        found += secrets_in_data(dumped.get("eval_config"))
        found += secrets_in_data(dumped.get("judge"))
        found += [m.resolved_api_key() for m in self.judge.models]
        found += url_secrets(self.api_url)
        found += environment_secrets()
        return [v for v in dict.fromkeys(found) if v and v != "EMPTY"]


# --- loading -----------------------------------------------------------------------------------


def load_task_config(obj: TaskConfig | dict[str, Any] | str | os.PathLike[str]) -> TaskConfig:
    """Build a TaskConfig from an object, a dict, or a YAML/JSON file path; errors name the fix."""
    if isinstance(obj, TaskConfig):
        return obj
    source = "config"
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        data = read_config_file(path)
        source = str(path)
    elif isinstance(obj, dict):
        data = obj
    else:
        raise ConfigError(
            f"Cannot build a TaskConfig from {type(obj).__name__}; pass a dict, a path or a TaskConfig."
        )
    return validate_config(data, source)


def validate_config(data: dict[str, Any], source: str = "config") -> TaskConfig:
    try:
        return TaskConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, TaskConfig, source)) from None


def read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
            ) from None
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            raise DataFormatError(str(path), f"invalid YAML: {exc.problem}", line=line) from None
    else:
        raise ConfigError(f"Config file {path} must end in .yaml, .yml or .json.")
    if data is None:
        raise ConfigError(
            f"Config file {path} is empty: it must hold a mapping of TaskConfig keys.",
            hint="e.g.  model: qwen2.5\n        api_url: http://127.0.0.1:8000/v1\n        datasets: [gsm8k]",
        )
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        raise ConfigError(
            f"Config file {path} holds {what}; it must hold a mapping of TaskConfig keys (key: value lines).",
            hint="e.g.  model: qwen2.5\n        datasets: [gsm8k]",
        )
    return data


#: EvalScope 1.x TaskConfig keys this edition does not have (yet): say what they were, not only "unknown".
_NOT_YET_SUPPORTED = {
    name: why
    for names, why in (
        (
            ("analysis_report",),
            "EvalScope's model-written analysis of a report is not supported by this edition; remove it.",
        ),
        (
            ("use_sandbox", "sandbox_type", "sandbox_manager_config"),
            "not needed: code benchmarks always run in this edition's bubblewrap sandbox (docs/sandbox.md); "
            "remove it.",
        ),
        (("dataset_dir",), "this edition reads local datasets from --data-dir (data_dir); rename the key."),
        (
            ("repeats",),
            "to sample each prompt several times set generation_config.n (scored as mean-of-n and pass@k).",
        ),
    )
    for name in names
}


def format_validation_error(
    exc: ValidationError, model: type[BaseModel], source: str, loc_prefix: tuple[str, ...] = ()
) -> str:
    """One readable line per problem; unknown keys get 'did you mean' suggestions.

    `loc_prefix` names where `model` sits in the user's file (a backend validating `eval_config`
    passes `("eval_config",)`), so the key path printed is the one the user has to edit.
    """
    lines = [f"Invalid {source}:"]
    for err in exc.errors():
        loc = ".".join([*loc_prefix, *(str(p) for p in err["loc"])]) or "(root)"
        if err["type"] == "extra_forbidden":
            fields = _fields_at(model, err["loc"][:-1])
            bad = str(err["loc"][-1])
            later = _NOT_YET_SUPPORTED.get(bad) if model is TaskConfig and len(err["loc"]) == 1 else None
            if later is not None:
                lines.append(f"  - unknown key {loc!r}: {later}")
                continue
            # EvalScope's older spellings are valid top-level keys too (folded before validation),
            # so `judge_stratgy` points at `judge_strategy`, not at nothing.
            spellings = (
                [*LEGACY_JUDGE_KEYS, "eval_backend"] if model is TaskConfig and len(err["loc"]) == 1 else []
            )
            guess = closest(bad, [*fields, *spellings])
            hint = f" Did you mean {guess[0]!r}?" if guess else ""
            lines.append(f"  - unknown key {loc!r}.{hint} Valid keys: {', '.join(sorted(fields))}")
        else:
            lines.append(f"  - {loc}: {err['msg']}")
    return "\n".join(lines)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the nested model that `loc` points into.

    List indexes and the user's keys of `dict[str, Model]` fields are stepped over; a field is also
    found by any of its `AliasChoices` (the spelling the user wrote).
    """
    current: Any = model
    i = 0
    while i < len(loc):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        if isinstance(loc[i], int):
            i += 1  # a list index: stay on the item model
            continue
        field = _field_named(current, str(loc[i]))
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is not None and _has_origin(field.annotation, dict):
            i += 1  # dict[str, Model]: the next loc part is the user's key
        i += 1
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _field_named(model: type[BaseModel], name: str) -> Any:
    from pydantic import AliasChoices

    field = model.model_fields.get(name)
    if field is not None:
        return field
    for candidate in model.model_fields.values():
        alias = candidate.validation_alias
        if (isinstance(alias, AliasChoices) and name in alias.choices) or candidate.alias == name:
            return candidate
    return None


def _has_origin(annotation: Any, origin: type) -> bool:
    if getattr(annotation, "__origin__", None) is origin:
        return True
    return any(_has_origin(arg, origin) for arg in getattr(annotation, "__args__", ()))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
