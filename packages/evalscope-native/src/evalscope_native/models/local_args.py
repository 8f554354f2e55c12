"""`--model-args` and `--generation-config` for local checkpoints, checked before anything heavy loads.

Names and defaults follow EvalScope 1.x's checkpoint models so its users' commands keep working:
`revision`, `precision` (or `torch_dtype`/`dtype`), `device_map`, `trust_remote_code`, and the
generation defaults of `DEFAULT_TEXT_GEN_CHECKPOINT_CONFIG` (greedy, 2048 new tokens). Unknown keys
fail with the closest valid name: transformers would otherwise store a misspelt `precison` on the
model config and say nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from evalscope.config import GenerationConfig, TaskConfig, format_validation_error
from evalscope.errors import ConfigError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("evalscope.native.local")

# EvalScope 1.14.1's DEFAULT_TEXT_GEN_CHECKPOINT_CONFIG: what a checkpoint run does when the user says nothing.
CHECKPOINT_DEFAULTS: dict[str, Any] = {
    "max_new_tokens": 2048,
    "do_sample": False,
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 50,
}

# Spellings of torch dtypes EvalScope users type (`torch.float16`), plus the usual short forms.
DTYPE_NAMES: dict[str, str] = {
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
    "float64": "float64",
    "double": "float64",
    "auto": "auto",
}


class LocalModelArgs(BaseModel):
    """What `--model-args` may hold for a local checkpoint (the transformers and vLLM engines)."""

    model_config = ConfigDict(extra="forbid")

    engine: Literal["transformers", "vllm"] = "transformers"
    model_type: str | None = Field(default=None, description="Consumed by model selection (plan.py).")
    revision: str | None = None
    precision: str | None = None
    torch_dtype: str | None = None
    dtype: str | None = None
    device_map: str | dict[str, Any] | None = None
    trust_remote_code: bool = False
    hub: Literal["huggingface", "modelscope"] = "huggingface"
    tokenizer_path: str | None = None
    chat_template: str | None = None
    enable_thinking: bool | None = None
    attn_implementation: str | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    tokenizer_kwargs: dict[str, Any] = Field(default_factory=dict)
    # vLLM only
    tensor_parallel_size: int | None = Field(default=None, ge=1)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    max_model_len: int | None = Field(default=None, ge=1)

    def dtype_name(self) -> str | None:
        """The one dtype asked for, normalised (`torch.float16` -> `float16`), or None."""
        given = {k: v for k, v in (("precision", self.precision), ("torch_dtype", self.torch_dtype),
                                   ("dtype", self.dtype)) if v is not None}  # fmt: skip
        names = {_dtype(k, v) for k, v in given.items()}
        if len(names) > 1:
            raise ConfigError(
                f"--model-args gives conflicting dtypes: {given}.", hint="keep one of precision / torch_dtype"
            )
        return names.pop() if names else None


VLLM_ONLY = ("tensor_parallel_size", "gpu_memory_utilization", "max_model_len")


def _dtype(key: str, value: str) -> str:
    name = str(value).strip().lower().removeprefix("torch.")
    if name not in DTYPE_NAMES:
        raise ConfigError(
            f"--model-args {key}={value!r} is not a dtype I know.",
            hint="use one of torch.float16, torch.bfloat16, torch.float32 or auto",
        )
    return DTYPE_NAMES[name]


def parse_local_model_args(model_args: dict[str, Any], engine: str) -> LocalModelArgs:
    try:
        args = LocalModelArgs.model_validate(model_args)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, LocalModelArgs, "--model-args")) from None
    args.dtype_name()  # fail now on a bad or conflicting dtype
    if engine != "vllm":
        stray = [k for k in VLLM_ONLY if getattr(args, k) is not None]
        if stray:
            raise ConfigError(
                f"--model-args {', '.join(stray)} apply to the vLLM engine only.",
                hint='add "engine": "vllm" to --model-args, or drop them',
            )
    return args


@dataclass(frozen=True)
class Decoding:
    """One request's generation settings, resolved: EvalScope's checkpoint defaults under the user's."""

    max_new_tokens: int
    do_sample: bool
    n: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    enable_thinking: bool | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for transformers' `generate` (sampling knobs only when sampling)."""
        out: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample}
        if self.do_sample:
            out.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
            if self.n > 1:
                out["num_return_sequences"] = self.n
        else:
            # Warpers never act on greedy decoding; unsetting them keeps a checkpoint's own
            # generation_config.json (e.g. temperature=0.7) from drawing warnings on every batch.
            out.update(temperature=None, top_p=None, top_k=None)
        if self.repetition_penalty is not None:
            out["repetition_penalty"] = self.repetition_penalty
        out.update(self.extra)
        return out

    def group(self) -> str:
        """Requests whose decoding differs cannot share a batch: this string tells them apart."""
        return repr(sorted(self.__dict__.items()))


