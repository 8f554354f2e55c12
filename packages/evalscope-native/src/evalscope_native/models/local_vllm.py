"""`native/vllm`: a local checkpoint run in-process with vLLM's offline engine.

Chosen with `--model-args '{"engine": "vllm"}'` (or `"model_type": "vllm"`); vllm is imported only
then, and needs a CUDA GPU and `pip install vllm`. It behaves like `native/transformers` towards the
engine — same checkpoint resolution (hub_cache.py), same prompts (local_prompt.py), same
generation-config mapping (local_args.py), the same `BatchRunner` — but each batch goes to
`LLM.generate`, which schedules it with continuous batching and paged attention. Give it large
batches: `--eval-batch-size 256` hands vLLM 256 prompts at a time.

Answers are cached under a model identity of their own (`"kind": "vllm"`): vLLM's kernels do not
give bit-identical logits to transformers', so the two never share cached answers.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from evalscope.checkpoints import commit_after_download, resolve_checkpoint
from evalscope.config import TaskConfig
from evalscope.contracts import GenerateRequest, ModelOutput, Usage
from evalscope.errors import MissingDependencyError, UsageError

from evalscope_native.models.batching import BatchRunner
from evalscope_native.models.local_args import (
    CHECKPOINT_DEFAULTS,
    Decoding,
    parse_local_model_args,
    resolve_decoding,
)
from evalscope_native.models.local_prompt import render_prompt

log = logging.getLogger("evalscope.native.local")

Payload = tuple[list[int], Decoding]


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise MissingDependencyError(
            f"The vLLM engine needs the vllm package ({exc.msg}).",
            hint='pip install vllm  (Linux with a CUDA GPU); or drop "engine": "vllm" to use transformers',
        ) from None
    return vllm


class VLLMModel:
    request_timeout = False  # see TransformersModel: a request waits for its whole batch

    def __init__(self, config: TaskConfig) -> None:
        if not config.model:
            raise UsageError("--model is required: a hub id or a checkpoint folder.")
        self.args = parse_local_model_args(config.model_args, engine="vllm")
        self.default_decoding = resolve_decoding(config.generation_config)
        self._decodings: dict[str, Decoding] = {
            config.generation_config.model_dump_json(): self.default_decoding
        }
        vllm = import_vllm()
        self.name = config.display_model_name
        ckpt = resolve_checkpoint(config.model, self.args.revision, config.is_offline(), self.args.hub)
        self.dtype_name = self.args.dtype_name() or "auto"
        kwargs: dict[str, Any] = {
            "model": ckpt.location,
            "tokenizer": self.args.tokenizer_path or ckpt.location,
            "dtype": self.dtype_name,
            "trust_remote_code": self.args.trust_remote_code,
            **{
                k: getattr(self.args, k)
                for k in ("tensor_parallel_size", "gpu_memory_utilization", "max_model_len")
                if getattr(self.args, k) is not None
            },  # fmt: skip
            **self.args.model_kwargs,
        }
        if config.seed is not None:
            kwargs["seed"] = config.seed
        if ckpt.location == ckpt.name and ckpt.revision:
            kwargs["revision"] = ckpt.revision
        self.llm = vllm.LLM(**kwargs)
        self.checkpoint = commit_after_download(ckpt)
        self.tokenizer = self.llm.get_tokenizer()
        if self.args.chat_template:
            self.tokenizer.chat_template = self.args.chat_template
        self.batcher: BatchRunner[Payload, ModelOutput] = BatchRunner(self._run_batch, config.eval_batch_size)
        log.info(
            "local model %s: %s with vLLM, dtype %s", self.name, self.checkpoint.location, self.dtype_name
        )

    def identity(self) -> dict[str, Any]:
        template = getattr(self.tokenizer, "chat_template", None)
        prompt = (
            f"chat_template:{hashlib.sha256(str(template).encode()).hexdigest()[:16]}"
            if template
            else "plain"
        )
        return {
            "kind": "vllm",
            "checkpoint": self.checkpoint.identity(),
            "dtype": self.dtype_name,
            "prompt": prompt,
            "defaults": CHECKPOINT_DEFAULTS,
            "load": {"tokenizer_path": self.args.tokenizer_path, "model_kwargs": self.args.model_kwargs},
        }

    def _decoding(self, request: GenerateRequest) -> Decoding:
        key = request.config.model_dump_json()
        if key not in self._decodings:
            self._decodings[key] = resolve_decoding(request.config)
        return self._decodings[key]

    def _token_ids(self, request: GenerateRequest, decoding: Decoding) -> list[int]:
        # Token ids, not text: vLLM would add BOS to a chat-templated prompt that already has one.
        thinking = (
            decoding.enable_thinking if decoding.enable_thinking is not None else self.args.enable_thinking
        )
        text, special = render_prompt(self.tokenizer, request.messages, thinking)
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def batch_sort_key(self, request: GenerateRequest) -> int:
        return len(self._token_ids(request, self._decoding(request)))

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        decoding = self._decoding(request)
        return await self.batcher.submit(decoding.group(), (self._token_ids(request, decoding), decoding))

    async def aclose(self) -> None:
        await self.batcher.aclose()

    def _run_batch(self, batch: list[Payload]) -> list[ModelOutput]:
        from vllm import SamplingParams

        decoding = batch[0][1]
        params: dict[str, Any] = {
            "n": decoding.n,
            "max_tokens": decoding.max_new_tokens,
            "temperature": decoding.temperature if decoding.do_sample else 0.0,
            "stop": list(decoding.stop) or None,
            "seed": decoding.seed,
        }
        if decoding.do_sample:
            params.update(top_p=decoding.top_p, top_k=decoding.top_k)
        if decoding.repetition_penalty is not None:
            params["repetition_penalty"] = decoding.repetition_penalty
        params.update(decoding.extra)
        results = self.llm.generate(
            [{"prompt_token_ids": ids} for ids, _ in batch], SamplingParams(**params), use_tqdm=False
        )
        outputs = []
        for result in results:
            prompt_tokens = len(result.prompt_token_ids or [])
            used = sum(len(c.token_ids) for c in result.outputs)
            outputs.append(
                ModelOutput(
                    completions=[c.text for c in result.outputs],
                    finish_reasons=[c.finish_reason for c in result.outputs],
                    usage=Usage(
                        prompt_tokens=prompt_tokens, completion_tokens=used, total_tokens=prompt_tokens + used
                    ),
                    model=self.name,
                )
            )
        return outputs
