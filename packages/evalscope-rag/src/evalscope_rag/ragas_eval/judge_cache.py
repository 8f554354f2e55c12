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
whose judge failed is asked again on resume. The file — one append-only line per reply, a torn last
line cut off on reopen, an unreadable line skipped with a warning naming `file:line` — is the core's
`JsonlStore` (`evalscope/jsonl_store.py`), the same file the native engine's prediction cache uses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from evalscope.jsonl_store import JsonlStore

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
        self.store = JsonlStore(path, check=_readable, label="judge cache", logger=log)
        self.path = path
        self.loaded = self.store.loaded  # entries found on disk when opened (a resumed run)

    def get(self, key: str) -> str | None:
        entry = self.store.get(key)
        return str(entry["reply"]) if entry is not None else None

    def put(self, key: str, reply: str, meta: dict[str, Any]) -> None:
        self.store.append({"key": key, "reply": reply, **meta})

    def forget(self, key: str) -> None:
        """Drop an entry from memory (a cached reply that no longer fits): the next ask re-requests it."""
        self.store.forget(key)

    def close(self) -> None:
        self.store.close()

    def __len__(self) -> int:
        return len(self.store)


def _readable(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("reply"), str)
