"""The ray runner (`--runner ray`): a run's shards, or perf's load shares, on the actors of a Ray cluster.

Eval: the driver (this process) plans shards through `evalscope.sharding.ShardableBackend`, skips
those already finished in the run folder, and hands the rest to a pool of worker actors, one per
placement-group bundle (a GPU bundle holds a tensor-parallel group), spread over the nodes. Each
actor prepared the same config and streams back every answer as it arrives; the driver — the only
writer of the run folder — appends answers to the prediction cache at once and writes a shard's
records when it completes. A worker lost mid-shard (its node died) costs only its requests in
flight: the shard goes back to the queue, and whichever actor takes it gets the answers already
received as `known`. The driver finally merges every shard into the backend's usual report.

Perf: one `LoadWorker` per share, spread over nodes; see `run_load`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from evalscope.errors import ConfigError, EvalScopeError
from evalscope.jsonl_store import JsonlStore
from evalscope.run_context import RunInfo, atomic_write_text
from evalscope.runners import LoadResult
from evalscope.sharding import Shard, ShardableBackend

from evalscope_ray.cluster import connect, env_for_workers
from evalscope_ray.config import RayRunnerArgs
from evalscope_ray.limiter import EndpointLimiter, limiter_name
from evalscope_ray.workers import LoadWorker, ShardWorker

if TYPE_CHECKING:
    from evalscope.config import TaskConfig
    from evalscope.report import Report
    from evalscope.specs import BackendSpec

__all__ = ["RayRunner", "known_answers"]

log = logging.getLogger("evalscope.ray")


class RayRunner:
    def __init__(self, args: RayRunnerArgs | None = None) -> None:
        self.args = args or RayRunnerArgs()
        self.config: TaskConfig | None = None
        self.stats: dict[str, Any] = {}  # what the last run did: shards skipped/run/retried, actors, limiter

    # --- evalscope.runners.Runner -------------------------------------------------------------

    def check(self, config: TaskConfig, backend_spec: BackendSpec) -> None:
        connect(self.args.address, self.args.connect_timeout_s)
        # Workers on other nodes see the driver's data folder only by its path: make it explicit.
        data_dir = config.resolved_data_dir()
        self.config = config.model_copy(update={"data_dir": data_dir}) if data_dir else config

    def run_eval(self, backend: Any, prepared: Any, run: RunInfo) -> list[Report]:
        if not isinstance(backend, ShardableBackend):
            raise ConfigError(f"backend {type(backend).__name__} cannot be split into shards")
        assert self.config is not None, "check() runs before run_eval()"
        shards = backend.plan_shards(prepared, self.args.shard_size)
        records: dict[str, list[dict[str, Any]]] = {}
        pending: list[Shard] = []
        for shard in shards:
            path = run.shard_path(shard.benchmark, shard.key)
            # --rerun-review scores every shard again (from the cached answers, asking no model); the
            # new records replace the finished shard's file atomically when the shard completes.
            if path.is_file() and not self.config.rerun_review:  # written whole (atomic rename) when done
                records.setdefault(shard.benchmark, []).extend(_read_jsonl(path))
            else:
                pending.append(shard)
        self.stats = {"shards": len(shards), "skipped": len(shards) - len(pending), "retried": 0}
        log.info("ray: %d shards, %d already finished, %d to run", len(shards), len(shards) - len(pending),
                 len(pending))  # fmt: skip
        if pending:
            stores = {s.benchmark: JsonlStore(run.predictions_path(s.benchmark)) for s in pending}
            try:
                asyncio.run(self._drive(pending, stores, run, records))
            finally:
                for store in stores.values():
                    store.close()
        reports: list[Report] = backend.merge_shards(prepared, run, records)
        return reports

    # --- eval ---------------------------------------------------------------------------------

    def _limiter(self, ray: Any, endpoint: str) -> Any:
        if self.args.max_concurrency is None and self.args.requests_per_second is None:
            return None
        remote = ray.remote(num_cpus=0, max_concurrency=100_000)(EndpointLimiter)
        return remote.options(name=limiter_name(endpoint), get_if_exists=True).remote(
            self.args.max_concurrency, self.args.requests_per_second
        )

    def _bundles(self, ray: Any, wanted: int | None) -> tuple[Any, int]:
        """A placement group of one bundle per actor (CPUs, plus GPUs for a local checkpoint)."""
        from ray.util.placement_group import placement_group

        bundle: dict[str, float] = {"CPU": self.args.cpus_per_actor}
        if self.args.gpus_per_actor:
            bundle["GPU"] = float(self.args.gpus_per_actor)
        n = self.args.actors
        if n is None:
            total = ray.cluster_resources()
            n = max(1, min(int(total.get(k, 0) // v) for k, v in bundle.items()))
        if wanted is not None:
            n = max(1, min(n, wanted))
        pg = placement_group([dict(bundle) for _ in range(n)], strategy=self.args.placement)
        ready, _ = ray.wait([pg.ready()], timeout=self.args.placement_timeout_s)
        if not ready:
            ray.util.remove_placement_group(pg)
            raise ConfigError(
                f"The Ray cluster cannot hold {n} worker bundles of {bundle} ({self.args.placement}) after "
                f"{self.args.placement_timeout_s:g} s; it has {ray.cluster_resources()}.",
                hint="lower --runner-args actors / cpus_per_actor / gpus_per_actor, or add nodes",
            )
        return pg, n

    def _spawn(self, ray: Any, pg: Any, index: int, limiter: Any) -> tuple[Any, str]:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        holder = f"shard-worker-{index}-{uuid.uuid4().hex[:6]}"
        actor = (
            ray.remote(ShardWorker)
            .options(
                num_cpus=self.args.cpus_per_actor,
                num_gpus=self.args.gpus_per_actor,
                max_restarts=0,
                max_concurrency=1000,
                scheduling_strategy=PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=index),
                runtime_env={"env_vars": env_for_workers()},
            )
            .remote(self.config, limiter, holder)
        )
        return actor, holder

    async def _drive(
        self,
        pending: list[Shard],
        stores: dict[str, JsonlStore],
        run: RunInfo,
        records: dict[str, list[dict[str, Any]]],
    ) -> None:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        assert self.config is not None
        limiter = self._limiter(ray, self.config.api_url or self.config.model or "model")
        pg, n = self._bundles(ray, len(pending))
        queue: asyncio.Queue[Shard | None] = asyncio.Queue()
        for shard in pending:
            queue.put_nowait(shard)
        remaining = len(pending)
        attempts: dict[str, int] = {}
        alive = n
        started = time.perf_counter()
        self.stats.update(actors=n, fresh_answers=0, lost_workers=0)

        def finished_one() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                for _ in range(n):
                    queue.put_nowait(None)

        async def serve(index: int) -> None:
            nonlocal alive
            actor, holder = self._spawn(ray, pg, index, limiter)
            try:
                while (shard := await queue.get()) is not None:
                    store = stores[shard.benchmark]
                    known = known_answers(store, shard)
                    attempts[shard.key] = attempts.get(shard.key, 0) + 1
                    try:
                        result: list[dict[str, Any]] = []
                        async for ref in actor.run.remote(shard, known):
                            kind, payload = await ref
                            if kind == "answer":
                                if payload["key"] not in store:
                                    store.append(payload)
                                    self.stats["fresh_answers"] += 1
                            else:
                                result = payload
                    except RayTaskError as exc:  # the shard itself failed (service down, a bug): stop
                        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                        raise cause from None
                    except RayActorError as exc:  # the worker or its node is gone: retry the shard elsewhere
                        if exc.actor_init_failed:  # it could not even prepare the run: a real error
                            raise EvalScopeError(
                                f"a Ray worker could not prepare the run: {exc.error_msg}"
                            ) from None
                        self.stats["lost_workers"] += 1
                        self.stats["retried"] += 1
                        if limiter is not None:
                            limiter.release_holder.remote(holder)
                        if attempts[shard.key] >= self.args.max_shard_attempts:
                            raise EvalScopeError(
                                f"shard {shard.key[:12]} ({shard.benchmark}/{shard.subset}) was lost "
                                f"{attempts[shard.key]} times; last: {exc}",
                                hint="check the cluster's nodes (`ray status`), then rerun the same command "
                                "with --use-cache <run folder>: finished shards are kept",
                            ) from None
                        log.warning("ray: worker %d lost (%s); shard %s goes back to the queue", index,
                                    type(exc).__name__, shard.key[:12])  # fmt: skip
                        alive -= 1
                        queue.put_nowait(shard)
                        if alive == 0:
                            raise EvalScopeError(
                                "every Ray worker was lost; the answers received so far are kept",
                                hint="check the cluster (`ray status`), then resume with --use-cache <run folder>",
                            ) from None
                        return
                    path = run.shard_path(shard.benchmark, shard.key)
                    atomic_write_text(path, "".join(_dumps(r) + "\n" for r in result))
                    records.setdefault(shard.benchmark, []).extend(result)
                    log.info("ray: shard %s done (%d samples, worker %d)", shard.key[:12], len(result), index)
                    finished_one()
            finally:
                ray.kill(actor, no_restart=True)

        tasks = [asyncio.ensure_future(serve(i)) for i in range(n)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()  # re-raise the first failure
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            ray.util.remove_placement_group(pg)
            if limiter is not None:
                self.stats["limiter"] = await limiter.stats.remote()
            self.stats["seconds"] = time.perf_counter() - started

    # --- perf: evalscope.runners.DistributesLoad ----------------------------------------------

    def run_load(
        self,
        shares: list[Any],
        emit: Callable[[list[Any]], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> LoadResult:
        """One `LoadWorker` per share, spread over the nodes; all warm up, then start together.

        The common start is a wall-clock instant a little ahead, each node waiting for it on its own
        clock: the starts are as aligned as the nodes' clocks are (NTP/chrony: about a millisecond on
        a LAN). Every duration is measured on one node's monotonic clock, so TTFT, ITL and latency are
        exact whatever the offset; records come back in seconds since the start.
        """
        ray = connect(self.args.address, self.args.connect_timeout_s)
        return asyncio.run(self._load(ray, shares, emit, should_stop))

    async def _load(
        self,
        ray: Any,
        shares: list[Any],
        emit: Callable[[list[Any]], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> LoadResult:
        remote = ray.remote(LoadWorker).options(
            num_cpus=self.args.cpus_per_actor,
            scheduling_strategy="SPREAD",
            max_restarts=0,
            runtime_env={"env_vars": env_for_workers()},
        )
        actors = [remote.remote(share) for share in shares]
        try:
            await asyncio.gather(*(a.warm_up.remote() for a in actors))
            start_wall = time.time() + 0.5  # time for the "go" to reach every node
            out = LoadResult()
            lates: list[float] = []

            async def pump(actor: Any) -> None:
                async for ref in actor.measure.remote(start_wall):
                    kind, payload = await ref
                    if kind == "records":
                        emit(payload)
                    else:
                        out.abandoned += int(payload["abandoned"])
                        lates.append(float(payload["late_s"]))
                        out.nodes.append(str(payload["node_id"]))

            async def watch() -> None:
                """Perf's stop rules live on the driver: poll them, and tell every share once."""
                while should_stop is not None:
                    await asyncio.sleep(0.2)
                    if should_stop():
                        log.info("ray: a stop rule fired; stopping %d load shares", len(actors))
                        await asyncio.gather(*(a.stop.remote() for a in actors), return_exceptions=True)
                        return

            watcher = asyncio.ensure_future(watch())
            try:
                await asyncio.gather(*(pump(a) for a in actors))
            finally:
                watcher.cancel()
            out.start_spread_s = max(lates) - min(lates) if lates else 0.0
            return out
        finally:
            for a in actors:
                ray.kill(a, no_restart=True)


def known_answers(store: JsonlStore, shard: Shard) -> dict[str, dict[str, Any]]:
    """The cached answers a shard's worker is handed: those of its requests, and every answer
    recorded for one of its samples -- the later turns of a multi-turn sample and the steps of an
    agent episode have keys the plan cannot know in advance, so a resumed shard would otherwise ask
    them again."""
    known = {k: e for k in shard.answer_keys if (e := store.get(k)) is not None}
    ids = set(shard.sample_ids)
    known.update({k: e for k, e in store.records.items() if e.get("sample") in ids})
    return known


def _dumps(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record, ensure_ascii=False)


def _read_jsonl(path: Any) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
