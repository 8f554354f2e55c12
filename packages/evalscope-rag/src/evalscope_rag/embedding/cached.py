"""One front for every embedder: dedupe, look up the content-hash cache, encode only what is new.

`CachedEmbedder.embed` is what MTEB tasks, RAGAS metrics and the benchmark call. It returns float32
vectors in input order, and keeps counts (`stats`) that land in each report's `extra`, so a user —
and a test — can see that a re-run encoded nothing.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evalscope_rag.embedding.cache import EmbeddingCache, stable_hash
from evalscope_rag.embedding.local import NON_SEMANTIC_KWARGS

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.embed")

MODES = ("plain", "query", "document")


class TextEmbedder(Protocol):
    """What `CachedEmbedder` needs from a model: who it is, and vectors for texts."""

    @property
    def similarity_fn_name(self) -> str: ...

    @property
    def builtin_prompts(self) -> dict[str, str] | None: ...

    def identity(self) -> dict[str, Any]: ...

    def embed(
        self,
        texts: list[str],
        *,
        mode: str,
        prompt: str | None,
        batch_size: int,
        show_progress: bool,
        extra: dict[str, Any],
    ) -> np.ndarray: ...


@dataclass
class EmbedStats:
    requested: int = 0
    cache_hits: int = 0
    encoded: int = 0
    encode_calls: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "requested": self.requested,
            "cache_hits": self.cache_hits,
            "encoded": self.encoded,
            "encode_calls": self.encode_calls,
        }


class CachedEmbedder:
    def __init__(
        self,
        embedder: TextEmbedder,
        *,
        cache_root: Path | None,
        batch_size: int = 32,
        show_progress: bool | None = None,
        encode_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.embedder = embedder
        self.cache_root = cache_root
        self.batch_size = batch_size
        self.show_progress = sys.stderr.isatty() if show_progress is None else show_progress
        self.encode_kwargs = {k: v for k, v in (encode_kwargs or {}).items() if k not in NON_SEMANTIC_KWARGS}
        self.stats = EmbedStats()
        self._caches: dict[str, EmbeddingCache] = {}
        self._identity: dict[str, Any] | None = None

    @property
    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            self._identity = self.embedder.identity()
        return self._identity

    def _cache_for(self, mode: str, prompt: str | None, extra: dict[str, Any]) -> EmbeddingCache | None:
        if self.cache_root is None:
            return None
        namespace = {"model": self.identity, "mode": mode, "prompt": prompt, "encode_kwargs": extra}
        key = stable_hash(namespace)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = EmbeddingCache(self.cache_root, namespace)
        return cache

    def embed(
        self,
        texts: list[str],
        *,
        mode: str = "plain",
        prompt: str | None = None,
        encode_kwargs: dict[str, Any] | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Vectors for `texts` (float32, input order); only texts never seen before are encoded."""
        import numpy as np

        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        extra = dict(self.encode_kwargs)
        extra.update({k: v for k, v in (encode_kwargs or {}).items() if k not in NON_SEMANTIC_KWARGS})
        cache = self._cache_for(mode, prompt, extra)
        self.stats.requested += len(texts)
        keys = [EmbeddingCache.text_key(t) for t in texts]
        found = cache.get_many(keys) if cache is not None else {}
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in todo:
                todo[key] = text
        self.stats.cache_hits += sum(1 for k in keys if k in found)
        if todo:
            log.info(
                "encoding %d new texts (%d of %d found in the cache)",
                len(todo),
                len(texts) - len(todo),
                len(texts),
            )
            new_keys = list(todo)
            vectors = self.embedder.embed(
                list(todo.values()),
                mode=mode,
                prompt=prompt,
                batch_size=batch_size or self.batch_size,
                show_progress=self.show_progress,
                extra=extra,
            )
            self.stats.encode_calls += 1
            self.stats.encoded += len(new_keys)
            if cache is not None:
                cache.put_many(new_keys, vectors)
            for i, key in enumerate(new_keys):
                found[key] = vectors[i]
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        for cache in self._caches.values():
            cache.close()
        self._caches.clear()
        closer = getattr(self.embedder, "close", None)
        if callable(closer):
            closer()
