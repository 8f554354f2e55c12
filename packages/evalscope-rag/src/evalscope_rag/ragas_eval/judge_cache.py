"""The judge's reply cache: one JSONL file in the run folder, keyed by content hash, appended as replies arrive.

Why cache each judge *reply* rather than each finished (sample, metric) score: a ragas metric asks the
judge several times in sequence (faithfulness: statements, then one verdict per batch; context
precision: one verdict per context; answer relevancy: `strictness` questions), and each prompt after
the first is built from the replies before it. Re-running the metric against cached replies rebuilds
exactly the same prompts, so the same keys hit and the scores are bit-for-bit those of an uninterrupted
run, while a run killed between two calls of one metric loses only the calls that were in flight —
a score-level cache would throw away every finished call of an unfinished metric. Embeddings are
deterministic and have their own on-disk cache, so nothing else is needed to reproduce a score.

The key is the SHA-256 of a canonical JSON document holding the judge's identity (model name and the
sampling parameters that change the reply: temperature, max_tokens), the messages sent, the JSON
schema of the reply ragas asked for, and the occurrence — the how-many-th identical request this is
within one (sample, metric) evaluation. The occurrence keeps deliberate repeats distinct (answer
relevancy asks the same prompt `strictness` times to sample several questions) while two samples
whose prompts are identical still share one reply. The endpoint URL and API key are left out, so a
judge restarted on another port serves the same cache.

Only replies that parsed and fitted the schema (and passed the caller's check) are stored: a sample
whose judge failed is asked again on resume. Crash safety as the native engine's prediction cache:
each entry is one `os.write` of a whole line to an O_APPEND descriptor, so a SIGKILL loses at most
the replies in flight; a torn last line is cut off when the file is reopened and an unreadable line
is skipped with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from evalscope.secrets import redact

log = logging.getLogger("evalscope.rag.judge_cache")


def judge_cache_key(
    identity: dict[str, Any], messages: list[dict[str, Any]], schema: dict[str, Any], occurrence: int
) -> str:
    payload = {"judge": identity, "messages": messages, "schema": schema, "occurrence": occurrence}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgeCache:
    """key → accepted reply text; `path=None` keeps it in memory only (no run folder, e.g. tests)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.loaded = 0  # entries found on disk when opened (a resumed run)
        self._fd: int | None = None
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path)
            self.loaded = len(self.entries)

    def _load(self, path: Path) -> None:
        raw = path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            cut = raw.rfind(b"\n") + 1
            log.warning(
                "%s: dropping a torn last line (%d bytes) left by an interrupted run", path, len(raw) - cut
            )
            with path.open("r+b") as fh:
                fh.truncate(cut)
            raw = raw[:cut]
        for lineno, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry["reply"], str):
                    raise TypeError("reply is not a string")
                self.entries[str(entry["key"])] = entry
            except (ValueError, KeyError, TypeError):
                log.warning("%s:%d: unreadable judge cache line skipped", path, lineno)

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return str(entry["reply"]) if entry is not None else None

    def put(self, key: str, reply: str, meta: dict[str, Any]) -> None:
        entry = {"key": key, "reply": reply, **meta}
        line = (redact(json.dumps(entry, ensure_ascii=False)) + "\n").encode(
            "utf-8"
        )  # a key echoed by the judge
        with self._lock:
            self.entries[key] = entry
            if self.path is None:
                return
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, line)

    def forget(self, key: str) -> None:
        """Drop an entry from memory (a cached reply that no longer fits): the next ask re-requests it."""
        with self._lock:
            self.entries.pop(key, None)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __len__(self) -> int:
        return len(self.entries)