UNSUPPORTED = ("presence_penalty", "frequency_penalty", "logprobs", "top_logprobs")


def resolve_decoding(cfg: GenerationConfig) -> Decoding:
    """Map the OpenAI-style generation config onto local decoding; impossible settings fail here."""
    unsupported = [k for k in UNSUPPORTED if getattr(cfg, k) not in (None, False)]
    if unsupported:
        raise ConfigError(
            f"--generation-config {', '.join(unsupported)} is not available for local checkpoints.",
            hint="drop it (repetition_penalty is the local counterpart of presence/frequency penalties)",
        )
    max_new = cfg.effective_max_tokens() or CHECKPOINT_DEFAULTS["max_new_tokens"]
    do_sample = bool(cfg.do_sample) if cfg.do_sample is not None else CHECKPOINT_DEFAULTS["do_sample"]
    if cfg.temperature == 0:
        do_sample = False  # OpenAI's spelling of greedy decoding
    elif cfg.temperature is not None and cfg.do_sample is None:
        log.warning(
            "temperature=%s without do_sample: decoding stays greedy, as in EvalScope; "
            'add "do_sample": true to --generation-config to sample',
            cfg.temperature,
        )
    if cfg.n > 1 and not do_sample:
        raise ConfigError(
            f"n={cfg.n} with greedy decoding would give {cfg.n} identical answers.",
            hint='add "do_sample": true (and a temperature) to --generation-config',
        )
    extra = dict(cfg.extra_body or {})
    enable_thinking = extra.pop("enable_thinking", None)
    return Decoding(
        max_new_tokens=max_new,
        do_sample=do_sample,
        n=cfg.n,
        temperature=cfg.temperature if cfg.temperature is not None else CHECKPOINT_DEFAULTS["temperature"],
        top_p=cfg.top_p if cfg.top_p is not None else CHECKPOINT_DEFAULTS["top_p"],
        top_k=cfg.top_k if cfg.top_k is not None else CHECKPOINT_DEFAULTS["top_k"],
        repetition_penalty=cfg.repetition_penalty,
        seed=cfg.seed,
        stop=tuple(s for s in (cfg.stop or []) if s),
        extra=extra,
        enable_thinking=enable_thinking,
    )


def engine_model(config: TaskConfig) -> str | None:
    """The model for a local checkpoint's `engine` (the `evalscope_resolve_model` hook), else None.

    Only a local-checkpoint run is claimed (no --api-url, eval_type unset or checkpoint), and never
    one that names its model family with `model_type`; an unknown engine is left to
    `parse_local_model_args`, whose error lists the valid ones.
    """
    engine = config.model_args.get("engine")
    if engine is None or config.model_args.get("model_type") or config.model in (None, "mock_llm"):
        return None
    eval_type = config.eval_type or ("service" if config.api_url else "checkpoint")
    if eval_type not in ("checkpoint", "llm_ckpt"):
        return None
    return {"vllm": "native/vllm", "transformers": "native/transformers"}.get(str(engine))
