"""`BatchRunner`: the engine's concurrent requests become batches, and every caller gets its own answer.

`run_batch` here is a plain function that records the batches it receives (no model needed): what
is under test is the grouping, the routing of results and failures, and cancellation.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from evalscope_native.models.batching import BatchRunner


def test_batches_respect_size_and_group_and_route_results() -> None:
    seen: list[list[str]] = []

    def run_batch(items: list[str]) -> list[str]:
        seen.append(list(items))
        return [x.upper() for x in items]

    runner: BatchRunner[str, str] = BatchRunner(run_batch, batch_size=3)
    requests = [("a", "a0"), ("b", "b0"), ("a", "a1"), ("a", "a2"), ("b", "b1"), ("a", "a3"), ("a", "a4")]

    async def main() -> list[str]:
        try:
            return list(await asyncio.gather(*(runner.submit(g, x) for g, x in requests)))
        finally:
            await runner.aclose()

    assert asyncio.run(main()) == [x.upper() for _, x in requests]
    # Oldest request's group first, up to 3 of that group in arrival order; groups never mixed.
    assert seen == [["a0", "a1", "a2"], ["b0", "b1"], ["a3", "a4"]]
    assert runner.batches_run == 3


def test_a_failed_batch_fails_its_requests_only() -> None:
    def run_batch(items: list[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky batch")
        return [x * 2 for x in items]

    runner: BatchRunner[int, int] = BatchRunner(run_batch, batch_size=2)

    async def main() -> list[int | str]:
        async def one(x: int) -> int | str:
            try:
                return await runner.submit("g", x)
            except ValueError as exc:
                return str(exc)

        try:
            return list(await asyncio.gather(*(one(x) for x in (1, 13, 2, 3))))
        finally:
            await runner.aclose()

    assert asyncio.run(main()) == ["unlucky batch", "unlucky batch", 4, 6]


def test_a_cancelled_request_is_dropped_before_its_batch_runs() -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def run_batch(items: list[str]) -> list[str]:
        seen.append(list(items))
        started.set()
        release.wait(timeout=30)
        return items

    runner: BatchRunner[str, str] = BatchRunner(run_batch, batch_size=2)

    async def main() -> tuple[str, str, bool]:
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(runner.submit("g", "first"))
        await loop.run_in_executor(None, started.wait, 30)  # the first batch is running
        doomed = asyncio.ensure_future(runner.submit("g", "doomed"))
        kept = asyncio.ensure_future(runner.submit("g", "kept"))
        await asyncio.sleep(0)  # both are queued
        doomed.cancel()  # as `--timeout` would, while the request waits for a batch
        release.set()
        try:
            return await first, await kept, doomed.cancelled()
        finally:
            await runner.aclose()

    assert asyncio.run(main()) == ("first", "kept", True)
    assert seen == [["first"], ["kept"]]


def test_a_partial_batch_runs_without_waiting_for_requests_that_never_come() -> None:
    runner: BatchRunner[int, int] = BatchRunner(lambda items: items, batch_size=64)

    async def main() -> list[int]:
        try:
            return list(await asyncio.gather(*(runner.submit("g", x) for x in range(5))))
        finally:
            await runner.aclose()

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert runner.batches_run == 1
    # The runner serves a later event loop too (a model reused by a second run).
    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert runner.batches_run == 2


def test_a_result_count_mismatch_is_an_error_not_a_silent_shift() -> None:
    runner: BatchRunner[int, int] = BatchRunner(lambda items: items[:-1], batch_size=4)

    async def main() -> None:
        try:
            await asyncio.gather(*(runner.submit("g", x) for x in range(4)))
        finally:
            await runner.aclose()

    with pytest.raises(RuntimeError, match="a batch of 4 requests gave 3 results"):
        asyncio.run(main())
