"""CLIP embeddings cached by content hash, so a re-run of an image-text set encodes nothing.

The same SQLite store as the text embedders (`embedding/cache.py`), one namespace per (checkpoint,
modality): an image is keyed by the sha256 of its file bytes (a renamed or re-ordered image set still
hits), a caption by the sha256 of its text. Vectors are stored as the encoder returns them (float32,
L2-normalised), so a cached run scores exactly as a fresh one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope_rag.clip_eval.data import ImageTextItem
from evalscope_rag.embedding.cache import EmbeddingCache
from evalscope_rag.embedding.local import checkpoint_fingerprint

if TYPE_CHECKING:
    import torch


def image_key(item: ImageTextItem) -> str:
    data = item.image_path.read_bytes() if item.image_path is not None else (item.image_bytes or b"")
    return hashlib.sha256(data).hexdigest()


def encoder_identity(name: str, revision: str | None) -> dict[str, Any]:
    """What makes this encoder's vectors distinct: the checkpoint, and its files' fingerprint when local."""
    ident: dict[str, Any] = {"kind": "clip", "model": name, "revision": revision}
    local = Path(name)
    if local.is_dir():
        ident["fingerprint"] = checkpoint_fingerprint(local)
    return ident


@dataclass
class ClipCacheStats:
    images_encoded: int = 0
    images_cached: int = 0
    texts_encoded: int = 0
    texts_cached: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class CachedClipEncoder:
    """Wraps a `ClipEncoder`: looks every batch up first and encodes only what is missing."""

    encoder: Any
    images: EmbeddingCache | None
    texts: EmbeddingCache | None
    stats: ClipCacheStats = field(default_factory=ClipCacheStats)

    @classmethod
    def open(cls, encoder: Any, identity: dict[str, Any], root: Path | None) -> CachedClipEncoder:
        if root is None:
            return cls(encoder, None, None)
        return cls(
            encoder,
            EmbeddingCache(root, {**identity, "modality": "image"}),
            EmbeddingCache(root, {**identity, "modality": "text"}),
        )

    def encode_images(self, items: list[ImageTextItem]) -> torch.Tensor:
        keys = [image_key(it) for it in items] if self.images is not None else []
        return self._encode(
            self.images, keys, len(items), lambda idx: self.encoder.encode_images([items[i].open() for i in idx]),
            "images",
        )  # fmt: skip

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        keys = [EmbeddingCache.text_key(t) for t in texts] if self.texts is not None else []
        return self._encode(
            self.texts,
            keys,
            len(texts),
            lambda idx: self.encoder.encode_texts([texts[i] for i in idx]),
            "texts",
        )

    def _encode(self, cache: EmbeddingCache | None, keys: list[str], n: int, encode: Any, kind: str) -> Any:
        import torch

        if cache is None:
            out = encode(list(range(n)))
            setattr(self.stats, f"{kind}_encoded", getattr(self.stats, f"{kind}_encoded") + n)
            return out
        found = cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        vectors: dict[int, torch.Tensor] = {
            i: torch.from_numpy(found[k].copy()) for i, k in enumerate(keys) if k in found
        }
        if missing:
            fresh = encode(missing)
            cache.put_many([keys[i] for i in missing], fresh.numpy())
            vectors.update({i: fresh[j] for j, i in enumerate(missing)})
        setattr(self.stats, f"{kind}_encoded", getattr(self.stats, f"{kind}_encoded") + len(missing))
        setattr(self.stats, f"{kind}_cached", getattr(self.stats, f"{kind}_cached") + n - len(missing))
        return torch.stack([vectors[i] for i in range(n)])

    def close(self) -> None:
        for cache in (self.images, self.texts):
            if cache is not None:
                cache.close()
