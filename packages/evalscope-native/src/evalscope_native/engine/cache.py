"""Prediction cache: one JSONL file per benchmark, keyed by content hash, appended as answers arrive.

Why content hashes and not row positions: a changed `--limit`, a reordered dataset or a new subset
must never pair a prompt with another prompt's answer. The key covers everything that decides the
answer — the model's identity, the rendered messages and the generation config — and nothing that
does not (timeouts, concurrency, streaming).

The file itself — one append-only JSONL line per answer, torn-line repair on reopen, unreadable
lines skipped with a warning naming `file:line`, every line redacted — is the core's `JsonlStore`
(`evalscope/jsonl_store.py`); this module owns what a key and an entry are.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from evalscope.contracts import GenerateRequest, ImagePart, ModelOutput
from evalscope.jsonl_store import JsonlStore

log = logging.getLogger("evalscope.native.cache")


def cache_key(identity: dict[str, Any], request: GenerateRequest) -> str:
    payload = {
        "model": identity,
        "messages": [m.model_dump() for m in request.messages],
        "generation": request.config.model_dump(exclude_none=True),
    }
    # Only a function-calling request carries tools: every other request keeps the key it always had.
    if request.tools is not None:
        payload["tools"] = request.tools
    if request.tool_choice is not None:
        payload["tool_choice"] = request.tool_choice
    # An image given as a local path is read when the request is sent: the key covers its bytes too,
    # so an image changed in place is asked again rather than answered from the cache.
    files = [
        _file_digest(part.image)
        for m in request.messages
        for part in m.parts or ()
        if isinstance(part, ImagePart) and _is_local_image(part.image)
    ]
    if files:
        payload["image_files"] = files
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _is_local_image(image: str) -> bool:
    return not image.startswith(("data:", "http://", "https://"))


@functools.lru_cache(maxsize=4096)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _file_digest(path: str) -> str:
    """The file's sha256 (cached per path, size and mtime); "missing" when it cannot be read -- that
    sample fails when it is sent, naming the file."""
    try:
        st = Path(path).expanduser().stat()
        return _digest(str(Path(path).expanduser()), st.st_size, st.st_mtime_ns)
    except OSError:
        return "missing"


class PredictionCache:
    """cache key → the model's output, with the entry's metadata (`attempts`, `sample`) on disk beside it."""

    def __init__(self, path: Path) -> None:
        self.store = JsonlStore(path, check=_readable, logger=log)
        self.path = path

    def get(self, key: str) -> ModelOutput | None:
        entry = self.store.get(key)
        return ModelOutput.model_validate(entry["output"]) if entry else None

    def put(self, key: str, output: ModelOutput, meta: dict[str, Any]) -> None:
        self.store.append({"key": key, "output": output.model_dump(mode="json"), **meta})

    def close(self) -> None:
        self.store.close()

    def __len__(self) -> int:
        return len(self.store)


def _readable(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("output"), dict)
