"""Turn the engine's one-request-at-a-time calls into batches for an in-process model.

The engine drives every model through `await model.generate(request)` from `eval_batch_size`
concurrent workers, and keeps its cache, retries and per-sample records per request. A local model
is fast only in batches, so this layer sits between the two:

* `submit` queues a request on the event loop and returns when its batch is done;
* one dispatcher task gathers up to `batch_size` queued requests with the same decoding settings —
  it starts a batch as soon as `batch_size` are waiting, or when no new request has arrived for
  `linger_s` (the tail of a benchmark, or fewer workers than the batch size);
* the batch runs on a single dedicated thread (`run_batch`), so the event loop keeps scoring
  answers and queueing the next requests while the model computes, and the model is never entered
  by two threads at once;
* results go back to each request's future. A request whose caller stopped waiting (cancelled) is
  dropped from its batch if the batch has not started, and its result discarded if it has.

Batch composition decides only speed: the model's `run_batch` must give every request the answer it
would get alone (left padding with a correct attention mask, see `local_hf.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")

log = logging.getLogger("evalscope.native.local")


@dataclass
class _Pending(Generic[P, R]):
    group: str
    payload: P
    future: asyncio.Future[R]


class BatchRunner(Generic[P, R]):
    def __init__(
        self,
        run_batch: Callable[[list[P]], list[R]],
        batch_size: int,
        linger_s: float = 0.005,
        thread_name: str = "evalscope-generate",
    ) -> None:
        self.run_batch = run_batch
        self.batch_size = max(1, batch_size)
        self.linger_s = linger_s
        self.batches_run = 0
        self.thread_name = thread_name
        self._thread: ThreadPoolExecutor | None = None
        self._pending: list[_Pending[P, R]] = []
        self._running: list[_Pending[P, R]] = []
        self._arrived: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, group: str, payload: P) -> R:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first call, or a new event loop (a later asyncio.run)
            self._loop, self._pending, self._arrived = loop, [], asyncio.Event()
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)
            self._dispatcher = loop.create_task(self._dispatch(), name="evalscope-batcher")
        assert self._arrived is not None
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append(_Pending(group, payload, future))
        self._arrived.set()
        return await future

    async def _dispatch(self) -> None:
        try:
            await self._dispatch_loop()
        finally:
            # Whatever ended the dispatcher (cancellation at shutdown, a bug), no caller may wait forever.
            for p in self._pending + self._running:
                if not p.future.done():
                    p.future.set_exception(RuntimeError("the batch dispatcher stopped"))

    async def _dispatch_loop(self) -> None:
        assert self._arrived is not None and self._loop is not None
        loop, thread = self._loop, self._thread
        while True:
            self._pending = [p for p in self._pending if not p.future.done()]
            if not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            # Wait for a full batch, but not for requests that are not coming.
            while len(self._pending) < self.batch_size:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), self.linger_s)
                except TimeoutError:
                    break
            group = self._pending[0].group
            batch = [p for p in self._pending if p.group == group and not p.future.done()][: self.batch_size]
            taken = {id(p) for p in batch}
            self._pending = [p for p in self._pending if id(p) not in taken]
            if not batch:
                continue
            self._running = batch
            try:
                results = await loop.run_in_executor(thread, self.run_batch, [p.payload for p in batch])
                self.batches_run += 1
                if len(results) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} requests gave {len(results)} results")
            except Exception as exc:  # the batch failed as a whole: each of its requests fails with it
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(exc)
            else:
                for p, result in zip(batch, results, strict=True):
                    if not p.future.done():
                        p.future.set_result(result)
            self._running = []

    async def aclose(self) -> None:
        if self._dispatcher is not None and not self._dispatcher.done():
            self._dispatcher.cancel()
            try:
                await self._dispatcher
            except asyncio.CancelledError:
                pass
        self._dispatcher = None
        self._loop = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
