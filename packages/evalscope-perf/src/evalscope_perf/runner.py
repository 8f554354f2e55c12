"""The load generator of one process: closed loop (`--rate -1`) or Poisson arrivals (`--rate R`).

* Closed loop: `parallel` coroutines each send their next request as soon as the previous one ends.
* Open loop: request k is released at the k-th arrival of a process of rate R and waits for one of
  the `parallel` slots, as in vLLM's `--request-rate` with `--max-concurrency`; its clock starts
  when it is sent. The gaps (`arrival_offsets`, seeded): Poisson (exponential gaps), gamma with
  vLLM's `--burstiness` b (shape b, mean 1/R, coefficient of variation 1/sqrt(b): b < 1 burstier
  than Poisson, b > 1 steadier; b = 1 is Poisson), or constant (every 1/R s).

A `share` (k, n) keeps only the requests whose index is k modulo n, with 1/n of the concurrency and
rate: that is how `--workers n` splits one load across processes (the union of n Poisson processes
of rate R/n is a Poisson process of rate R).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from evalscope.http.exchange import Exchange

from evalscope_perf.apis.base import ApiFormat
from evalscope_perf.record import RequestRecord, finalize

__all__ = [
    "ARRIVALS",
    "Client",
    "LoadJob",
    "arrival_offsets",
    "make_client",
    "run_async",
    "run_phase",
    "split",
]

ARRIVALS = ("poisson", "gamma", "constant")


class Client(Protocol):
    async def request(self, body: bytes, request_id: str = "") -> Exchange: ...

    async def preconnect(self, n: int) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class LoadJob:
    """One phase (warm-up or measured) of one process."""

    bodies: list[bytes]  # one pre-serialised body per prompt
    indices: list[int]  # request indices this process sends
    first_prompt: int  # request i uses prompt (first_prompt + i) % len(bodies)
    parallel: int
    rate: float  # -1: closed loop
    seed: int | None
    warmup: bool
    id_prefix: str
    arrival: str = "poisson"  # open loop: "poisson" | "gamma" | "constant"
    burstiness: float = 1.0  # gamma's shape (vLLM's --burstiness)
    conversations: Any = None  # multi_turn.ConversationPlan: turns sent in order, history included


def arrival_offsets(n: int, rate: float, arrival: str, burstiness: float, seed: int | None) -> list[float]:
    """Release times (s after the phase starts) of n requests at `rate` req/s: the k-th is the sum
    of k gaps drawn from a seeded generator (the first request waits one gap, as vLLM's)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if arrival == "constant":
        gaps = np.full(n, 1.0 / rate)
    elif arrival == "gamma" or burstiness != 1.0:
        gaps = rng.gamma(shape=burstiness, scale=1.0 / (rate * burstiness), size=n)
    else:
        gaps = rng.exponential(1.0 / rate, n)
    offsets: list[float] = np.cumsum(gaps).tolist()
    return offsets


def split(total: int, n: int, k: int) -> int:
    """Share k of `total` split as evenly as possible over n."""
    return total // n + (1 if k < total % n else 0)


def make_client(
    kind: str,
    url: str,
    headers: dict[str, str],
    connect: float | None,
    read: float | None,
    total: float | None,
    kernel_stamps: bool = True,
) -> Client:
    if kind == "aiohttp":
        from evalscope.http.aiohttp_client import AiohttpClient

        return AiohttpClient(url, headers, connect_timeout=connect, read_timeout=read, total_timeout=total)
    from evalscope.http.raw import RawHttpClient

    return RawHttpClient(
        url,
        headers,
        connect_timeout=connect,
        read_timeout=read,
        total_timeout=total,
        kernel_stamps=kernel_stamps,
    )


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run on uvloop where available (a faster event loop: more requests per client CPU second)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


#: Longest stretch of bookkeeping (JSON parsing, records) between two polls of the sockets. Bytes
#: that arrive meanwhile wait in the kernel unstamped, so this bounds the timestamp error it causes.
SLICE_S = 0.0002


async def run_phase(
    client: Client,
    api: ApiFormat,
    job: LoadJob,
    sink: Callable[[RequestRecord], None],
    stop: asyncio.Event,
) -> int:
    """Send the job's requests; every finished one goes to `sink`. Returns how many were abandoned
    in flight because `stop` was set (Ctrl-C): those are neither successes nor failures.

    A sender never parses its response: it queues the raw exchange and sends its next request at
    once. A separate finalizer turns exchanges into records in slices of at most `SLICE_S`, yielding
    to the event loop in between, so a burst of completions cannot hold up the stamping of tokens
    arriving on other streams.
    """
    bodies, n_bodies = job.bodies, len(job.bodies)
    in_flight = 0
    done: deque[tuple[Exchange, int, int]] = deque()
    wake = asyncio.Event()
    await client.preconnect(min(job.parallel, len(job.indices)))

    async def send(i: int) -> None:
        nonlocal in_flight
        p = (job.first_prompt + i) % n_bodies
        in_flight += 1
        ex = await client.request(bodies[p], f"{job.id_prefix}-{i}")
        in_flight -= 1
        done.append((ex, i, p))
        wake.set()

    def drain(budget: float) -> None:
        deadline = time.perf_counter() + budget
        while done:
            ex, i, p = done.popleft()
            sink(finalize(ex, api, i, p, job.warmup))
            if time.perf_counter() > deadline:
                return

    async def finalizer() -> None:
        while True:
            if not done:
                wake.clear()
                await wake.wait()
            drain(SLICE_S)
            await asyncio.sleep(0)

    items: list[Any] = list(job.indices)
    sender: Callable[[Any], Coroutine[Any, Any, None]] = send
    if job.conversations is not None:
        from evalscope_perf.multi_turn import conversation_sender

        async def request(body: bytes, rid: str) -> Exchange:
            nonlocal in_flight
            in_flight += 1
            try:
                return await client.request(body, rid)
            finally:
                in_flight -= 1

        items = job.conversations.units(job.indices, job.first_prompt)
        sender = conversation_sender(job.conversations, request, sink, api, job.id_prefix, job.warmup)
    body = _open_loop(job, items, sender, stop) if job.rate > 0 else _closed_loop(job, items, sender, stop)
    task = asyncio.ensure_future(body)
    fin = asyncio.ensure_future(finalizer())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        fin.cancel()
    abandoned = 0
    if not task.done():  # interrupted: drop what is in flight
        abandoned = in_flight
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    drain(float("inf"))
    if not task.cancelled():
        task.result()
    return abandoned


async def _closed_loop(
    job: LoadJob, items: list[Any], send: Callable[[Any], Coroutine[Any, Any, None]], stop: asyncio.Event
) -> None:
    it = iter(items)

    async def worker() -> None:
        for i in it:  # one shared iterator: each coroutine takes the next index when it is free
            if stop.is_set():
                return
            await send(i)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(job.parallel, len(items)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()


async def _open_loop(
    job: LoadJob, items: list[Any], send: Callable[[Any], Coroutine[Any, Any, None]], stop: asyncio.Event
) -> None:
    arrivals = arrival_offsets(len(items), job.rate, job.arrival, job.burstiness, job.seed)
    slots = asyncio.Semaphore(job.parallel)
    tasks: set[asyncio.Future[None]] = set()

    async def one(i: Any) -> None:
        async with slots:
            if not stop.is_set():
                await send(i)

    t0 = time.perf_counter()
    try:
        for i, due in zip(items, arrivals, strict=True):
            delay = t0 + due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop.is_set():
                break
            task = asyncio.ensure_future(one(i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*list(tasks))
    finally:
        for t in tasks:
            t.cancel()
