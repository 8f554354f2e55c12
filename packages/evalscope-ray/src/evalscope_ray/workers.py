"""What runs inside the worker actors: a backend's shards (eval) and perf's load shares.

Both classes are plain Python, made Ray actors by the runner (`ray.remote(cls)`), so this module
imports neither Ray nor any plugin: the backend is found through the core registry by name and
driven through `evalscope.sharding.ShardableBackend`; a load share comes pickled, as
`evalscope.runners.LoadShare`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

from evalscope.config import TaskConfig
from evalscope.sharding import Shard, ShardableBackend

from evalscope_ray.limiter import ClusterGate

__all__ = ["LoadWorker", "ShardWorker"]


class ShardWorker:
    """Prepares the run's config once (plan, data, model client), then runs shards on one event loop."""

    def __init__(self, config: TaskConfig, limiter: Any = None, holder: str = "") -> None:
        from evalscope import registry
        from evalscope.secrets import register_secrets

        register_secrets(config.secret_values())
        spec = registry.backends().resolve(config.backend)
        backend: Any = registry.load_impl(spec)()
        if not isinstance(backend, ShardableBackend):
            raise TypeError(
                f"backend {spec.canonical_name} does not implement evalscope.sharding.ShardableBackend"
            )
        self.backend: ShardableBackend = backend
        # The driver already checked the service; each worker re-planning reads the same local data.
        self.prepared = backend.prepare(config.model_copy(update={"test_connection": False}))
        self.gate = ClusterGate(limiter, holder) if limiter is not None else None
        self.node = socket.gethostname()

    def where(self) -> dict[str, Any]:
        import ray

        ctx = ray.get_runtime_context()
        return {"node_id": ctx.get_node_id(), "host": self.node, "gpu_ids": ray.get_gpu_ids()}

    async def run(self, shard: Shard, known: dict[str, dict[str, Any]]) -> AsyncIterator[tuple[str, Any]]:
        """Yields ("answer", entry) as each fresh answer arrives, then ("records", [...]) once."""
        answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        task = asyncio.ensure_future(
            self.backend.run_shard(
                self.prepared, shard, known=known, on_answer=answers.put_nowait, gate=self.gate
            )
        )
        while True:
            getter = asyncio.ensure_future(answers.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield ("answer", getter.result())
                continue
            getter.cancel()
            break
        while not answers.empty():
            yield ("answer", answers.get_nowait())
        yield ("records", task.result())


class LoadWorker:
    """Runs one `LoadShare` of `evalscope perf`: warm up, wait for the common start, measure."""

    def __init__(self, share: Any) -> None:
        self.share = share
        self.node = socket.gethostname()
        self.warm: list[Any] = []

    async def warm_up(self) -> int:
        await self.share.warm_up(self.warm.extend)
        return len(self.warm)

    async def stop(self) -> None:
        """The driver's stop rules fired: runs beside `measure` on this actor's event loop."""
        self.share.stop()

    async def measure(self, start_wall: float) -> AsyncIterator[tuple[str, Any]]:
        """Waits until wall-clock `start_wall`, then measures; records come back with times in
        seconds since that instant on this node's monotonic clock (see docs/ray.md, clocks)."""
        delay = start_wall - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        origin = time.perf_counter()
        late = time.time() - start_wall
        if self.warm:
            yield ("records", self.share.rebase(self.warm, -origin))
            self.warm = []
        batches: asyncio.Queue[list[Any]] = asyncio.Queue()
        task = asyncio.ensure_future(self.share.measure(batches.put_nowait))
        while True:
            getter = asyncio.ensure_future(batches.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield ("records", self.share.rebase(getter.result(), -origin))
                continue
            getter.cancel()
            break
        while not batches.empty():
            yield ("records", self.share.rebase(batches.get_nowait(), -origin))
        import ray

        node = ray.get_runtime_context().get_node_id()
        yield ("done", {"abandoned": task.result(), "late_s": late, "host": self.node, "node_id": node})
