"""Responders: Python functions that answer a route instead of the reply table.

* chat: `(messages, body) -> reply text` -- a scripted judge that reads the prompt it is sent, a
  vision model that looks at the image, a function that blocks on purpose; or `-> {"content": ...,
  "tool_calls": [{"name": ..., "arguments": {...}}]}`, answered with `tool_calls` and finish reason
  `tool_calls` (streamed too: the calls come whole in one delta before the finish);
* embeddings: `(texts) -> vectors` -- e.g. a sentence-transformers model, so a test can check that
  a model behind HTTP scores what the same model scores locally;
* rerank: `(query, documents) -> scores`, answered in the vLLM/Jina/Cohere shape.

`InProcessServer` takes them as callables; a config (and so `ScriptedServer`'s subprocess) names a
factory by import path, `{"factory": "package.module:function", "args": {...}}`, called once with
`**args` in the server's process -- how a plugin ships its own rules without the core importing it.
Raise `ReplyError(status, message)` from a responder to answer with that HTTP status.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "ChatResponder",
    "EmbedFn",
    "RerankFn",
    "ReplyError",
    "hash_embedding",
    "load_factory",
]

#: a reply text, or a function-calling reply `{"content": optional text, "tool_calls": [{"name", "arguments"}]}`
ChatResponder = Callable[[list[dict[str, Any]], dict[str, Any]], str | dict[str, Any]]
EmbedFn = Callable[[list[str]], Sequence[Sequence[float]]]
RerankFn = Callable[[str, list[str]], Sequence[float]]


class ReplyError(Exception):
    """Raise from a responder to answer with this HTTP status instead of a reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def load_factory(spec: Mapping[str, Any]) -> Callable[..., Any]:
    """Import `spec["factory"]` ("package.module:function") and call it with `**spec["args"]`."""
    module_name, _, attr = str(spec["factory"]).partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    responder: Callable[..., Any] = factory(**dict(spec.get("args") or {}))
    return responder


def hash_embedding(text: str, dim: int) -> list[float]:
    """A deterministic vector in [-1, 1]^dim from sha256 of the text: equal texts, equal vectors."""
    out: list[float] = []
    block = 0
    while len(out) < dim:
        digest = hashlib.sha256(f"{block}\x1f{text}".encode()).digest()
        out.extend(b / 127.5 - 1.0 for b in digest)
        block += 1
    return out[:dim]
