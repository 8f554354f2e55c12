"""Retry one request with exponential backoff and jitter (uniform in [d/2, d]), honouring `Retry-After`.

Bounded twice: by `max_retries` and by `max_total_s` for the whole sample, so a dead service
turns into recorded failures instead of a run that never ends.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from evalscope.config import RetryConfig
from evalscope.contracts import ModelError, ModelOutput, RetryableModelError

from evalscope_native.engine.breaker import CircuitBreaker

log = logging.getLogger("evalscope.native.retry")


@dataclass
class Outcome:
    output: ModelOutput | None
    attempts: int
    error: str | None = None


def backoff_delay(attempt: int, cfg: RetryConfig, retry_after: float | None, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1-based)."""
    ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * (2 ** (attempt - 1)))
    jittered = rng.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        # The server said when; wait at least that long, plus a little jitter so that the clients it
        # throttled together do not all return in the same millisecond.
        return retry_after + rng.uniform(0, min(0.1 * retry_after, 1.0) if retry_after else 0.01)
    return jittered


async def call_with_retry(
    call: Callable[[], Awaitable[ModelOutput]],
    cfg: RetryConfig,
    timeout: float | None,
    rng: random.Random,
    label: str = "",
    breaker: CircuitBreaker | None = None,
) -> Outcome:
    """Call until it answers, fails for good, or the retry budget (count, time) is spent.

    With a `breaker`, every attempt's outcome is reported to it, and once it has tripped no further
    attempt is made: the outcome says the request was not sent, and why.
    """
    start = time.monotonic()
    attempt = 0
    while True:
        if breaker is not None and breaker.tripped is not None:
            if attempt == 0:
                return Outcome(None, 0, f"not sent: {breaker.tripped}")
            return Outcome(None, attempt, f"stopped after {attempt} attempt(s): {breaker.tripped}")
        attempt += 1
        try:
            if timeout is not None:
                # A hard stop on top of the client's own timeout: a server that stalls after sending
                # headers must not pin a worker forever.
                output = await asyncio.wait_for(call(), timeout=timeout * 1.5 + 1.0)
            else:
                output = await call()
            if breaker is not None:
                breaker.success()
            return Outcome(output, attempt)
        except RetryableModelError as exc:
            error: RetryableModelError = exc
        except asyncio.TimeoutError:
            error = RetryableModelError(f"no answer within {timeout}s (--timeout)", kind="timeout")
        except ModelError as exc:
            if breaker is not None:
                breaker.failure(getattr(exc, "kind", "error"), str(exc))
            return Outcome(None, attempt, str(exc))
        except Exception as exc:  # an unexpected client bug fails this sample, never the run
            return Outcome(None, attempt, f"{type(exc).__name__}: {exc}")
        if breaker is not None:
            breaker.failure(getattr(error, "kind", "error"), str(error))
        if attempt > cfg.max_retries:
            return Outcome(None, attempt, f"failed after {attempt} attempts: {error}")
        delay = backoff_delay(attempt, cfg, error.retry_after, rng)
        elapsed = time.monotonic() - start
        if elapsed + delay > cfg.max_total_s:
            return Outcome(None, attempt, f"gave up after {elapsed:.1f}s and {attempt} attempts: {error}")
        log.debug("%s: attempt %d failed (%s); retrying in %.2fs", label, attempt, error, delay)
        await asyncio.sleep(delay)
