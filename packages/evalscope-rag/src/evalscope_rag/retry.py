"""Bounded retries with exponential backoff and jitter, for embedding services and the judge.

The policy is the run's `RetryConfig` (`retry:` in the config file), the same numbers the native
engine uses: at most `max_retries` retries, never past `max_total_s`, waits uniform in [c/2, c] with
c = min(backoff_max_s, backoff_base_s * 2**(k-1)), and a server's `Retry-After` replaces the wait.
Only `RetryableError` is retried; anything else fails at once, so a bad request or a wrong model
name is reported immediately instead of after minutes of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from evalscope.config import RetryConfig

log = logging.getLogger("evalscope.rag.retry")

T = TypeVar("T")


class RetryableError(Exception):
    """A failure worth another attempt (HTTP 429/5xx, a dropped connection, a malformed reply)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhausted(Exception):
    """Every attempt failed; `attempts` and the last error's text are kept for the record."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def backoff_delay(attempt: int, cfg: RetryConfig, retry_after: float | None, rng: random.Random) -> float:
    if retry_after is not None:
        return retry_after + rng.uniform(0, min(0.1 * retry_after, 1.0))
    ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * (2 ** (attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


def _next_wait(
    attempt: int, error: RetryableError, cfg: RetryConfig, start: float, rng: random.Random
) -> float | None:
    """The wait before the next attempt, or None when the budget (count or time) is spent."""
    if attempt > cfg.max_retries:
        return None
    delay = backoff_delay(attempt, cfg, error.retry_after, rng)
    if time.monotonic() - start + delay > cfg.max_total_s:
        return None
    return delay


def call_with_retry(
    fn: Callable[[], T], cfg: RetryConfig, rng: random.Random | None = None, label: str = ""
) -> T:
    rng = rng or random.Random(0)
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except RetryableError as exc:
            wait = _next_wait(attempt, exc, cfg, start, rng)
            if wait is None:
                raise RetriesExhausted(f"{label}: failed after {attempt} attempts: {exc}", attempt) from exc
            log.debug("%s: attempt %d failed (%s); retrying in %.2fs", label, attempt, exc, wait)
            time.sleep(wait)


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]], cfg: RetryConfig, rng: random.Random | None = None, label: str = ""
) -> T:
    rng = rng or random.Random(0)
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except RetryableError as exc:
            wait = _next_wait(attempt, exc, cfg, start, rng)
            if wait is None:
                raise RetriesExhausted(f"{label}: failed after {attempt} attempts: {exc}", attempt) from exc
            log.debug("%s: attempt %d failed (%s); retrying in %.2fs", label, attempt, exc, wait)
            await asyncio.sleep(wait)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
