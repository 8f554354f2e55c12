"""Chat messages in the OpenAI wire format, images included.

A text message is sent as `{"role", "content": str}`, exactly as before multimodal messages existed
(the cache keys and the request bytes of text benchmarks do not change). A message with `parts`
(`evalscope.contracts.ImagePart` / `TextPart`) is sent as a list of `text` and `image_url` parts; a
local image path becomes a base64 `data:` URL here, when the request is sent, so an image file that
does not exist fails its own sample (`ModelError` of kind `bad_input`, never retried, never trips the
circuit breaker) and the run goes on with the others.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

from evalscope.contracts import ChatMessage, ModelError, TextPart

__all__ = ["has_images", "image_data_url", "wire_messages"]

_URL_PREFIXES = ("data:", "http://", "https://")


def has_images(messages: list[ChatMessage]) -> bool:
    return any(m.parts is not None for m in messages)


def wire_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    return [_wire(m) for m in messages]


def _wire(m: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content if m.parts is None else _parts(m)}
    if m.tool_calls is not None:  # an agent's earlier calls, sent back with the conversation
        out["tool_calls"] = list(m.tool_calls)
    if m.tool_call_id is not None:  # a tool result
        out["tool_call_id"] = m.tool_call_id
    return out


def _parts(message: ChatMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.parts or ():
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
            continue
        image: dict[str, Any] = {"url": image_data_url(part.image)}
        if part.detail is not None:
            image["detail"] = part.detail
        out.append({"type": "image_url", "image_url": image})
    return out


def image_data_url(value: str) -> str:
    """A `data:` or `http(s)://` URL as it is; a local file (a path or `file://` URL) as a base64 data URL."""
    if value.startswith(_URL_PREFIXES):
        return value
    path = Path(value.removeprefix("file://")).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(
            f"image file {path} does not exist: fix the image path in the dataset record (a relative path "
            "is read from the benchmark's data folder), or put the image there",
            kind="bad_input",
        ) from None
    except OSError as exc:
        raise ModelError(f"cannot read image file {path}: {exc}", kind="bad_input") from None
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
