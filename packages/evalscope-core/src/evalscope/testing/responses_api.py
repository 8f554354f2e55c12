"""OpenAI's Responses API (`POST /v1/responses`) on the scripted server: reading a request, the reply shapes.

The reply itself comes from the same sources as a chat reply (synthetic tokens, the chat responder,
the reply table) with the same timing; only the shapes differ, and they live here.

Request: `input` is a string (one user message) or a list of items -- messages `{"role", "content"}`
whose content is a string or parts (`input_text`/`output_text` text, `input_image` images); items of
other types (function calls, their outputs, reasoning) carry no prompt text and are skipped.
`instructions` is a system message before them. `max_output_tokens` is the request's token limit.

Reply (not streamed): a `response` object whose `output` is one assistant `message` with one
`output_text` part, and `usage` as `input_tokens`/`output_tokens`/`total_tokens`.

Stream: typed SSE events (`event: <type>` + `data: {...}`), `sequence_number` from 0 --
`response.created`, `response.in_progress`, `response.output_item.added`,
`response.content_part.added`, one `response.output_text.delta` per token, `response.output_text.done`,
`response.content_part.done`, `response.output_item.done`, `response.completed` (the whole response,
with `usage`). No `[DONE]`: the stream ends after `response.completed`, as OpenAI's does.

The status is always `completed`: the scripted model has no output limit of its own (a synthetic
reply of `max_output_tokens` tokens is what was asked for, not a truncation).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ResponsesEncoder", "input_messages", "response_object", "responses_usage"]

_TEXT_PARTS = ("input_text", "output_text", "text")
_OPENING = 4  # created, in_progress, output_item.added, content_part.added: the deltas come after them


def input_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request as chat messages (text parts as `text`, images as `image_url`), for the reply
    table, the chat responder and the prompt's token count."""
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    raw = body.get("input")
    if isinstance(raw, str):
        return [*messages, {"role": "user", "content": raw}]
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, list):
            content = [_chat_part(p) for p in content if isinstance(p, dict)]
        messages.append({"role": str(item.get("role") or "user"), "content": content})
    return messages


def _chat_part(part: Mapping[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "input_image":
        url = part.get("image_url")
        url = url.get("url") if isinstance(url, dict) else url  # a string in the API; a dict tolerated
        return {"type": "image_url", "image_url": {"url": str(url or "")}}
    return dict(part)


def responses_usage(usage: Mapping[str, int]) -> dict[str, Any]:
    """Chat `usage` (`prompt_tokens`, `completion_tokens`) in the Responses API's names."""
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def _message(ident: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    content: list[dict[str, Any]] = (
        [] if status == "in_progress" else [{"type": "output_text", "text": text, "annotations": []}]
    )
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def response_object(
    ident: str,
    model: str,
    created: int,
    text: str | None,
    usage: Mapping[str, int] | None,
    *,
    status: str = "completed",
    output: bool = True,
) -> dict[str, Any]:
    """A `response` object (`ident` without its `resp_` prefix). `output=False`: an empty `output`
    list (the `empty_choices` misbehaviour); `text=None`: an `output_text` whose text is null."""
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": [_message(ident, text)] if output and status == "completed" else [],
        "usage": None if usage is None else responses_usage(usage),
    }


def _event(kind: str, seq: int, fields: Mapping[str, Any]) -> bytes:
    data = json.dumps({"type": kind, "sequence_number": seq, **fields})
    payload = f"event: {kind}\ndata: {data}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class ResponsesEncoder:
    """The events of one streamed response, with `SSEEncoder`'s methods so the server's timed stream
    writer drives both: `role` opens, `delta` per token (in order), `finish` closes, `done` ends the
    chunked body. `pieces` is the whole reply: the closing events repeat its text and usage."""

    def __init__(
        self, *, id: str, model: str, created: int, pieces: Sequence[str], usage: Mapping[str, int] | None
    ) -> None:
        self._id, self._model, self._created = id, model, created
        self._text = "".join(pieces)
        self._usage = usage
        self._closing = _OPENING + len(pieces)  # the closing events' first sequence number
        self._next = _OPENING
        item_id = json.dumps(f"msg_{id}")
        self._delta_head = f'{{"type": "response.output_text.delta", "item_id": {item_id}, '.encode()

    def _response(self, status: str) -> dict[str, Any]:
        usage = self._usage if status == "completed" else None
        return response_object(self._id, self._model, self._created, self._text, usage, status=status)

    def role(self, choices: int = 1, reasoning: str | None = None) -> bytes:
        """The opening events (a Responses stream has no role delta; `reasoning` is not modelled)."""
        item, part = (
            _message(self._id, None, "in_progress"),
            {"type": "output_text", "text": "", "annotations": []},
        )
        where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
        return (
            _event("response.created", 0, {"response": self._response("in_progress")})
            + _event("response.in_progress", 1, {"response": self._response("in_progress")})
            + _event("response.output_item.added", 2, {"output_index": 0, "item": item})
            + _event("response.content_part.added", 3, {**where, "part": part})
        )

    def delta(self, text: str, index: int = 0) -> bytes:
        """One token; sequence numbers count the calls, so deltas must be encoded in stream order."""
        seq, self._next = self._next, self._next + 1
        data = (
            self._delta_head
            + (
                f'"output_index": 0, "content_index": 0, "delta": {json.dumps(text)}, "logprobs": [], '
                f'"sequence_number": {seq}}}'
            ).encode()
        )
        payload = b"event: response.output_text.delta\ndata: " + data + b"\n\n"
        return b"%x\r\n%s\r\n" % (len(payload), payload)

    def deltas(self, pieces: Sequence[tuple[int, str]]) -> bytes:
        """A response has one output: several choices are not a Responses API notion."""
        return b"".join(self.delta(text) for _, text in pieces)

    def finish(self, reason: str, choices: int = 1) -> bytes:
        """The closing events, `response.completed` (with `usage`) last."""
        seq = self._closing
        item = _message(self._id, self._text)
        part = item["content"][0]
        where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
        return (
            _event("response.output_text.done", seq, {**where, "text": self._text, "logprobs": []})
            + _event("response.content_part.done", seq + 1, {**where, "part": part})
            + _event("response.output_item.done", seq + 2, {"output_index": 0, "item": item})
            + _event("response.completed", seq + 3, {"response": self._response("completed")})
        )

    def usage(self, usage: Mapping[str, int]) -> bytes:
        """Usage travels inside `response.completed`: no event of its own."""
        return b""

    def tool_calls(self, calls: Sequence[Mapping[str, Any]], index: int = 0) -> bytes:  # pragma: no cover
        raise NotImplementedError("the scripted /responses route serves text replies only")

    @staticmethod
    def done() -> bytes:
        """The chunked body's terminator (no `[DONE]` in a Responses stream)."""
        return b"0\r\n\r\n"
