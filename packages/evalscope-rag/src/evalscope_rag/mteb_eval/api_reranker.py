"""A reranker behind an HTTP rerank API, as an mteb cross-encoder (mteb 2.x `CrossEncoderProtocol`).

The API is the one vLLM, Jina, Cohere, Xinference and TEI-compatible gateways share:
`POST {api_base}/rerank` with `{model, query, documents, top_n, return_documents: false}`, answered
by `{"results": [{"index": i, "relevance_score": s}, …]}` (DashScope's `/reranks` and a bare `score`
field are accepted too, as in EvalScope 1.14.1). mteb hands over (query, document) pairs; they are
grouped by query so one request scores up to `batch_size` candidates of one query, with
`concurrency` requests in flight.

Unlike EvalScope, a document the service leaves out of its answer is not scored 0.0: the request is
retried as malformed under the run's `RetryConfig`, then the run fails naming the service, so a
flaky gateway cannot quietly lower a score. Scores are cached by content hash of (model, prompt,
query, document) in the same SQLite store as embeddings, so a re-run or a resumed run asks the
service only for the pairs it has not scored yet.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope.config import RetryConfig
from evalscope.errors import EvalScopeError

from evalscope_rag.embedding.cache import EmbeddingCache
from evalscope_rag.http_json import make_client, post_json
from evalscope_rag.retry import RetriesExhausted, RetryableError, call_with_retry

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.rerank")

_PAIR_SEP = "\x1f"  # cannot occur in ordinary text: keeps ("a b", "c") apart from ("a", "b c")


class RerankServiceError(EvalScopeError):
    """The rerank service refused a request or kept failing; the message carries its answer."""


def rerank_url(api_base: str) -> str:
    """`{api_base}/rerank`, unless the URL already names the route (or DashScope's `/reranks`)."""
    url = api_base.rstrip("/")
    if url.endswith(("/rerank", "/reranks")):
        return url
    for suffix in ("/embeddings", "/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return f"{url}/reranks" if "dashscope.aliyuncs.com" in url else f"{url}/rerank"


class APIReranker:
    """Scores (query, document) pairs through a rerank API; see the module docstring."""

    def __init__(
        self,
        model_name: str,
        api_base: str,
        *,
        display_name: str,
        api_key: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        concurrency: int = 4,
        timeout: float | None = 120.0,
        retry: RetryConfig | None = None,
        max_chars: int | None = None,
        cache_root: Path | None = None,
    ) -> None:
        self.model_name = model_name
        self.url = rerank_url(api_base)
        self.display_name = display_name
        self.api_key = api_key or "EMPTY"
        self.prompt = prompt or ""
        self.batch_size = max(1, batch_size)
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retry = retry or RetryConfig()
        self.max_chars = max_chars
        self.requests = 0
        self.scored = 0
        self.cache_hits = 0
        self._cache = (
            EmbeddingCache(
                cache_root,
                {"kind": "rerank-api", "model": model_name, "prompt": self.prompt, "max_chars": max_chars},
            )
            if cache_root is not None
            else None
        )
        self._client: Any = None
        self._meta: Any = None

    # -- mteb protocol -----------------------------------------------------------------------------

    @property
    def mteb_model_meta(self) -> Any:
        if self._meta is None:
            from mteb.models.model_meta import ModelMeta

            name = self.display_name
            self._meta = ModelMeta.create_empty(
                overwrites={
                    "name": name if "/" in name else f"evalscope/{name}",
                    "revision": "api",
                    "framework": ["API"],
                }
            )
        return self._meta

    def predict(self, inputs1: Any, inputs2: Any, **kwargs: Any) -> np.ndarray:
        """Relevance scores for the pairs (inputs1[i], inputs2[i]), in order (mteb's dataloaders)."""
        import numpy as np

        queries = [self._clip(self.prompt + t) for batch in inputs1 for t in batch["text"]]
        docs = [self._clip(t) for batch in inputs2 for t in batch["text"]]
        if len(queries) != len(docs):
            raise RerankServiceError(f"mteb gave {len(queries)} queries for {len(docs)} documents")
        scores = self.score_pairs(queries, docs)
        return np.asarray(scores, dtype=np.float32)

    def counters(self) -> dict[str, int]:
        """Requests sent, pairs scored by the service, pairs served from the cache (for the report)."""
        return {"requests": self.requests, "scored": self.scored, "cache_hits": self.cache_hits}

    # -- scoring -----------------------------------------------------------------------------------

    def score_pairs(self, queries: list[str], docs: list[str]) -> list[float]:
        keys = [EmbeddingCache.text_key(q + _PAIR_SEP + d) for q, d in zip(queries, docs, strict=True)]
        scores: dict[str, float] = {}
        if self._cache is not None:
            scores = {k: float(v[0]) for k, v in self._cache.get_many(keys).items()}
            self.cache_hits += sum(1 for k in keys if k in scores)
        by_query: dict[str, dict[str, str]] = {}  # query → {pair key: document}, deduplicated
        for key, query, doc in zip(keys, queries, docs, strict=True):
            if key not in scores:
                by_query.setdefault(query, {})[key] = doc
        jobs = [
            (query, items[i : i + self.batch_size])
            for query, pending in by_query.items()
            for items in [list(pending.items())]
            for i in range(0, len(items), self.batch_size)
        ]
        if jobs:
            log.info("rerank: %d requests to %s (%s)", len(jobs), self.url, self.model_name)

        failed = threading.Event()  # one request failing for good fails the run: start no more

        def one(index: int) -> None:
            if failed.is_set():
                return
            query, items = jobs[index]
            rng = random.Random(index)
            try:
                got = call_with_retry(
                    lambda: self._post(query, [d for _, d in items]), self.retry, rng, label="rerank"
                )
            except RetriesExhausted as exc:
                failed.set()
                raise RerankServiceError(
                    f"The rerank service at {self.url} kept failing: {exc}",
                    hint=f"check that it is running and serves model {self.model_name!r}; "
                    "`retry:` in the config sets how long to insist",
                ) from None
            fresh = {key: got[i] for i, (key, _) in enumerate(items)}
            if self._cache is not None:
                import numpy as np

                self._cache.put_many(list(fresh), np.asarray([[v] for v in fresh.values()], dtype=np.float32))
            scores.update(fresh)
            self.scored += len(fresh)

        if self.concurrency == 1 or len(jobs) <= 1:
            for i in range(len(jobs)):
                one(i)
        else:
            with ThreadPoolExecutor(self.concurrency) as pool:
                for fut in [pool.submit(one, i) for i in range(len(jobs))]:
                    fut.result()
        return [scores[k] for k in keys]

    def _post(self, query: str, documents: list[str]) -> list[float]:
        body = {
            "model": self.model_name,
            "query": query,
            "documents": documents,
            "top_n": len(documents),
            "return_documents": False,
        }
        self.requests += 1
        if self._client is None:
            self._client = make_client(self.api_key, self.timeout, self.concurrency)
        reply = post_json(self._client, self.url, body, timeout=self.timeout, refused=self._refused)
        return parse_rerank_response(reply, len(documents))

    def _refused(self, answer: str) -> RerankServiceError:
        return RerankServiceError(
            f"The rerank service at {self.url} refused the request: {answer}",
            hint=f"check the model name ({self.model_name!r}), the URL and the API key",
        )

    def _clip(self, text: str) -> str:
        return text[: self.max_chars] if self.max_chars else text

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def parse_rerank_response(data: Any, expected: int) -> list[float]:
    """One score per document, by `index`; a missing, duplicate or unknown index is a malformed reply."""
    results = data.get("results") if isinstance(data, dict) else data
    if isinstance(data, dict) and results is None and isinstance(data.get("output"), dict):
        results = data["output"].get("results")  # DashScope's native envelope
    if not isinstance(results, list):
        raise RetryableError(f"malformed rerank response: no `results` list in {str(data)[:200]}")
    scores: dict[int, float] = {}
    for pos, item in enumerate(results):
        if not isinstance(item, dict):
            raise RetryableError(f"malformed rerank result #{pos}: {item!r}")
        try:
            index = int(item.get("index", pos))
            score = float(item["relevance_score"] if "relevance_score" in item else item["score"])
        except (KeyError, TypeError, ValueError):
            raise RetryableError(f"malformed rerank result #{pos}: {str(item)[:200]}") from None
        if not 0 <= index < expected or index in scores:
            raise RetryableError(
                f"rerank result #{pos} has index {index}, expected each of 0..{expected - 1} once"
            )
        scores[index] = score
    if len(scores) != expected:
        missing = sorted(set(range(expected)) - set(scores))
        raise RetryableError(
            f"rerank response scored {len(scores)} of {expected} documents (missing {missing[:10]})"
        )
    return [scores[i] for i in range(expected)]
