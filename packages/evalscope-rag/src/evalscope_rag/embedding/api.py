"""An OpenAI-compatible embedding service (`POST {api_base}/embeddings`) as a text embedder.

vLLM, TEI, Ollama, Xinference, OpenAI itself: anything that answers `/v1/embeddings`. Texts go in
batches of `batch_size`, `concurrency` batches in flight, each retried under the run's
`RetryConfig` (429/5xx/connection errors/malformed bodies); a 4xx other than 408/409/429 fails at
once with the service's message, since repeating a bad request cannot help.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from evalscope.config import RetryConfig
from evalscope.errors import EvalScopeError

from evalscope_rag.http_json import make_client, post_json
from evalscope_rag.retry import RetriesExhausted, RetryableError, call_with_retry

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.api")


class EmbeddingServiceError(EvalScopeError):
    """The embedding service refused a request or kept failing; the message carries its answer."""


def normalise_base_url(url: str) -> str:
    base = url.rstrip("/")
    for suffix in ("/embeddings", "/chat/completions", "/completions"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


class OpenAIEmbeddingClient:
    def __init__(
        self,
        model_name: str,
        api_base: str,
        *,
        api_key: str | None = None,
        dimensions: int | None = None,
        timeout: float | None = 120.0,
        retry: RetryConfig | None = None,
        concurrency: int = 4,
        max_chars: int | None = None,
    ) -> None:
        self.model_name = model_name
        self.api_base = normalise_base_url(api_base)
        self.api_key = api_key or "EMPTY"
        self.dimensions = dimensions
        self.timeout = timeout
        self.retry = retry or RetryConfig()
        self.concurrency = max(1, concurrency)
        self.max_chars = max_chars
        self.requests = 0
        self._client: Any = None

    def identity(self) -> dict[str, Any]:
        # The URL is left out on purpose: the same model behind another port or a load balancer
        # produces the same vectors (the native engine's cache keys follow the same rule).
        return {"kind": "openai-embeddings", "model": self.model_name, "dimensions": self.dimensions}

    similarity_fn_name = "cosine"
    builtin_prompts: dict[str, str] | None = None

    def _http(self) -> Any:
        if self._client is None:
            self._client = make_client(self.api_key, self.timeout, self.concurrency)
        return self._client

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
        import numpy as np
        from tqdm.auto import tqdm

        inputs = [f"{prompt}{t}" if prompt else t for t in texts]
        if self.max_chars:
            inputs = [t[: self.max_chars] for t in inputs]
        batches = [inputs[i : i + batch_size] for i in range(0, len(inputs), batch_size)]
        out: list[np.ndarray | None] = [None] * len(batches)
        bar = tqdm(
            total=len(inputs), desc=f"Encoding via {self.model_name}", unit="text", disable=not show_progress
        )

        def one(i: int) -> None:
            rng = random.Random(i)
            try:
                out[i] = call_with_retry(lambda: self._post(batches[i]), self.retry, rng, label="embeddings")
            except RetriesExhausted as exc:
                raise EmbeddingServiceError(
                    f"The embedding service at {self.api_base} kept failing: {exc}",
                    hint="check that it is running and serves model "
                    f"{self.model_name!r}; `retry:` in the config sets how long to insist",
                ) from None
            bar.update(len(batches[i]))

        try:
            if self.concurrency == 1 or len(batches) == 1:
                for i in range(len(batches)):
                    one(i)
            else:
                with ThreadPoolExecutor(self.concurrency) as pool:
                    for fut in [pool.submit(one, i) for i in range(len(batches))]:
                        fut.result()
        finally:
            bar.close()
        parts = [b for b in out if b is not None]
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, 0), dtype=np.float32)

    def _post(self, batch: list[str]) -> np.ndarray:
        import numpy as np

        body: dict[str, Any] = {"model": self.model_name, "input": batch, "encoding_format": "float"}
        if self.dimensions is not None:
            body["dimensions"] = self.dimensions
        self.requests += 1
        reply = post_json(
            self._http(), f"{self.api_base}/embeddings", body, timeout=self.timeout, refused=self._refused
        )
        try:
            ordered = sorted(reply["data"], key=lambda d: int(d.get("index", 0)))
            vectors = np.asarray([d["embedding"] for d in ordered], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise RetryableError(f"malformed embeddings response ({type(exc).__name__}: {exc})") from None
        if vectors.ndim != 2 or vectors.shape[0] != len(batch):
            raise RetryableError(f"expected {len(batch)} embeddings, got shape {vectors.shape}")
        return vectors

    def _refused(self, answer: str) -> EmbeddingServiceError:
        return EmbeddingServiceError(
            f"The embedding service at {self.api_base} refused the request: {answer}",
            hint=f"check the model name ({self.model_name!r}) and the API key",
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
