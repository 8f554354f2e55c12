"""Stop rules: end a run early when its error rate passes `--max-error-rate`, or when an open-loop
run is over-saturated (`--stop-on-saturation`, on by default for the rate runs of `--sweep`).

Over-saturation (GuideLLM stops a sweep on it too): requests are offered faster than the service
finishes them, so the backlog (released, not finished) grows without bound instead of settling near
rate x latency (Little's law). With L0 the median latency of the first successful requests (the
service before any queue built up) and H = max(1 s, 3 x L0), the rule fires when, for H seconds in a
row, (a) the backlog exceeds max(10, 2 x rate x L0) and (b) it grew by more than 20 % of the offered
requests over the last H seconds (the service completes under 80 % of the rate). (a) ignores the
ramp-up of a healthy run, (b) the queue of a busy but stable one. Released requests are counted from
the schedule's rate (`rate x elapsed`, at most `--number`): right on average for every arrival shape,
and known without a message from `--workers` processes.

A stopped run keeps every row measured so far (SQLite) and writes its summary with
`stopped_reason`; requests in flight when it stopped count as abandoned, as after Ctrl-C.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from evalscope_perf.record import RequestRecord

__all__ = ["StopRules"]

BACKLOG_FACTOR = 2.0
GROWTH_SHARE = 0.2
MIN_BACKLOG = 10
MIN_HOLD_S = 1.0
EARLY = 10  # successful requests that define L0


@dataclass
class StopRules:
    """Watches one run's measured records; `reason` is set once a rule fires."""

    number: int
    rate: float  # -1: closed loop (no saturation rule: a closed loop cannot outrun its service)
    max_error_rate: float | None = None
    saturation: bool = False
    start: float = field(default_factory=time.perf_counter)
    reason: str | None = None
    finished: int = 0
    failed: int = 0
    _early: list[float] = field(default_factory=list)
    _history: list[tuple[float, int]] = field(default_factory=list)
    _over_since: float | None = None

    def restart(self) -> None:
        """The measured phase starts now (after the warm-up)."""
        self.start = time.perf_counter()

    def observe(self, rec: RequestRecord) -> None:
        if rec.warmup or self.reason:
            return
        self.finished += 1
        if not rec.success:
            self.failed += 1
        elif len(self._early) < EARLY:
            self._early.append(rec.latency)
        if self.max_error_rate is not None:
            need = min(self.number, 20)  # judge on 20 requests at least (fewer only if fewer are sent)
            share = self.failed / self.finished
            if self.finished >= need and share > self.max_error_rate:
                self.reason = (
                    f"error rate {share:.0%} ({self.failed} of {self.finished} requests failed) "
                    f"> --max-error-rate {self.max_error_rate:g}"
                )

    def check(self, now: float | None = None) -> str | None:
        """Called periodically (every ~0.2 s): the over-saturation rule."""
        if self.reason or not self.saturation or self.rate <= 0 or not self._early:
            return self.reason
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        released = min(self.number, int(self.rate * elapsed))
        backlog = released - self.finished
        self._history.append((now, backlog))
        l0 = sorted(self._early)[len(self._early) // 2]
        hold = max(MIN_HOLD_S, 3 * l0)
        if released >= self.number or elapsed < hold:
            self._over_since = None  # all sent (the run drains on its own), or still ramping up
            return None
        while len(self._history) > 2 and self._history[1][0] <= now - hold:
            self._history.pop(0)
        then, before = self._history[0]
        growth = backlog - before
        over = backlog > max(
            MIN_BACKLOG, BACKLOG_FACTOR * self.rate * l0
        ) and growth > GROWTH_SHARE * self.rate * (now - then)
        if not over:
            self._over_since = None
            return None
        if self._over_since is None:
            self._over_since = now
        elif now - self._over_since >= hold:
            self.reason = (
                f"over-saturated: the backlog grew to {backlog} requests at {self.rate:g} req/s "
                f"(+{growth} in the last {now - then:.1f} s; unloaded latency {l0 * 1000:.0f} ms): "
                "the service cannot keep up with this rate"
            )
        return self.reason
