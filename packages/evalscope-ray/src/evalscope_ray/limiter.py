"""One limiter per model endpoint for the whole cluster: a named Ray actor every worker asks.

Why one actor and not a share per node: caps split per node are wrong as soon as nodes are uneven
or one dies (its share is lost); a single counter is exact. The actor is async, so thousands of
waiting acquirers cost coroutines, not threads. A grant is one round trip (about a millisecond on
a LAN), small next to a model's answer.

* concurrency: at most `max_concurrency` slots held at once, FIFO;
* rate: grant k starts no earlier than `first + k / requests_per_second` (a paced schedule, not a
  token bucket with a burst), so any window holds the cap's count within one request.

Slots are held per holder (a worker actor); when a worker dies the driver calls
`release_holder`, so its slots are not lost for the rest of the run.

The judge is capped the same way, by a limiter per judge endpoint of its own (its own caps: the
judge is usually another service than the model); `JudgeGateSet` hands the right one to each
judge request and counts them, which is how a run knows which actors asked the judge.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["ClusterGate", "EndpointLimiter", "JudgeGateSet", "limiter_name"]


def limiter_name(endpoint: str, run: str) -> str:
    """`evalscope-limiter-<endpoint hash>-<run>`: one per endpoint and run (the caps are a run's own;
    a name shared between runs would hand a later run an earlier run's limiter, its caps, or one
    being destroyed)."""
    return f"evalscope-limiter-{hashlib.sha256(endpoint.encode()).hexdigest()[:16]}-{run}"


class EndpointLimiter:
    """Run as a Ray actor (`ray.remote(EndpointLimiter)`), one per endpoint."""

    def __init__(self, max_concurrency: int | None, requests_per_second: float | None) -> None:
        self.max_concurrency = max_concurrency
        self.interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self.in_use = 0
        self.peak = 0
        self.granted = 0
        self.next_at = 0.0
        self.holders: dict[str, int] = {}
        self.changed = asyncio.Condition()

    async def acquire(self, holder: str) -> None:
        if self.max_concurrency is not None:
            async with self.changed:
                await self.changed.wait_for(lambda: self.in_use < (self.max_concurrency or 0))
                self._take(holder)
        else:
            self._take(holder)
        if self.interval:
            now = time.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)

    def _take(self, holder: str) -> None:
        self.in_use += 1
        self.granted += 1
        self.peak = max(self.peak, self.in_use)
        self.holders[holder] = self.holders.get(holder, 0) + 1

    async def release(self, holder: str) -> None:
        held = self.holders.get(holder, 0)
        if held <= 0:
            return  # already given back by release_holder (a worker declared dead)
        self.holders[holder] = held - 1
        await self._give_back(1)

    async def release_holder(self, holder: str) -> int:
        """Give back every slot `holder` still holds (it died); returns how many."""
        held = self.holders.pop(holder, 0)
        await self._give_back(held)
        return held

    async def _give_back(self, n: int) -> None:
        async with self.changed:
            self.in_use -= n
            self.changed.notify_all()

    async def stats(self) -> dict[str, Any]:
        return {"in_use": self.in_use, "peak": self.peak, "granted": self.granted}


class ClusterGate:
    """`evalscope.sharding.RequestGate` backed by the endpoint's limiter actor."""

    def __init__(self, limiter: Any, holder: str) -> None:
        self.limiter = limiter
        self.holder = holder

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.limiter.acquire.remote(self.holder)
        try:
            yield
        finally:
            self.limiter.release.remote(self.holder)  # not awaited: a cancelled request still gives back


class JudgeGateSet:
    """`evalscope.sharding.JudgeGates` on an actor: each judge endpoint's limiter, if it is capped;
    every judge request passing through is counted (`requests`), capped or not."""

    def __init__(self, limiters: dict[str, Any], holder: str) -> None:
        self.gates = {endpoint: ClusterGate(limiter, holder) for endpoint, limiter in limiters.items()}
        self.requests = 0

    def __call__(self, endpoint: str) -> _CountedGate:
        return _CountedGate(self, self.gates.get(endpoint))


class _CountedGate:
    def __init__(self, owner: JudgeGateSet, inner: ClusterGate | None) -> None:
        self.owner = owner
        self.inner = inner

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.owner.requests += 1
        if self.inner is None:
            yield
            return
        async with self.inner.slot():
            yield
