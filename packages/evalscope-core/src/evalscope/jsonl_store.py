"""An append-only JSONL file of keyed records: the file under every resumable cache.

Why in the core: the native engine's prediction cache (and its judge verdict cache) and
evalscope-rag's judge reply cache need the same crash-safe file, and two copies of torn-line repair
drift apart. A plugin keeps what is its own — what a key is (a content hash of whatever decides the
answer, never a row position) and what a record holds — and leaves the file to `JsonlStore`.

Crash safety: each record is one `os.write` of a whole line to an O_APPEND descriptor, so a SIGKILL
loses at most the records in flight and two writers never interleave inside a line. A torn last line
(power loss, a full disk) is cut off when the file is reopened, logging how many bytes went and how
they began; a line that is not a readable record is skipped with a warning naming `file:line`. Never
fatal: an unreadable cache entry is only a cache miss, asked again and appended anew.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalscope.secrets import redact

__all__ = ["JsonlStore"]

_PREVIEW = 60  # characters of a dropped torn line shown in the warning

#: Whether a record read back from disk is usable (beyond being an object with a string "key").
RecordCheck = Callable[[dict[str, Any]], bool]


class JsonlStore:
    """Records keyed by their `"key"` field, loaded from `path` when it exists, appended as they come.

    `path=None` keeps the records in memory only (no run folder, e.g. a test). `check` rejects a
    record read back from disk that the caller could not use (it is then skipped as unreadable, so
    the caller asks again). `label` names the file in warnings ("cache", "judge cache"); `logger`
    is the caller's, so the warnings appear under the plugin's logger name.

    Every record is written through `secrets.redact`: a model or judge that echoes an API key must
    not store it. The copy kept in memory is the record as given.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        check: RecordCheck | None = None,
        label: str = "cache",
        logger: logging.Logger | None = None,
    ) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        self._check = check
        self._label = label
        self._log = logger or logging.getLogger("evalscope.jsonl_store")
        self._fd: int | None = None
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path)
        self.loaded = len(self.records)  # records found on disk when opened (a resumed run)

    def _load(self, path: Path) -> None:
        raw = path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            cut = raw.rfind(b"\n") + 1
            torn = raw[cut:].decode("utf-8", errors="replace")
            self._log.warning(
                "%s: dropping a torn last line (%d bytes: %r) left by an interrupted run",
                path,
                len(raw) - cut,
                torn if len(torn) <= _PREVIEW else torn[:_PREVIEW] + "…",
            )
            with path.open("r+b") as fh:
                fh.truncate(cut)
            raw = raw[:cut]
        for lineno, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            record = self._parse(line)
            if record is None:
                self._log.warning("%s:%d: unreadable %s line skipped", path, lineno, self._label)
                continue
            self.records[record["key"]] = record

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if not isinstance(record, dict) or not isinstance(record.get("key"), str):
            return None
        if self._check is not None and not self._check(record):
            return None
        return record

    def get(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def append(self, record: dict[str, Any]) -> None:
        """Keep `record` (it must hold a string `"key"`) and append it to the file as one line."""
        key = record["key"]
        if not isinstance(key, str):
            raise TypeError(f"a JsonlStore record's 'key' must be a string, got {type(key).__name__}")
        line = (redact(json.dumps(record, ensure_ascii=False)) + "\n").encode("utf-8")
        with self._lock:
            self.records[key] = record
            if self.path is None:
                return
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, line)

    def forget(self, key: str) -> None:
        """Drop a record from memory (the file keeps it; a later `append` of the key supersedes it)."""
        with self._lock:
            self.records.pop(key, None)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __contains__(self, key: object) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)
