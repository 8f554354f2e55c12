"""Asking one judge model: through the engine's client, retries and cache, with re-asks on bad replies.

A judge call is a model call, so it gets what model calls get: the OpenAI-compatible client
(`models/openai_api.py`), bounded concurrency (`judge.worker_num`, default `--eval-batch-size`),
retries with backoff honouring `Retry-After` (`engine/retry.py`), a circuit breaker, and a
content-hash cache (`engine/cache.py`). The cache is keyed by (judge identity, rendered judge prompt,
generation config) and lives across runs under `$EVALSCOPE_CACHE_DIR/judge/`, one append-only file
per judge: a rerun or a resumed run asks the judge nothing it already answered, and a SIGKILL loses
at most the verdicts in flight. `--rerun-review` re-asks on purpose (the cache is written, not read).

A reply that the contract cannot read is asked again, at most `judge.max_reasks` times, each re-ask
showing the judge its previous reply and what was wrong with it. A re-ask is itself a cached
request, so a rerun replays the same conversation without a call.

A distributed runner caps the judge across its machines (`evalscope.sharding.JudgeGates`): inside
`judge_gates(gates)`, every request to a judge -- each retry too -- passes through the gate for
that judge's endpoint. The gates travel in a context variable, not as an argument, because the
judge is reached through scorers built once per run and shared by every shard on an event loop;
each shard's tasks inherit the gates set where the shard runs, and a local run sees none.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from evalscope.cache_dirs import cache_dir
from evalscope.config import GenerationConfig, TaskConfig
from evalscope.contracts import ChatMessage, GenerateRequest
from evalscope.judge_config import JudgeModelConfig
from evalscope.secrets import redact_message
from evalscope.sharding import JudgeGates, through_gate
from evalscope_native.engine.breaker import CircuitBreaker
from evalscope_native.engine.cache import PredictionCache, cache_key
from evalscope_native.engine.retry import call_with_retry
from evalscope_native.judge.contract import MalformedVerdict, OutputContract

__all__ = ["JudgeAnswer", "JudgeClient", "judge_gates"]

_GATES: ContextVar[JudgeGates | None] = ContextVar("evalscope_judge_gates", default=None)


@contextmanager
def judge_gates(gates: JudgeGates | None) -> Iterator[None]:
    """Judge requests made in this context (and in tasks started from it) pass through `gates`."""
    token = _GATES.set(gates)
    try:
        yield
    finally:
        _GATES.reset(token)


@dataclass
class JudgeAnswer:
    """One verdict, or why there is none; `replies` are the judge's raw texts, last one deciding."""

    judge: str
    parsed: dict[str, Any] | None
    replies: list[str] = field(default_factory=list)
    error: str | None = None
    reason: str | None = None  # transport | malformed

    @property
    def ok(self) -> bool:
        return self.parsed is not None


class JudgeClient:
    def __init__(self, spec: JudgeModelConfig, config: TaskConfig, workers: int, *, refresh: bool) -> None:
        from evalscope_native.models.openai_api import OpenAIModel

        generation = spec.resolved_generation()
        self.name = spec.name
        self.endpoint = spec.resolved_api_url()  # what a distributed runner's judge gates are keyed by
        self.generation = GenerationConfig.model_validate(generation)
        judge_task = TaskConfig(
            model=spec.model_id,
            api_url=spec.resolved_api_url(),
            api_key=spec.resolved_api_key(),
            model_args=dict(spec.model_args),
            timeout=config.timeout,
            eval_batch_size=workers,
            retry=config.retry,
        )
        self.model = OpenAIModel(judge_task)
        self.retry = config.retry
        self.timeout = config.timeout
        self.refresh = refresh
        self.identity = {**self.model.identity(), "role": "judge"}
        digest = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()[:16]
        self.cache = PredictionCache(cache_dir("judge", f"{_safe(spec.model_id)}-{digest}.jsonl"))
        self.limit = asyncio.Semaphore(workers)
        self.breaker = CircuitBreaker(config.retry.max_consecutive_failures)
        self.rng = random.Random(config.seed)
        self.calls = 0  # requests sent (cache misses), for reports and tests
        self.hits = 0

    async def ask(
        self, messages: list[ChatMessage], contract: OutputContract, max_reasks: int, repeat: int = 0
    ) -> JudgeAnswer:
        """The judge's verdict on `messages`, re-asked while malformed (at most `max_reasks` times).

        `repeat` > 0 asks again independently (`judge.repeats`): it is part of the cache key, so each
        repeat is its own cached verdict rather than a copy of the first.
        """
        conversation = list(messages)
        answer = JudgeAnswer(self.name, None)
        for attempt in range(max_reasks + 1):
            reply, error = await self._complete(conversation, repeat)
            if error is not None:
                answer.error, answer.reason = error, "transport"
                return answer
            answer.replies.append(reply)
            try:
                answer.parsed = contract.parse(reply)
                return answer
            except MalformedVerdict as exc:
                answer.error = (
                    f"malformed verdict after {attempt + 1} repl{'y' if attempt == 0 else 'ies'}: {exc}"
                )
                answer.reason = "malformed"
                conversation = [
                    *conversation,
                    ChatMessage(role="assistant", content=reply),
                    ChatMessage(role="user", content=contract.reask(str(exc))),
                ]
        last = answer.replies[-1] if answer.replies else ""
        answer.error = f"{answer.error}; last reply: {_quote(last)}"
        return answer

    async def _complete(self, messages: list[ChatMessage], repeat: int) -> tuple[str, str | None]:
        request = GenerateRequest(messages=messages, config=self.generation)
        key = cache_key({**self.identity, "repeat": repeat} if repeat else self.identity, request)
        if not self.refresh:
            cached = self.cache.get(key)
            if cached is not None:
                self.hits += 1
                return (cached.completions[0] if cached.completions else ""), None
        call: Callable[[], Awaitable[Any]] = functools.partial(self.model.generate, request)
        gates = _GATES.get()
        gate = gates(self.endpoint) if gates is not None else None
        if gate is not None:  # inside the retry loop: every attempt takes its own slot
            call = functools.partial(through_gate, gate, call)
        async with self.limit:
            outcome = await call_with_retry(
                call,
                self.retry,
                self.timeout,
                self.rng,
                label=f"judge {self.name}",
                breaker=self.breaker,
            )
            self.calls += 1
        if outcome.output is None:
            return "", redact_message(f"judge {self.name} request failed: {outcome.error}")
        self.cache.put(key, outcome.output, {"judge": self.name})
        return (outcome.output.completions[0] if outcome.output.completions else ""), None

    async def aclose(self) -> None:
        self.cache.close()
        await self.model.aclose()


def _quote(text: str, limit: int = 300) -> str:
    text = text.replace("\n", " ")
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
