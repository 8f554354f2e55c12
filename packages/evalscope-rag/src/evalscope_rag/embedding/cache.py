"""Embedding cache: content hash of (model identity, encoding settings, text) → vector, on disk.

Why content hashes: a re-run, a changed `limits`, another task sharing sentences (STS12 and
STSBenchmark overlap) or a reordered corpus must all find the vectors they already paid for, and a
changed checkpoint, prompt or pooling must never be served a stale one. Row positions give neither.

Storage is one SQLite file per model namespace (stdlib, atomic commits, indexed lookups), so a
killed run keeps every batch committed before it died and a corpus of millions of passages is
looked up without loading the whole file into memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.cache")

_LOOKUP_CHUNK = 500  # SQLite's default limit on bound parameters is 999


def default_cache_root() -> Path:
    """`$EVALSCOPE_CACHE_DIR/embeddings`, else `~/.cache/evalscope/embeddings` (XDG_CACHE_HOME honoured)."""
    from evalscope.cache_dirs import cache_dir

    return cache_dir("embeddings")


def stable_hash(payload: Any) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors of one model namespace (identity + encoding settings), keyed by sha256 of the text."""

    def __init__(self, root: Path, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.namespace_key = stable_hash(namespace)
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{self.namespace_key[:32]}.sqlite"
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('namespace', ?)", (json.dumps(namespace, default=str),)
        )
        self._db.commit()

    @staticmethod
    def text_key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, dim, data in self._db.execute(
                f"SELECT key, dim, data FROM vectors WHERE key IN ({marks})", chunk
            ):
                if isinstance(data, bytes) and len(data) == 4 * dim:
                    found[key] = np.frombuffer(data, dtype=np.float32)
                else:  # a torn or foreign row: treat as missing, it will be re-encoded and replaced
                    log.warning("%s: ignoring a corrupt vector for key %s", self.path, key[:12])
        return found

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        import numpy as np

        arr = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(k, int(arr.shape[1]), arr[i].tobytes()) for i, k in enumerate(keys)]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()
