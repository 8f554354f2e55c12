"""Bytes on the wire: HTTP/1.1 heads, JSON bodies and OpenAI-style SSE streams.

Streams use chunked transfer encoding (one SSE event per HTTP chunk), so the connection stays open
for the next request. `SSEEncoder` encodes the fixed part of a stream's events once and each token's
delta once, so a stream of identical tokens costs a few byte joins per token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SSEEncoder", "error_payload", "http_head", "json_response", "stream_head", "wire_tool_calls"]

_REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_DONE = b"data: [DONE]\n\n"


def http_head(status: int, headers: Sequence[tuple[str, str]], keep_alive: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_response(
    status: int, payload: Any, keep_alive: bool = True, extra_headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    """A whole response; `payload` is JSON-encoded unless it already is bytes."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra_headers]
    return http_head(status, headers, keep_alive) + body


def error_payload(
    message: str, kind: str = "invalid_request_error", code: int | str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code}}


def stream_head(keep_alive: bool = True) -> bytes:
    headers = [
        ("Content-Type", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        ("Transfer-Encoding", "chunked"),
    ]
    return http_head(200, headers, keep_alive)


def _chunk(payload: bytes) -> bytes:
    data = b"data: " + payload + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


class SSEEncoder:
    """The events of one streamed chat completion (`chat=True`) or text completion."""

    def __init__(self, *, chat: bool, id: str, model: str, created: int = 0) -> None:
        self.chat = chat
        obj = "chat.completion.chunk" if chat else "text_completion"
        self._base = {"id": id, "object": obj, "created": created, "model": model}
        marker = '"\\u0000"'
        prefix, _, suffix = json.dumps({**self._base, "choices": "\x00"}).partition(marker)
        self._prefix, self._suffix = prefix.encode(), suffix.encode()
        self._deltas: dict[tuple[int, str], bytes] = {}

    def _event(self, choices: bytes) -> bytes:
        return _chunk(self._prefix + b"[" + choices + b"]" + self._suffix)

    def _choice(self, index: int, text: str) -> bytes:
        cached = self._deltas.get((index, text))
        if cached is None:
            if self.chat:
                body = f'{{"index": {index}, "delta": {{"content": {json.dumps(text)}}}, "finish_reason": null, "logprobs": null}}'
            else:
                body = f'{{"index": {index}, "text": {json.dumps(text)}, "finish_reason": null, "logprobs": null}}'
            cached = self._deltas[(index, text)] = body.encode()
        return cached

    def role(self, choices: int = 1, reasoning: str | None = None) -> bytes:
        """The opening event of a chat stream (empty for text completions)."""
        if not self.chat:
            return b""
        delta: dict[str, Any] = {"role": "assistant", "content": ""}
        if reasoning is not None:
            delta["reasoning_content"] = reasoning
        items = [
            {"index": i, "delta": delta, "finish_reason": None, "logprobs": None} for i in range(choices)
        ]
        return self._event(json.dumps(items)[1:-1].encode())

    def delta(self, text: str, index: int = 0) -> bytes:
        """One token of one choice."""
        return self._event(self._choice(index, text))

    def deltas(self, pieces: Sequence[tuple[int, str]]) -> bytes:
        """One event carrying a token for each (choice index, text) given."""
        return self._event(b", ".join(self._choice(i, t) for i, t in pieces))

    def tool_calls(self, calls: Sequence[Mapping[str, Any]], index: int = 0) -> bytes:
        """A chat choice's tool calls, whole, in one delta (each with its `index`, as OpenAI streams them)."""
        delta = {"tool_calls": [{"index": k, **call} for k, call in enumerate(calls)]}
        return self._event(
            json.dumps({"index": index, "delta": delta, "finish_reason": None, "logprobs": None}).encode()
        )

    def finish(self, reason: str, choices: int = 1) -> bytes:
        if self.chat:
            items: list[dict[str, Any]] = [
                {"index": i, "delta": {}, "finish_reason": reason, "logprobs": None} for i in range(choices)
            ]
        else:
            items = [
                {"index": i, "text": "", "finish_reason": reason, "logprobs": None} for i in range(choices)
            ]
        return self._event(json.dumps(items)[1:-1].encode())

    def usage(self, usage: Mapping[str, int]) -> bytes:
        return _chunk(json.dumps({**self._base, "choices": [], "usage": dict(usage)}).encode())

    @staticmethod
    def error_event(error: Mapping[str, Any]) -> bytes:
        """An error event, as some providers send inside an HTTP 200 stream."""
        return _chunk(json.dumps({"error": dict(error)}).encode())

    @staticmethod
    def done() -> bytes:
        """`data: [DONE]` and the chunked body's terminator."""
        return b"%x\r\n%s\r\n0\r\n\r\n" % (len(_DONE), _DONE)


def wire_tool_calls(calls: list[Any]) -> list[dict[str, Any]]:
    """A responder's tool calls in the OpenAI shape: `{"name", "arguments"}` or `{"function": {...}}`,
    arguments as a JSON string (a dict is encoded), ids `call_<n>` where none is given."""
    out: list[dict[str, Any]] = []
    for k, call in enumerate(calls):
        function = dict(call.get("function") or call)
        args = function.get("arguments", "{}")
        out.append(
            {
                "id": call.get("id") or f"call_{k}",
                "type": "function",
                "function": {
                    "name": str(function.get("name") or ""),
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
        )
    return out
