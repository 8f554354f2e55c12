"""The built-in OpenAI-compatible formats: chat completions, completions, embeddings."""

from __future__ import annotations

from typing import Any

from evalscope_perf.apis.base import ApiFormat, Prompt, StreamError, prompt_text

__all__ = ["OpenAIChat", "OpenAICompletions", "OpenAIEmbeddings"]


class OpenAIChat(ApiFormat):
    """`POST /v1/chat/completions` (EvalScope's `--api openai`)."""

    name = "openai"
    endpoint = "chat/completions"

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        if isinstance(prompt, dict):  # a complete body from the dataset: its own fields win
            return {**self._generation_fields(), **self.params.extra_args, **prompt}
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        return {**self._generation_fields(), "messages": messages, **self.params.extra_args}


class OpenAICompletions(ApiFormat):
    """`POST /v1/completions`: the prompt is sent as raw text (no chat template)."""

    name = "openai_completions"
    endpoint = "completions"

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        if isinstance(prompt, dict):
            return {**self._generation_fields(), **self.params.extra_args, **prompt}
        return {**self._generation_fields(), "prompt": prompt_text(prompt), **self.params.extra_args}


class OpenAIEmbeddings(ApiFormat):
    """`POST /v1/embeddings`: latency and request throughput only (there is no token stream)."""

    name = "openai_embedding"
    endpoint = "embeddings"
    generates = False

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        if isinstance(prompt, dict):
            return {"model": self.params.model, **self.params.extra_args, **prompt}
        return {"model": self.params.model, "input": prompt_text(prompt), **self.params.extra_args}

    def response(self, obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if "error" in obj and "data" not in obj:
            raise StreamError(str(obj["error"]))
        if not isinstance(obj.get("data"), list):
            raise StreamError("embeddings response has no 'data' list")
        return "", obj.get("usage") or None
