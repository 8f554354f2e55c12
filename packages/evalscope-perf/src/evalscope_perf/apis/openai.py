"""The built-in OpenAI-compatible formats: chat completions, completions, embeddings, rerank, responses."""

from __future__ import annotations

from typing import Any

from evalscope_perf.apis.base import ApiFormat, Prompt, StreamError, prompt_text

__all__ = ["OpenAIChat", "OpenAICompletions", "OpenAIEmbeddings", "OpenAIRerank", "OpenAIResponses"]


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


class OpenAIRerank(ApiFormat):
    """`POST /v1/rerank` (Cohere/Jina/vLLM style; EvalScope's `--api rerank`): latency and request
    throughput. A dataset item `{"query": ..., "documents": [...]}` is sent as is; a message list is
    the query (first message) and its documents (the rest); a text is a query with itself as document.
    """

    name = "openai_rerank"
    endpoint = "rerank"
    generates = False

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        base = {"model": self.params.model, **self.params.extra_args}
        if isinstance(prompt, dict):
            return {**base, **prompt}
        if isinstance(prompt, list):
            texts = [prompt_text([m]) for m in prompt]
            return {**base, "query": texts[0] if texts else "", "documents": texts[1:] or texts[:1]}
        return {**base, "query": prompt, "documents": [prompt]}

    def response(self, obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if "error" in obj and "results" not in obj:
            raise StreamError(str(obj["error"]))
        if not isinstance(obj.get("results"), list):
            raise StreamError("rerank response has no 'results' list")
        return "", obj.get("usage") or None


_RESPONSES_DELTAS = ("response.output_text.delta", "response.reasoning_text.delta", "response.refusal.delta")


class OpenAIResponses(ApiFormat):
    """`POST /v1/responses` (OpenAI's Responses API; EvalScope's `--api openai_responses`).

    Streamed replies are typed events: `response.output_text.delta` (and reasoning/refusal deltas)
    carry tokens, `response.completed`/`response.incomplete` carry `usage` (`input_tokens`,
    `output_tokens`), `response.failed`/`error` are errors.
    """

    name = "openai_responses"
    endpoint = "responses"

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        p = self.params
        body: dict[str, Any] = {"model": p.model}
        if p.max_tokens is not None:
            body["max_output_tokens"] = p.max_tokens
        for key in ("temperature", "top_p"):
            if getattr(p, key) is not None:
                body[key] = getattr(p, key)
        if p.stream:
            body["stream"] = True
        if isinstance(prompt, dict):
            prompt = dict(prompt)
            if "messages" in prompt and "input" not in prompt:
                prompt["input"] = prompt.pop("messages")
            return {**body, **p.extra_args, **prompt}
        return {**body, "input": prompt, **p.extra_args}

    def stream_event(self, obj: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        kind = obj.get("type")
        if kind in _RESPONSES_DELTAS:
            delta = obj.get("delta")
            return (delta if isinstance(delta, str) and delta else None), None
        if kind in ("response.completed", "response.incomplete"):
            return None, _responses_usage(obj.get("response") or {})
        if kind in ("response.failed", "error"):
            err = (obj.get("response") or {}).get("error") or obj.get("error") or obj.get("message") or obj
            raise StreamError(str(err.get("message") if isinstance(err, dict) else err))
        return None, None

    def response(self, obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if obj.get("error") and not obj.get("output"):
            raise StreamError(str(obj["error"]))
        texts = [
            str(part.get("text", ""))
            for item in obj.get("output") or []
            if isinstance(item, dict)
            for part in item.get("content") or []
            if isinstance(part, dict) and part.get("type") == "output_text"
        ]
        return "".join(texts), _responses_usage(obj)


def _responses_usage(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Responses API's `usage` in the chat names the records read (`prompt_tokens`, ...)."""
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return None
    out: dict[str, Any] = {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
    }
    details = usage.get("input_tokens_details")
    if isinstance(details, dict):
        out["prompt_tokens_details"] = details
    return out
