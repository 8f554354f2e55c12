"""How one API format turns a prompt into a request body and reads tokens back out of the reply.

A custom format is a subclass of `ApiFormat` named by `--api package.module:Class`, or registered
under the entry-point group `evalscope_perf.apis` (see `evalscope_perf.registry`). The transport and
the timing are shared by every format: a format only builds bodies and interprets parsed JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["ApiFormat", "GenerationParams", "Prompt", "StreamError", "prompt_text"]

#: What a dataset yields: plain text, OpenAI chat messages, or a complete request body.
Prompt = str | list[dict[str, Any]] | dict[str, Any]


class StreamError(Exception):
    """The server reported an error inside a 200 response (an `{"error": ...}` event or body)."""


@dataclass
class GenerationParams:
    """Request fields every generation format shares (EvalScope's flags of the same names)."""

    model: str
    stream: bool = True
    max_tokens: int | None = 2048
    min_tokens: int | None = None
    temperature: float | None = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    extra_args: dict[str, Any] = field(default_factory=dict)


def prompt_text(prompt: Prompt) -> str:
    """The text a tokenizer should count for `prompt` (message contents joined by newlines)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, dict):
        if "messages" in prompt:
            return prompt_text(prompt["messages"])
        raw = prompt.get("prompt", prompt.get("input", ""))
        return "\n".join(map(str, raw)) if isinstance(raw, list) else str(raw)
    parts: list[str] = []
    for message in prompt:
        content = message.get("content", "")
        if isinstance(content, list):  # multimodal content parts: count the text ones
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        else:
            parts.append(str(content))
    return "\n".join(parts)


class ApiFormat:
    """Base class of API formats. Subclasses set `name`/`endpoint` and override the hooks they need."""

    name: ClassVar[str] = ""
    #: Path appended to a base URL that names no endpoint (`http://host:8000/v1` + `/chat/completions`).
    endpoint: ClassVar[str] = ""
    #: False for formats with no token stream (embeddings): TTFT/TPOT/ITL are then not reported.
    generates: ClassVar[bool] = True

    def __init__(self, params: GenerationParams) -> None:
        self.params = params

    def build_body(self, prompt: Prompt) -> dict[str, Any]:
        """The JSON request body for one prompt."""
        raise NotImplementedError

    def stream_event(self, obj: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        """Read one parsed SSE event: (token text, or None if it carries no token; usage or None).

        Raise `StreamError` for an error event. The default reads OpenAI chat and completion chunks.
        """
        if "error" in obj and not obj.get("choices"):
            raise StreamError(_error_text(obj["error"]))
        usage = obj.get("usage") or None
        choices = obj.get("choices")
        if not choices:
            return None, usage
        choice = choices[0]
        delta = choice.get("delta")
        if delta is None:  # completions: {"text": ...}
            text = choice.get("text")
            return (text if text else None), usage
        content = delta.get("content") or ""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        text = (reasoning if isinstance(reasoning, str) else "") + (
            content if isinstance(content, str) else ""
        )
        if text:
            return text, usage
        if delta.get("tool_calls"):  # a tool-call fragment is generated output too
            return "", usage
        return None, usage

    def read_stream(self, objs: list[Any]) -> tuple[list[str | None], dict[str, Any] | None]:
        """All events of one stream at once: each event's token text (None: no token) and the usage.

        Formats override `stream_event`; this loop calls it per event, except for the built-in
        OpenAI reading, which is inlined here (it runs for every event of every request).
        """
        texts: list[str | None] = []
        usage: dict[str, Any] | None = None
        if type(self).stream_event is not ApiFormat.stream_event:
            for obj in objs:
                text, u = self.stream_event(obj) if isinstance(obj, dict) else (None, None)
                texts.append(text)
                usage = u or usage
            return texts, usage
        for obj in objs:
            if type(obj) is not dict:
                texts.append(None)
                continue
            choices = obj.get("choices")
            if obj.get("usage"):
                usage = obj["usage"]
            if not choices:
                if "error" in obj:
                    raise StreamError(_error_text(obj["error"]))
                texts.append(None)
                continue
            choice = choices[0]
            delta = choice.get("delta")
            if delta is None:
                texts.append(choice.get("text") or None)
                continue
            content = delta.get("content")
            if content and type(content) is str and not delta.get("reasoning_content"):
                texts.append(content)
                continue
            texts.append(self.stream_event(obj)[0])
        return texts, usage

    def response(self, obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """Read a complete (non-streamed) response body: (generated text, usage or None)."""
        if "error" in obj and not obj.get("choices"):
            raise StreamError(_error_text(obj["error"]))
        usage = obj.get("usage") or None
        choices = obj.get("choices") or []
        if not choices:
            return "", usage
        choice = choices[0]
        message = choice.get("message")
        if isinstance(message, dict):
            return str(message.get("reasoning_content") or "") + str(message.get("content") or ""), usage
        return str(choice.get("text") or ""), usage

    # --- helpers for subclasses ---------------------------------------------------------------------

    def _generation_fields(self) -> dict[str, Any]:
        p = self.params
        body: dict[str, Any] = {"model": p.model}
        for key in ("max_tokens", "min_tokens", "temperature", "top_p", "top_k", "stop", "seed"):
            value = getattr(p, key)
            if value is not None:
                body[key] = value
        if p.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}  # token counts from the server itself
        return body


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)
