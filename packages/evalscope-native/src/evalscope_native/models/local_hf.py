"""`native/transformers`: a local checkpoint (hub id or folder) run in-process with transformers.

What the engine sees is the usual async `Model`: one `generate(request)` per sample, so the cache,
resume, retries and per-sample records are those of the API models. Underneath, `BatchRunner`
(batching.py) gathers the concurrent requests into batches of `--eval-batch-size` and runs them on
one thread:

* prompts are left-padded, so every row's new tokens start at the same column, with an attention
  mask that hides the padding (transformers derives position ids from it), which is what makes a
  row's greedy answer the same in a batch of 8 as alone (tests/test_local_model.py checks it);
* the engine queues the longest prompts first (`batch_sort_key`), so a batch holds prompts of
  similar length and little of it is padding;
* each row stops at EOS or at one of its stop strings; the batch ends when every row has.

torch and transformers are imported here only, when a local model is asked for; without them the
error names the extra to install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
from typing import Any

from evalscope.checkpoints import ResolvedCheckpoint, commit_after_download, resolve_checkpoint
from evalscope.config import TaskConfig
from evalscope.contracts import GenerateRequest, ModelOutput, Usage
from evalscope.distributions import install_hint
from evalscope.errors import MissingDependencyError, UsageError

from evalscope_native.models.batching import BatchRunner
from evalscope_native.models.local_args import (
    CHECKPOINT_DEFAULTS,
    Decoding,
    LocalModelArgs,
    parse_local_model_args,
    resolve_decoding,
)
from evalscope_native.models.local_prompt import render_prompt, stop_string_criteria, truncate_at_stop

log = logging.getLogger("evalscope.native.local")

INSTALL_HINT = install_hint("evalscope-native", "local")

Payload = tuple[str, bool, Decoding]  # prompt text, add special tokens, decoding settings


def require_local_stack() -> None:
    """Fail at once, before anything is loaded, when torch or transformers is not installed."""
    for name in ("torch", "transformers"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a module blocked in sys.modules, a broken install
            found = False
        if not found:
            raise MissingDependencyError(
                f"Evaluating a local checkpoint needs torch and transformers, and {name} is not installed.",
                hint=INSTALL_HINT,
            )


def import_local_stack() -> tuple[Any, Any]:
    """torch and transformers, or an error naming the extra that installs them."""
    require_local_stack()
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            f"Evaluating a local checkpoint needs torch and transformers ({exc.msg}).", hint=INSTALL_HINT
        ) from None
    return torch, transformers


class TransformersModel:
    # A request waits for its whole batch, and a batch may take minutes on a CPU: the engine's
    # per-request timeout is meant for services, so this model opts out of it.
    request_timeout = False

    def __init__(self, config: TaskConfig) -> None:
        if not config.model:
            raise UsageError(
                "--model is required: a hub id (Qwen/Qwen2.5-0.5B-Instruct) or a checkpoint folder."
            )
        self.args: LocalModelArgs = parse_local_model_args(config.model_args, engine="transformers")
        self.default_decoding = resolve_decoding(config.generation_config)  # bad settings fail before loading
        self._decodings: dict[str, Decoding] = {
            config.generation_config.model_dump_json(): self.default_decoding
        }
        require_local_stack()
        # Resolve before importing torch: a checkpoint missing offline is reported in a second, not ten.
        ckpt = resolve_checkpoint(config.model, self.args.revision, config.is_offline(), self.args.hub)
        torch, transformers = import_local_stack()
        self._notes: list[str] = []
        self.name = config.display_model_name
        self.device_map, self.dtype_name = _placement(torch, self.args, self._notes)
        self.tokenizer = self._load_tokenizer(transformers, ckpt, config.is_offline())
        self.model = self._load_model(torch, transformers, ckpt, config.is_offline())
        self.checkpoint: ResolvedCheckpoint = commit_after_download(ckpt)
        if config.seed is not None:
            torch.manual_seed(config.seed)
        self.eos_ids = _eos_ids(self.model, self.tokenizer)
        self.batcher: BatchRunner[Payload, ModelOutput] = BatchRunner(self._run_batch, config.eval_batch_size)
        # The model loads in `prepare`, before the run's log file is open: what it chose is logged with
        # the first request instead, so that it lands in logs/eval_log.log.
        prompting = "chat template" if getattr(self.tokenizer, "chat_template", None) else "plain prompt"
        self._notes.append(
            f"local model {self.name}: {self.checkpoint.location} on {self.device_map}, "
            f"dtype {self.dtype_name}, {prompting}, batch size {config.eval_batch_size}"
        )

    # --- loading ----------------------------------------------------------------------------------

    def _load_tokenizer(self, transformers: Any, ckpt: ResolvedCheckpoint, offline: bool) -> Any:
        source = self.args.tokenizer_path or ckpt.location
        kwargs: dict[str, Any] = {
            "trust_remote_code": self.args.trust_remote_code,
            **self.args.tokenizer_kwargs,
        }
        if source == ckpt.name and ckpt.revision:
            kwargs["revision"] = ckpt.revision
        tokenizer = _load(
            lambda: transformers.AutoTokenizer.from_pretrained(source, **kwargs), ckpt.name, offline
        )
        if self.args.chat_template:
            tokenizer.chat_template = self.args.chat_template
        tokenizer.padding_side = "left"  # new tokens of every row start in the same column
        if tokenizer.pad_token_id is None:
            # Padded positions are masked out, so any existing token will do; EOS is the usual choice.
            fallback = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.unk_token
            if fallback is None:
                fallback = tokenizer.convert_ids_to_tokens(0)
            tokenizer.pad_token = fallback
        return tokenizer

    def _load_model(self, torch: Any, transformers: Any, ckpt: ResolvedCheckpoint, offline: bool) -> Any:
        kwargs: dict[str, Any] = {
            _dtype_kwarg(transformers): self.dtype_name
            if self.dtype_name == "auto"
            else getattr(torch, self.dtype_name),
            "device_map": self.device_map,
            "trust_remote_code": self.args.trust_remote_code,
            **self.args.model_kwargs,
        }
        if self.args.attn_implementation:
            kwargs["attn_implementation"] = self.args.attn_implementation
        if ckpt.location == ckpt.name and ckpt.revision:
            kwargs["revision"] = ckpt.revision
        loader = transformers.AutoModelForCausalLM.from_pretrained
        model = _load(lambda: loader(ckpt.location, **kwargs), ckpt.name, offline)
        if self.dtype_name == "auto":
            self.dtype_name = str(model.dtype).removeprefix("torch.")
        return model.eval()

    # --- the Model protocol -----------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        template = getattr(self.tokenizer, "chat_template", None)
        prompt = (
            f"chat_template:{hashlib.sha256(str(template).encode()).hexdigest()[:16]}"
            if template
            else "plain"
        )
        ident: dict[str, Any] = {
            "kind": "transformers",
            "checkpoint": self.checkpoint.identity(),
            "dtype": self.dtype_name,
            "prompt": prompt,
            "defaults": CHECKPOINT_DEFAULTS,
        }
        load = {k: v for k, v in (("tokenizer_path", self.args.tokenizer_path),
                                  ("attn_implementation", self.args.attn_implementation),
                                  ("model_kwargs", self.args.model_kwargs or None),
                                  ("enable_thinking", self.args.enable_thinking)) if v is not None}  # fmt: skip
        if load:
            ident["load"] = load
        return ident

    def batch_sort_key(self, request: GenerateRequest) -> int:
        """Prompt length in tokens: the engine queues long prompts first so batches pad little."""
        self._announce()
        text, special = self._prompt(request, self._decoding(request))
        return len(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        self._announce()
        decoding = self._decoding(request)
        text, special = self._prompt(request, decoding)
        return await self.batcher.submit(f"{special}|{decoding.group()}", (text, special, decoding))

    async def aclose(self) -> None:
        await self.batcher.aclose()

    def _announce(self) -> None:
        while self._notes:
            log.info(self._notes.pop(0))

    # --- generation -------------------------------------------------------------------------------

    def _decoding(self, request: GenerateRequest) -> Decoding:
        key = request.config.model_dump_json()
        if key not in self._decodings:
            self._decodings[key] = resolve_decoding(request.config)
        return self._decodings[key]

    def _prompt(self, request: GenerateRequest, decoding: Decoding) -> tuple[str, bool]:
        thinking = (
            decoding.enable_thinking if decoding.enable_thinking is not None else self.args.enable_thinking
        )
        return render_prompt(self.tokenizer, request.messages, thinking)

    def _run_batch(self, batch: list[Payload]) -> list[ModelOutput]:
        import torch

        try:
            return self._generate(batch)
        except torch.cuda.OutOfMemoryError:
            if len(batch) == 1:
                raise
            # Answers do not depend on the batch (left padding), so halving it changes only the speed.
            torch.cuda.empty_cache()
            half = len(batch) // 2
            log.warning(
                "out of GPU memory on a batch of %d: retrying as %d + %d", len(batch), half, len(batch) - half
            )
            return self._run_batch(batch[:half]) + self._run_batch(batch[half:])

    def _generate(self, batch: list[Payload]) -> list[ModelOutput]:
        import torch
        from transformers import StoppingCriteriaList

        _, special, decoding = batch[0]
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        enc = self.tokenizer(
            [text for text, _, _ in batch], return_tensors="pt", padding=True, add_special_tokens=special
        ).to(self.model.device)
        prompt_len = enc["input_ids"].shape[1]
        criteria = stop_string_criteria(self.tokenizer, decoding.stop, prompt_len) if decoding.stop else None
        with torch.inference_mode():
            sequences = self.model.generate(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=StoppingCriteriaList([criteria] if criteria is not None else []),
                **decoding.generate_kwargs(),
            )
        new_tokens = sequences[:, prompt_len:].tolist()
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        n = decoding.n
        outputs = []
        for i in range(len(batch)):
            texts: list[str] = []
            reasons: list[str | None] = []
            used = 0
            for row in range(i * n, (i + 1) * n):
                done_at = criteria.done_at.get(row) if criteria is not None else None
                text, reason, count = self._finish_row(new_tokens[row], done_at, decoding)
                texts.append(text)
                reasons.append(reason)
                used += count
            outputs.append(
                ModelOutput(
                    completions=texts,
                    finish_reasons=reasons,
                    usage=Usage(
                        prompt_tokens=prompt_tokens[i],
                        completion_tokens=used,
                        total_tokens=prompt_tokens[i] + used,
                    ),
                    model=self.name,
                )
            )
        return outputs

    def _finish_row(self, ids: list[int], done_at: int | None, decoding: Decoding) -> tuple[str, str, int]:
        """Text, finish reason and token count of one generated row (padding after its end removed)."""
        eos = next((k for k, t in enumerate(ids) if t in self.eos_ids), None)
        ends = [k for k in (eos, done_at) if k is not None]
        if ends:  # after its end a row holds padding, which must not reach the text or the token count
            ids, reason = ids[: min(ends)], "stop"
        else:
            reason = "length" if len(ids) >= decoding.max_new_tokens else "stop"
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        text, hit = truncate_at_stop(text, decoding.stop)
        return text, "stop" if hit else reason, len(ids)


def _placement(torch: Any, args: LocalModelArgs, notes: list[str]) -> tuple[Any, str]:
    """device_map and dtype name. Unset: all GPUs ("auto") in float16 as EvalScope, else CPU in float32."""
    device_map = args.device_map
    if device_map is None:
        if torch.cuda.is_available():
            device_map = "auto"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device_map = "mps"
        else:
            device_map = "cpu"
    dtype = args.dtype_name()
    if dtype is None:
        on_cpu = (
            device_map == "cpu"
            or (device_map == "auto" and not torch.cuda.is_available())
            or (isinstance(device_map, dict) and {str(v) for v in device_map.values()} <= {"cpu"})
        )
        dtype = "float32" if on_cpu else "float16"
        why = (
            "the model runs on the CPU, where float16 is slow and inexact"
            if on_cpu
            else "EvalScope's default"
        )
        notes.append(f"no precision in --model-args: using {dtype} ({why})")
    return device_map, dtype


def _dtype_kwarg(transformers: Any) -> str:
    """transformers 4.56 renamed from_pretrained's `torch_dtype` to `dtype`."""
    major, minor = (int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def _load(load: Any, name: str, offline: bool) -> Any:
    """Run a from_pretrained call; turn its failures into errors that say what to change."""
    try:
        return load()
    except ImportError as exc:  # e.g. device_map="auto" without accelerate
        raise MissingDependencyError(
            f"Loading {name!r} needs a package that is missing: {exc}", hint=INSTALL_HINT
        ) from None
    except (OSError, ValueError) as exc:
        text = str(exc)
        if "trust_remote_code" in text:
            hint = (
                "if you trust the code in this checkpoint, add --model-args '{\"trust_remote_code\": true}'"
            )
        elif offline:
            hint = "offline runs need every file of the checkpoint on disk; pass the checkpoint folder with --model"
        else:
            hint = "check the model id or folder (config.json and the weights must be in it)"
        raise UsageError(
            f"Could not load {name!r}: {text.strip().splitlines()[0] if text.strip() else type(exc).__name__}",
            hint=hint,
        ) from None
