"""The ray runner (`--runner ray`): a run's shards, or perf's load shares, on the actors of a Ray cluster.

Eval: the driver (this process) plans shards through `evalscope.sharding.ShardableBackend`, skips
those already finished in the run folder, and hands the rest to `EvalDriver` (eval_driver.py):
model actors, one per placement-group bundle (a GPU bundle holds a tensor-parallel group), spread
over the nodes, and -- when generation and scoring are split -- a pool of CPU scoring actors that
also ask the judge. The driver, the only writer of the run folder, appends answers to the
prediction cache as they arrive and writes a shard's records when it is scored, then merges every
shard into the backend's usual report.

Perf: one `LoadWorker` per share, spread over nodes; see `run_load`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from evalscope.errors import ConfigError
from evalscope.jsonl_store import JsonlStore
from evalscope.run_context import RunInfo
from evalscope.runners import LoadResult
from evalscope.sharding import Shard, ShardableBackend

from evalscope_ray.cluster import connect, env_for_workers
from evalscope_ray.config import RayRunnerArgs, shard_size_for
from evalscope_ray.eval_driver import EvalDriver, known_answers
from evalscope_ray.workers import LoadWorker, accepts

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
        shards = backend.plan_shards(
            prepared, shard_size_for(self.args.shard_size, self.config.eval_batch_size)
        )
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
        split = self._split(backend, shards)
        self.stats = {"shards": len(shards), "skipped": len(shards) - len(pending), "retried": 0}
        log.info("ray: %d shards, %d already finished, %d to run", len(shards), len(shards) - len(pending),
                 len(pending))  # fmt: skip
        if pending:
            import ray

            stores = {s.benchmark: JsonlStore(run.predictions_path(s.benchmark)) for s in pending}
            driver = EvalDriver(ray, self.args, self.config, run, stores, records, self.stats)
            try:
                asyncio.run(driver.drive(pending, split))
            finally:
                for store in stores.values():
                    store.close()
        reports: list[Report] = backend.merge_shards(prepared, run, records)
        return reports

    def _split(self, backend: ShardableBackend, shards: list[Shard]) -> bool:
        """Whether generation and scoring run as two stages (docs/ray.md, "What runs where").

        auto: when the model actors hold GPUs (a GPU must not wait for scorers) or a benchmark asks a
        judge (its own stage, with its own cluster-wide caps); an API model without a judge scores
        beside its requests, where scoring costs least.
        """
        mode = self.args.stages
        able = accepts(backend, "score") and accepts(backend, "outcomes")
        if mode == "split" and not able:
            raise ConfigError(
                f"backend {type(backend).__name__} cannot run generation and scoring as separate stages "
                "(its run_shard takes no `score`/`outcomes`)",
                hint="drop --runner-args stages=split (or use stages=together)",
            )
        if mode == "auto":
            return able and (self.args.gpus_per_actor > 0 or any(s.judged for s in shards))
        return mode == "split"

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


def _read_jsonl(path: Any) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
