"""Images of a record → the parts of a chat message, as EvalScope 1.14.1's `VisionLanguageAdapter` does.

A record's image cell is a string (a local path, an `http(s)://` URL or a `data:` URL) or a hub
dict (`{"bytes": ..., "path": ...}`: the bytes become a base64 `data:` URL, else the path is used).
`<image N>` placeholders in the text are replaced by the record's `image_N` (EvalScope's pattern,
`<image_N>` too); a placeholder without an image is dropped from the prompt, as EvalScope does.

No I/O: a relative path is joined to the benchmark's data folder and the file is read by the model
client when the request is sent (`evalscope_native.models.wire_messages`), so a missing image fails
its own sample, with the path in the error, and the run goes on.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import ChatMessage, ImagePart, Sample, TextPart

PLACEHOLDER = re.compile(r"<(image|video|audio)[_ ](\d+)>")
MAX_IMAGES = 7

#: (leading bytes, mime type) of the image formats a record's bytes are recognised as
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def data_root(benchmark: Benchmark) -> Path | None:
    """The folder a record's relative image paths are read from: the local dataset folder (`local_path`
    / a `dataset_id` that is a folder, a file's own folder), else `<data dir>/<benchmark>`."""
    given = Path(benchmark.dataset_id).expanduser()
    if given.is_dir():
        return given
    if given.is_file():
        return given.parent
    if benchmark.data_dir is not None:
        return benchmark.data_dir / benchmark.name
    return None


def bytes_data_url(data: bytes, default_mime: str = "image/png") -> str:
    mime = next((m for magic, m in _MAGIC if data.startswith(magic)), None)
    if mime is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        mime = "image/webp"
    return f"data:{mime or default_mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_ref(value: Any, root: Path | None) -> str:
    """One image cell → what an `ImagePart` holds (a URL, or a path joined to `root` when relative)."""
    if isinstance(value, dict):
        raw = value.get("bytes")
        if isinstance(raw, (bytes, bytearray)) and raw:
            return bytes_data_url(bytes(raw))
        value = value.get("path") or value.get("url") or value.get("image")
    if not isinstance(value, str) or not value:
        raise ValueError(f"an image must be a path, a URL or a {{'bytes': ...}} dict, got {value!r}")
    if value.startswith(("data:", "http://", "https://", "file://")):
        return value
    path = Path(value).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    return str(path)


def record_images(record: dict[str, Any], root: Path | None) -> dict[int, str]:
    """`image_1` … `image_7` (else the list `images`), 1-based, empty cells skipped."""
    found = {
        i: record[f"image_{i}"]
        for i in range(1, MAX_IMAGES + 1)
        if record.get(f"image_{i}") not in (None, "")
    }
    if not found and isinstance(record.get("images"), list):
        found = {i + 1: v for i, v in enumerate(record["images"]) if v not in (None, "")}
    return {i: image_ref(v, root) for i, v in found.items()}


def text_with_images(text: str, images: dict[int, str]) -> list[dict[str, str]]:
    """EvalScope's `_parse_text_with_media`: text segments (blank ones dropped) and images in order."""
    parts: list[dict[str, str]] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        segment = text[last : match.start()]
        if segment.strip():
            parts.append({"type": "text", "text": segment})
        index = int(match.group(2))
        if match.group(1) == "image" and index in images:
            parts.append({"type": "image", "image": images[index]})
        last = match.end()
    if text[last:].strip():
        parts.append({"type": "text", "text": text[last:]})
    return parts


def to_message(role: str, content: str | list[dict[str, str]]) -> ChatMessage:
    """A message from the JSON-safe parts a sample keeps in its metadata."""
    if isinstance(content, str):
        return ChatMessage(role=role, content=content)
    parts: list[TextPart | ImagePart] = [
        TextPart(text=p["text"]) if p["type"] == "text" else ImagePart(image=p["image"]) for p in content
    ]
    return ChatMessage.multimodal(role, parts)  # type: ignore[arg-type]


class ImageQuestion(Benchmark):
    """A benchmark that asks one user turn: the text and image parts kept in `metadata["content"]`,
    after the optional `system_prompt` (MMMU, MathVista)."""

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages = [to_message("user", sample.metadata["content"])]
        if self.args.system_prompt:
            messages.insert(0, ChatMessage(role="system", content=self.args.system_prompt))
        return messages
