"""The content-hash embedding cache and the OpenAI-compatible embedding client (real HTTP on 127.0.0.1).

The embedder here is a fake *model* (vectors derived from a hash of the text) so the counts are exact;
the cache, the client and the server are the real parts under test.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evalscope.config import RetryConfig
from evalscope.testing import InProcessServer
from evalscope_rag.embedding.api import EmbeddingServiceError, OpenAIEmbeddingClient
from evalscope_rag.embedding.cached import CachedEmbedder

FAST_RETRY = RetryConfig(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05)


def _vec(text: str, dim: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:dim]]


class HashEmbedder:
    """A fake model: deterministic vectors, and a record of what it was asked to encode."""

    similarity_fn_name = "cosine"
    builtin_prompts = None

    def __init__(self, name: str = "hash-model") -> None:
        self.name = name
        self.calls: list[list[str]] = []

    def identity(self) -> dict[str, Any]:
        return {"kind": "test", "model": self.name}

    def embed(
        self,
        texts: list[str],
        *,
        mode: str,
        prompt: str | None,
        batch_size: int,
        show_progress: bool,
        extra: dict[str, Any],
    ) -> np.ndarray:
        self.calls.append(list(texts))
        return np.asarray([_vec((prompt or "") + t) for t in texts], dtype=np.float32)


def test_rerun_encodes_nothing_and_duplicates_once(tmp_path: Path) -> None:
    texts = ["a cat", "a dog", "a cat", "a bird"]
    first = HashEmbedder()
    out = CachedEmbedder(first, cache_root=tmp_path).embed(texts)
    assert first.calls == [["a cat", "a dog", "a bird"]]  # the duplicate is encoded once
    assert out.shape == (4, 8) and np.array_equal(out[0], out[2])
    second = HashEmbedder()  # a new process, the same model: everything comes from disk
    cached = CachedEmbedder(second, cache_root=tmp_path)
    again = cached.embed(list(reversed(texts)))
    assert second.calls == []
    assert cached.stats.as_dict() == {"requested": 4, "cache_hits": 4, "encoded": 0, "encode_calls": 0}
    assert np.array_equal(again, out[::-1])
    # new texts only are encoded; order follows the input
    mixed = cached.embed(["a fish", "a dog"])
    assert second.calls == [["a fish"]]
    assert np.allclose(mixed[1], _vec("a dog"))


def test_what_changes_vectors_changes_the_key(tmp_path: Path) -> None:
    model = HashEmbedder()
    cached = CachedEmbedder(model, cache_root=tmp_path)
    cached.embed(["x"])
    cached.embed(["x"], prompt="query: ")
    cached.embed(["x"], mode="query")
    cached.embed(["x"], encode_kwargs={"normalize_embeddings": True, "batch_size": 3})
    cached.embed(["x"], encode_kwargs={"batch_size": 999})  # speed settings do not change the key
    assert len(model.calls) == 4
    other = HashEmbedder("another-model")
    CachedEmbedder(other, cache_root=tmp_path).embed(["x"])
    assert other.calls == [["x"]]


def test_a_corrupt_row_is_re_encoded(tmp_path: Path) -> None:
    model = HashEmbedder()
    cached = CachedEmbedder(model, cache_root=tmp_path)
    cached.embed(["x", "y"])
    cached.close()
    db = next(tmp_path.glob("*.sqlite"))
    with sqlite3.connect(db) as con:
        con.execute("UPDATE vectors SET data = x'00' WHERE rowid = 1")
    model2 = HashEmbedder()
    out = CachedEmbedder(model2, cache_root=tmp_path).embed(["x", "y"])
    assert sum(len(c) for c in model2.calls) == 1
    assert np.allclose(out, [_vec("x"), _vec("y")])


def test_api_client_batches_retries_and_keeps_order() -> None:
    with InProcessServer(
        {"faults": {"fail_first": 2}}, embed=lambda texts: [_vec(t) for t in texts]
    ) as server:
        client = OpenAIEmbeddingClient("emb", server.base_url, retry=FAST_RETRY, concurrency=3)
        texts = [f"sentence {i}" for i in range(23)]
        out = client.embed(texts, mode="plain", prompt="q: ", batch_size=5, show_progress=False, extra={})
        assert server.stats()["routes"]["embeddings"]["faults"] == 2
        assert (
            server.stats()["routes"]["embeddings"]["requests"] == 5 + 2
        )  # ceil(23/5) batches, two of them retried
    assert np.allclose(out, [_vec("q: " + t) for t in texts])


def test_api_client_gives_up_with_the_services_message() -> None:
    with InProcessServer(
        {"faults": {"fail_first": 100}}, embed=lambda texts: [_vec(t) for t in texts]
    ) as server:
        client = OpenAIEmbeddingClient("emb", server.base_url, retry=FAST_RETRY)
        with pytest.raises(EmbeddingServiceError, match="kept failing.*injected server error"):
            client.embed(["x"], mode="plain", prompt=None, batch_size=8, show_progress=False, extra={})
        assert server.stats()["routes"]["embeddings"]["requests"] == FAST_RETRY.max_retries + 1  # bounded
    with InProcessServer() as no_embeddings:  # 404: not retried
        client = OpenAIEmbeddingClient("emb", no_embeddings.base_url, retry=FAST_RETRY)
        with pytest.raises(EmbeddingServiceError, match="HTTP 404"):
            client.embed(["x"], mode="plain", prompt=None, batch_size=8, show_progress=False, extra={})
