"""Agent samples (τ-bench): the benchmark runs each sample's episode, the engine lends it the models.

A benchmark that sets `agent = True` gets `run_agent(sample, request, session)` instead of one
request. `AgentRun` is the session (`evalscope.benchmark.AgentSession`): every request to the model
under test is looked up in the prediction cache by its content hash (plus the trial number after the
first trial, so the n trials of a task are independent conversations) and otherwise sent with the
run's retries and circuit breaker; other calls (a simulated user) get the same retries and, when the
benchmark gives a key, the same cache, so a resumed run or `--rerun-review` replays whole episodes.
A call that fails for good raises `ModelError`; the sample is then recorded as failed with that
message and the run goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from evalscope.contracts import GenerateRequest, ModelError, ModelOutput, Usage

from evalscope_native.engine.cache import PredictionCache
from evalscope_native.engine.retry import Outcome

__all__ = ["AgentRun", "run_agent_sample"]

Send = Callable[[GenerateRequest], Awaitable[Outcome]]
Retry = Callable[[Callable[[], Awaitable[ModelOutput]], str], Awaitable[Outcome]]


class AgentRun:
    """One sample's `AgentSession`: cached, retried model calls; counts attempts and usage."""

    def __init__(
        self,
        sample_id: str,
        send: Send,
        retry: Retry,
        cache: PredictionCache,
        key_of: Callable[[GenerateRequest], str],
        *,
        cache_only: bool = False,
    ) -> None:
        self.sample_id = sample_id
        self._send, self._retry, self._cache, self._key_of = send, retry, cache, key_of
        self._cache_only = cache_only
        self.attempts = 0
        self.usages: list[Usage] = []

    async def generate(self, request: GenerateRequest, *, trial: int = 0) -> ModelOutput:
        key = self._key_of(request)
        if trial:
            key = hashlib.sha256(f"{key}\x1ftrial {trial}".encode()).hexdigest()

        async def send() -> Outcome:
            return await self._send(request)

        return await self._cached(key, send, "model")

    async def call(
        self, fn: Callable[[], Awaitable[ModelOutput]], *, label: str, key: str | None = None
    ) -> ModelOutput:
        async def send() -> Outcome:
            return await self._retry(fn, f"{self.sample_id} {label}")

        return await self._cached(key, send, label)

    async def _cached(
        self, key: str | None, send: Callable[[], Awaitable[Outcome]], label: str
    ) -> ModelOutput:
        output = self._cache.get(key) if key is not None else None
        if output is None:
            if self._cache_only:
                raise ModelError(
                    f"{label}: no cached answer for this step (--rerun-review)", kind="not_cached"
                )
            outcome = await send()
            self.attempts += outcome.attempts
            if outcome.output is None:
                raise ModelError(f"{label}: {outcome.error}")
            output = outcome.output
            if key is not None:
                self._cache.put(key, output, {"attempts": outcome.attempts, "sample": self.sample_id})
        if output.usage is not None and label == "model":
            self.usages.append(output.usage)
        return output


async def run_agent_sample(adapter: Any, item: Any, run: AgentRun) -> Outcome:
    """The sample's episode(s) through `adapter.run_agent`; a `ModelError` fails the sample."""
    try:
        output: ModelOutput = await adapter.run_agent(item.sample, item.request, run)
    except ModelError as exc:
        return Outcome(None, run.attempts, str(exc))
    usage = None
    if run.usages:
        usage = Usage(
            prompt_tokens=sum(u.prompt_tokens for u in run.usages),
            completion_tokens=sum(u.completion_tokens for u in run.usages),
            total_tokens=sum(u.total_tokens for u in run.usages),
        )
    return Outcome(output.model_copy(update={"usage": usage}), run.attempts)
