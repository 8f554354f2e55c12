"""Prediction cache: one JSONL file per benchmark, keyed by content hash, appended as answers arrive.

Why content hashes and not row positions: a changed `--limit`, a reordered dataset or a new subset
must never pair a prompt with another prompt's answer. The key covers everything that decides the
answer — the model's identity, the rendered messages and the generation config — and nothing that
does not (timeouts, concurrency, streaming).

Crash safety: each entry is one `os.write` of a whole line to an O_APPEND descriptor, so a SIGKILL
loses at most the answer in flight. A torn last line (power loss) is cut off when the file is
reopened, and an unreadable line is skipped with a warning, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from evalscope.contracts import GenerateRequest, ModelOutput
from evalscope.secrets import redact

log = logging.getLogger("evalscope.native.cache")


def cache_key(identity: dict[str, Any], request: GenerateRequest) -> str:
    payload = {
        "model": identity,
        "messages": [m.model_dump() for m in request.messages],
        "generation": request.config.model_dump(exclude_none=True),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class PredictionCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self._fd: int | None = None
        if path.exists():
            self._load()

    def _load(self) -> None:
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            cut = raw.rfind(b"\n") + 1
            log.warning(
                "%s: dropping a torn last line (%d bytes) left by an interrupted run",
                self.path,
                len(raw) - cut,
            )
            with self.path.open("r+b") as fh:
                fh.truncate(cut)
            raw = raw[:cut]
        for lineno, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self.entries[entry["key"]] = entry
            except (ValueError, KeyError, TypeError):
                log.warning("%s:%d: unreadable cache line skipped", self.path, lineno)

    def get(self, key: str) -> ModelOutput | None:
        entry = self.entries.get(key)
        return ModelOutput.model_validate(entry["output"]) if entry else None

    def put(self, key: str, output: ModelOutput, meta: dict[str, Any]) -> None:
        entry = {"key": key, "output": output.model_dump(mode="json"), **meta}
        self.entries[key] = entry
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = redact(json.dumps(entry, ensure_ascii=False))  # a model that echoes the key must not store it
        os.write(self._fd, (line + "\n").encode("utf-8"))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __len__(self) -> int:
        return len(self.entries)
