"""The judge LLM and the embeddings, in the shapes ragas 0.4's metric collections accept.

ragas' metrics call `llm.agenerate(prompt, ResponseModel)` and expect a validated pydantic object
back; its own `InstructorLLM` hides the judge's text and retries inside `instructor`. This judge
talks to any OpenAI-compatible chat endpoint itself so that the run can

* keep every raw reply, per sample and metric (`JudgeRecorder`), for the run folder;
* retry transport failures under the run's `RetryConfig` and a malformed reply (not JSON, or JSON
  that does not fit the schema) up to `max_retries` times, then raise `JudgeReplyError` carrying
  the reply — which the runner records as that sample's failure, never as a silent NaN;
* never ask twice for what it already has: every accepted reply goes to a `JudgeCache`
  (`judge_cache.py`, a JSONL file in the run folder), so `--use-cache <run folder>` resumes a killed
  run without paying for the finished calls again, and identical requests in flight are sent once.

Both classes are registered as virtual subclasses of ragas' abstract bases (`ABC.register`), so the
metrics' `isinstance` checks pass without importing ragas when this module loads.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from evalscope.config import RetryConfig

from evalscope_rag.embedding.api import normalise_base_url
from evalscope_rag.embedding.cached import CachedEmbedder
from evalscope_rag.http_json import apost_json
from evalscope_rag.ragas_eval.judge_cache import JudgeCache, judge_cache_key
from evalscope_rag.retry import RetriesExhausted, RetryableError, acall_with_retry

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("evalscope.rag.judge")

M = TypeVar("M", bound="BaseModel")

# (sample index, metric name) of the coroutine currently asking the judge
current_call: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar(
    "judge_call", default=None
)


class JudgeReplyError(Exception):
    """The judge never produced a usable reply; the message quotes the last one."""


@dataclass
class JudgeRecorder:
    """Every judge exchange, grouped by (sample, metric)."""

    entries: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: dict[str, Any]) -> None:
        key = current_call.get() or (-1, "")
        with self._lock:
            self.entries.setdefault(key, []).append(entry)

    def for_sample(self, index: int) -> dict[str, list[dict[str, Any]]]:
        return {metric: items for (i, metric), items in self.entries.items() if i == index}


def parse_json_reply(text: str) -> Any:
    """The JSON object in a reply: the whole text, a ```json fence, or the outermost {...}."""
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.DOTALL)
    candidates = [stripped]
    if fence:
        candidates.append(fence.group(1).strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    last: Exception | None = None
    for cand in candidates:
        try:
            return json.loads(cand)
        except json.JSONDecodeError as exc:
            last = exc
    raise ValueError(f"not JSON ({last})")


class JudgeLLM:
    """An OpenAI-compatible chat model answering ragas' structured prompts (see module docstring)."""

    def __init__(
        self,
        model: str,
        api_base: str,
        *,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        max_retries: int = 3,
        timeout: float = 120.0,
        retry: RetryConfig | None = None,
        recorder: JudgeRecorder | None = None,
        cache: JudgeCache | None = None,
    ) -> None:
        self.model = model
        self.api_base = normalise_base_url(api_base)
        self.api_key = api_key or "EMPTY"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.timeout = timeout
        self.retry = retry or RetryConfig()
        self.recorder = recorder or JudgeRecorder()
        self.cache = cache if cache is not None else JudgeCache(None)
        self.requests = 0
        self.cache_hits = 0
        self._clients: dict[int, Any] = {}  # one httpx client per event loop
        self._guard = threading.Lock()
        self._occurrences: dict[tuple[Any, str], int] = {}
        self._key_locks: dict[tuple[int, str], asyncio.Lock] = {}

    def identity(self) -> dict[str, Any]:
        return {"kind": "openai-chat-judge", "model": self.model, "temperature": self.temperature}

    def request_identity(self) -> dict[str, Any]:
        """What decides a reply besides the prompt: the cache key's `judge` part."""
        return {**self.identity(), "max_tokens": self.max_tokens}

    def _cache_key(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
        """The content key plus this request's occurrence within the current (sample, metric)."""
        base = judge_cache_key(self.request_identity(), messages, schema, 0)
        with self._guard:
            slot = (current_call.get(), base)
            occurrence = self._occurrences.get(slot, 0)
            self._occurrences[slot] = occurrence + 1
        return (
            base
            if occurrence == 0
            else judge_cache_key(self.request_identity(), messages, schema, occurrence)
        )

    def _lock_for(self, key: str) -> asyncio.Lock:
        slot = (id(asyncio.get_running_loop()), key)
        with self._guard:
            lock = self._key_locks.get(slot)
            if lock is None:
                lock = self._key_locks[slot] = asyncio.Lock()
        return lock

    @staticmethod
    def _accept(reply: str, response_model: type[M], check: Callable[[M], str | None] | None) -> M:
        parsed = response_model.model_validate(parse_json_reply(reply))
        problem = check(parsed) if check is not None else None
        if problem:
            raise ValueError(problem)
        return parsed

    async def agenerate(
        self, prompt: str, response_model: type[M], *, check: Callable[[M], str | None] | None = None
    ) -> M:
        """The judge's reply to `prompt` as a `response_model`; from the cache when already answered.

        `check` may reject a reply that fits the schema but not the request (it returns the problem):
        such a reply is retried like a malformed one and never cached.
        """
        from pydantic import ValidationError

        messages = [{"role": "user", "content": prompt}]
        key = self._cache_key(messages, response_model.model_json_schema())
        name = response_model.__name__
        # One request per key at a time: an identical request in flight is answered from the cache.
        async with self._lock_for(key):
            cached = self.cache.get(key)
            if cached is not None:
                try:
                    parsed = self._accept(cached, response_model, check)
                except (ValueError, ValidationError) as exc:
                    log.warning("cached judge reply no longer fits %s (%s); asking again", name, exc)
                    self.cache.forget(key)
                else:
                    self.cache_hits += 1
                    self.recorder.add({"schema": name, "attempt": 1, "reply": cached, "cached": True})
                    return parsed
            reply = ""
            problem = ""
            for attempt in range(1, self.max_retries + 2):
                reply = await self._complete(messages)
                entry: dict[str, Any] = {"schema": name, "attempt": attempt, "reply": reply}
                try:
                    parsed = self._accept(reply, response_model, check)
                except (ValueError, ValidationError) as exc:
                    problem = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                    entry["error"] = problem
                    self.recorder.add(entry)
                    log.debug("judge reply unusable (attempt %d): %s", attempt, problem)
                    continue
                self.recorder.add(entry)
                self.cache.put(key, reply, {"schema": name, "model": self.model})
                return parsed
        raise JudgeReplyError(
            f"the judge's reply is not a valid {name} after {self.max_retries + 1} attempts "
            f"({problem}); last reply: {reply[:300]!r}"
        )

    def generate(self, prompt: str, response_model: type[M]) -> M:
        """Sync form ragas may call outside an event loop."""
        return asyncio.run(self.agenerate(prompt, response_model))

    async def _complete(self, messages: list[dict[str, Any]]) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        rng = random.Random(hash(str(messages[-1]["content"])) & 0xFFFF)
        try:
            return await acall_with_retry(lambda: self._post(body), self.retry, rng, label="judge")
        except RetriesExhausted as exc:
            raise JudgeReplyError(f"the judge at {self.api_base} kept failing: {exc}") from None

    async def _post(self, body: dict[str, Any]) -> str:
        self.requests += 1
        reply = await apost_json(
            self._client(),
            f"{self.api_base}/chat/completions",
            body,
            timeout=self.timeout,
            refused=lambda answer: JudgeReplyError(f"the judge refused the request: {answer}"),
        )
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise RetryableError(f"malformed chat completion ({type(exc).__name__}: {exc})") from None
        return str(content or "")

    def _client(self) -> Any:
        import httpx

        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = self._clients[loop_id] = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(30.0, self.timeout)),
                headers={"Authorization": f"Bearer {self.api_key}"},
            )
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


class RagasEmbeddings:
    """ragas' modern embedding interface over a `CachedEmbedder` (local checkpoint or service)."""

    def __init__(self, embedder: CachedEmbedder) -> None:
        self.embedder = embedder
        self._lock = threading.Lock()  # one model instance: encode calls one at a time

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        with self._lock:
            return self.embedder.embed(list(texts)).tolist()

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_texts([text])[0]

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return (await asyncio.to_thread(self.embed_texts, [text]))[0]

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_texts, list(texts))


def register_with_ragas() -> None:
    """Make ragas' `isinstance` checks accept our judge and embeddings (idempotent)."""
    from ragas.embeddings.base import BaseRagasEmbedding
    from ragas.llms.base import InstructorBaseRagasLLM

    InstructorBaseRagasLLM.register(JudgeLLM)
    BaseRagasEmbedding.register(RagasEmbeddings)
