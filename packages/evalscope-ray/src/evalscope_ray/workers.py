"""What runs inside the actors: a backend's shards (model and scoring actors) and perf's load shares.

These classes are plain Python, made Ray actors by the runner (`ray.remote(cls)`), so this module
imports neither Ray nor any plugin: the backend is found through the core registry by name and
driven through `evalscope.sharding.ShardableBackend`; a load share comes pickled, as
`evalscope.runners.LoadShare`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

from evalscope.config import TaskConfig
from evalscope.sharding import ScoresWithoutModel, Shard, ShardableBackend

from evalscope_ray.limiter import ClusterGate, JudgeGateSet

__all__ = ["ActorSlots", "LoadWorker", "ScoringActor", "ShardWorker", "accepts"]


def _backend(config: TaskConfig) -> ShardableBackend:
    from evalscope import registry
    from evalscope.secrets import register_secrets

    register_secrets(config.secret_values())
    spec = registry.backends().resolve(config.backend)
    backend: Any = registry.load_impl(spec)()
    if not isinstance(backend, ShardableBackend):
        raise TypeError(
            f"backend {spec.canonical_name} does not implement evalscope.sharding.ShardableBackend"
        )
    return backend


def accepts(backend: ShardableBackend, argument: str) -> bool:
    """Whether the backend's `run_shard` takes `argument` (the split stages came later to the contract)."""
    import inspect

    return argument in inspect.signature(backend.run_shard).parameters


def _where() -> dict[str, Any]:
    import ray

    ctx = ray.get_runtime_context()
    return {"node_id": ctx.get_node_id(), "host": socket.gethostname(), "gpu_ids": ray.get_gpu_ids()}


class ShardWorker:
    """A model actor: prepares the run's config once (plan, data, model client), then runs shards on
    one event loop -- whole (requested and scored), or only requested when the run is split."""

    def __init__(
        self,
        config: TaskConfig,
        limiter: Any = None,
        holder: str = "",
        judge_limiters: dict[str, Any] | None = None,
    ) -> None:
        self.backend = _backend(config)
        # The driver already checked the service; each worker re-planning reads the same local data.
        self.prepared = self.backend.prepare(config.model_copy(update={"test_connection": False}))
        cluster = ClusterGate(limiter, holder) if limiter is not None else None
        self.gate = ActorSlots(config.eval_batch_size, cluster)
        self.judge = JudgeGateSet(judge_limiters or {}, holder)
        # A backend from before the judge gate (evalscope.sharding) is still driven, without it.
        self.extra: dict[str, Any] = {"judge_gate": self.judge} if accepts(self.backend, "judge_gate") else {}

    def where(self) -> dict[str, Any]:
        return _where()

    async def run(
        self, shard: Shard, known: dict[str, dict[str, Any]], score: bool = True
    ) -> AsyncIterator[tuple[str, Any]]:
        """Yields ("answers", [entry, ...]) as fresh answers arrive -- every answer waiting at that
        moment in one message (a wave of replies arrives together; one Ray message each would cost
        the driver a round trip per answer) -- then ("result", {...}) once: the records (or, with
        `score=False`, the outcomes), and how many judge requests this shard made."""
        answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        before = self.judge.requests
        # Only the split path passes `score`: a backend that predates it keeps working together.
        stage: dict[str, Any] = dict(self.extra) if score else {**self.extra, "score": False}
        task = asyncio.ensure_future(
            self.backend.run_shard(
                self.prepared, shard, known=known, on_answer=answers.put_nowait, gate=self.gate, **stage,
            )
        )  # fmt: skip
        while True:
            getter = asyncio.ensure_future(answers.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield ("answers", [getter.result(), *_drain(answers)])
                continue
            getter.cancel()
            break
        if not answers.empty():
            yield ("answers", _drain(answers))
        yield ("result", {"records": task.result(), "judge_requests": self.judge.requests - before})


def _drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


class ActorSlots:
    """At most `n` model requests in flight on this actor, whichever of its shards they belong to,
    each also passing the cluster-wide gate when there is one (`evalscope.sharding.RequestGate`).

    Why per actor: the driver gives a model actor more than one shard at a time (`shards_in_flight`),
    so that the slots a shard's last, partial wave leaves free are taken by the next shard's requests;
    `--eval-batch-size` must still mean requests in flight per actor.
    """

    def __init__(self, n: int, outer: Any = None) -> None:
        self._free = asyncio.Semaphore(max(1, n))
        self._outer = outer

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._free:
            if self._outer is None:
                yield
            else:
                async with self._outer.slot():
                    yield


class _NoModelRequests:
    """The model gate of a scoring actor: it must never ask the model, so a request is a bug, loudly."""

    def slot(self) -> Any:
        raise RuntimeError(
            "a scoring actor was about to ask the model; the driver sends it only shards whose answers "
            "it holds (please report this as a bug)"
        )


def _no_answers(entry: dict[str, Any]) -> None:
    raise RuntimeError("a scoring actor received a fresh answer; it must ask the model nothing")


class ScoringActor:
    """A scoring actor (CPU only): scores shards from answers the driver holds, asking the judge --
    through the judge endpoints' cluster-wide limiters -- but never the model.

    It prepares without a model client where the backend can (`ScoresWithoutModel`), so a run of a
    local checkpoint does not load it again on every scoring actor.
    """

    def __init__(
        self, config: TaskConfig, holder: str = "", judge_limiters: dict[str, Any] | None = None
    ) -> None:
        self.backend = _backend(config)
        config = config.model_copy(update={"test_connection": False})
        if isinstance(self.backend, ScoresWithoutModel):
            self.prepared = self.backend.prepare_scoring(config)
        else:
            self.prepared = self.backend.prepare(config)
        self.judge = JudgeGateSet(judge_limiters or {}, holder)

    def where(self) -> dict[str, Any]:
        return _where()

    async def score(
        self,
        shard: Shard,
        known: dict[str, dict[str, Any]],
        outcomes: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """The shard's records from `outcomes` (its generation stage's) or, without, from `known`
        (every answer of the shard, stored by an earlier run); and where, and how many judge requests."""
        before = self.judge.requests
        records = await self.backend.run_shard(
            self.prepared, shard, known=known, on_answer=_no_answers, gate=_NoModelRequests(),
            score=True, outcomes=outcomes, judge_gate=self.judge,
        )  # fmt: skip
        return {"records": records, "judge_requests": self.judge.requests - before, **_where()}


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
