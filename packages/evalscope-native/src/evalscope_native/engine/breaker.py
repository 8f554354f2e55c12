"""A circuit breaker: stop sending once the service has failed the same way N times in a row.

Why: retries are per sample. A server that dies mid-run (or a key revoked mid-run) would otherwise
cost every remaining sample its full retry budget — 1,000 samples × 6 attempts × backoff is half an
hour of silence before the run ends with nothing but failures. A run of identical failures with no
success in between is the signature of an outage, not of hard prompts, so after
`RetryConfig.max_consecutive_failures` of them the engine stops: the run fails with the cause (the
answers received so far stay in the prediction cache, so `--use-cache` resumes it), or, with
`--ignore-errors`, the samples not yet sent are recorded as failed at once.

"Identical" compares the error's `kind` (`refused`, `http_401`, `not_json`, ...), so a slow prompt's
timeout between connection refusals does not reset the count, while any success does. Rate limiting
(HTTP 429) never counts: it is the server asking us to slow down, which the retry's `Retry-After`
handling does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CircuitBreaker"]

# `bad_input` is a sample's own fault (an image file that does not exist), not the service's
_NEVER_TRIPS = frozenset({"http_429", "bad_input"})


@dataclass
class CircuitBreaker:
    threshold: int
    kind: str | None = None
    count: int = 0
    last_error: str = ""
    tripped: str | None = None  # why the breaker opened; None while closed

    def success(self) -> None:
        self.kind, self.count = None, 0

    def failure(self, kind: str, message: str) -> None:
        if self.tripped is not None or self.threshold <= 0 or kind in _NEVER_TRIPS:
            return
        if kind != self.kind:
            self.kind, self.count = kind, 0
        self.count += 1
        self.last_error = message
        if self.count >= self.threshold:
            self.tripped = (
                f"the service failed {self.count} times in a row with the same cause ({kind}): {message}"
            )
