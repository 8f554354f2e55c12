"""The driver of an eval on Ray: pools of actors taking shards from queues, one writer of the run folder.

Two shapes (`--runner-args stages=...`):

* **together** -- a model actor requests a shard and scores it (cheapest for an API model without a
  judge: scoring costs microseconds beside the requests);
* **split** -- a model actor only requests (`run_shard(score=False)`); as soon as a shard's answers
  are in, the shard goes to a pool of CPU scoring actors, which score it from the outcomes the
  driver passes on and ask the judge through the judge endpoints' own cluster-wide limiters.
  A GPU then never waits for Math-Verify, a sandbox or a judge, and the judge's caps hold for the
  whole cluster. A shard whose answers were all stored by an earlier run goes straight to scoring.

Either way every fresh answer streams to the driver and is appended to the prediction store at
once, and a shard's records are written when it is scored. An actor lost mid-shard (its node died)
costs its work in flight only: the shard goes back to its stage's queue -- a model actor's with the
answers received so far as `known`, a scoring actor's with the same outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from evalscope.config import TaskConfig
from evalscope.errors import ConfigError, EvalScopeError
from evalscope.jsonl_store import JsonlStore
from evalscope.run_context import RunInfo, atomic_write_text
from evalscope.sharding import Shard

from evalscope_ray.cluster import env_for_workers
from evalscope_ray.config import RayRunnerArgs
from evalscope_ray.limiter import EndpointLimiter, limiter_name
from evalscope_ray.workers import ScoringActor, ShardWorker

__all__ = ["EvalDriver", "known_answers"]

log = logging.getLogger("evalscope.ray")

# A unit of work in a stage's queue: the shard, and for scoring the outcomes of its generation
# (None: score from the answers stored by an earlier run).
Work = tuple[Shard, list[dict[str, Any]] | None]


@dataclass
class _Pool:
    """One stage's actors: their placement group, how many are alive, the queue they take work from."""

    role: str  # "model" | "scoring"
    size: int
    pg: Any
    depth: int = 1  # pieces of work each actor takes at once
    queue: asyncio.Queue[Work | None] = field(default_factory=asyncio.Queue)
    alive: int = 0

    def stop(self) -> None:
        for _ in range(self.size * self.depth):
            self.queue.put_nowait(None)


class EvalDriver:
    """Runs `pending` shards on the cluster; `records` collects every scored shard's records."""

    def __init__(
        self,
        ray: Any,
        args: RayRunnerArgs,
        config: TaskConfig,
        run: RunInfo,
        stores: dict[str, JsonlStore],
        records: dict[str, list[dict[str, Any]]],
        stats: dict[str, Any],
    ) -> None:
        self.ray = ray
        self.args = args
        self.config = config
        self.run = run
        self.stores = stores
        self.records = records
        self.stats = stats
        self.attempts: dict[tuple[str, str], int] = {}
        self.token = uuid.uuid4().hex[:8]  # names this run's limiter actors

    # --- resources ------------------------------------------------------------------------------

    def _model_bundle(self) -> dict[str, float]:
        bundle: dict[str, float] = {"CPU": self.args.cpus_per_actor}
        if self.args.gpus_per_actor:
            bundle["GPU"] = float(self.args.gpus_per_actor)
        return bundle

    def _sizes(self, split: bool) -> tuple[int, int]:
        """Model and scoring actors: as asked, else as many as the cluster holds (split: side by side)."""
        model = self._model_bundle()
        total = self.ray.cluster_resources()
        scoring_cpus = self.args.cpus_per_scoring_actor if split else 0.0
        n = self.args.actors
        if n is None:
            reserved = (self.args.scoring_actors or 0) * scoring_cpus
            per = dict(model)
            if split and self.args.scoring_actors is None:
                per["CPU"] = per["CPU"] + scoring_cpus  # one scoring actor beside each model actor
            free = {k: total.get(k, 0.0) - (reserved if k == "CPU" else 0.0) for k in per}
            n = max(1, min(int(free[k] // v) for k, v in per.items()))
        return n, (self.args.scoring_actors or n) if split else 0

    def _placement(self, bundle: dict[str, float], n: int, what: str) -> Any:
        from ray.util.placement_group import placement_group

        pg = placement_group([dict(bundle) for _ in range(n)], strategy=self.args.placement)
        ready, _ = self.ray.wait([pg.ready()], timeout=self.args.placement_timeout_s)
        if not ready:
            self.ray.util.remove_placement_group(pg)
            raise ConfigError(
                f"The Ray cluster cannot hold {n} {what} bundles of {bundle} ({self.args.placement}) after "
                f"{self.args.placement_timeout_s:g} s; it has {self.ray.cluster_resources()}.",
                hint="lower --runner-args actors / cpus_per_actor / gpus_per_actor (model actors) or "
                "scoring_actors / cpus_per_scoring_actor, or add nodes",
            )
        return pg

    def _limiter(self, endpoint: str, concurrency: int | None, rate: float | None) -> Any:
        if concurrency is None and rate is None:
            return None
        remote = self.ray.remote(num_cpus=0, max_concurrency=100_000)(EndpointLimiter)
        return remote.options(name=limiter_name(endpoint, self.token)).remote(concurrency, rate)

    def _judge_limiters(self, shards: list[Shard]) -> dict[str, Any]:
        """One limiter per judge endpoint of the config, when the judge is capped and asked."""
        a = self.args
        if not any(s.judged for s in shards):
            return {}
        endpoints = {m.resolved_api_url() for m in self.config.judge.models}
        limiters = {e: self._limiter("judge " + e, a.judge_max_concurrency, a.judge_requests_per_second)
                    for e in sorted(endpoints)}  # fmt: skip
        return {e: lim for e, lim in limiters.items() if lim is not None}

    def _spawn(self, pool: _Pool, index: int, limiter: Any, judges: dict[str, Any]) -> tuple[Any, str]:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        holder = f"{pool.role}-actor-{index}-{uuid.uuid4().hex[:6]}"
        options: dict[str, Any] = {
            "name": f"evalscope-{holder}",  # `ray list actors` shows which stage an actor serves
            "max_restarts": 0,
            "max_concurrency": 1000,
            "scheduling_strategy": PlacementGroupSchedulingStrategy(
                pool.pg, placement_group_bundle_index=index
            ),
            "runtime_env": {"env_vars": env_for_workers()},
        }
        if pool.role == "model":
            cls = self.ray.remote(ShardWorker).options(
                num_cpus=self.args.cpus_per_actor, num_gpus=self.args.gpus_per_actor, **options
            )
            return cls.remote(self.config, limiter, holder, judges), holder
        cls = self.ray.remote(ScoringActor).options(
            num_cpus=self.args.cpus_per_scoring_actor, num_gpus=0, **options
        )
        return cls.remote(self.config, holder, judges), holder

    # --- the run --------------------------------------------------------------------------------

    async def drive(self, pending: list[Shard], split: bool) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        assert pending
        ray, args = self.ray, self.args
        limiter = self._limiter(self.config.api_url or self.config.model or "model", args.max_concurrency,
                                args.requests_per_second)  # fmt: skip
        judges = self._judge_limiters(pending)
        to_generate: list[Shard] = []
        to_score: list[Shard] = []
        for shard in pending:
            (to_score if split and self._answered(shard) else to_generate).append(shard)
        n_model, n_scoring = self._sizes(split)
        pools: list[_Pool] = []
        model = scoring = None
        if to_generate:
            n = max(1, min(n_model, len(to_generate)))
            pg = self._placement(self._model_bundle(), n, "model-actor")
            model = _Pool("model", n, pg, depth=args.shards_in_flight)
            pools.append(model)
            for shard in to_generate:
                model.queue.put_nowait((shard, None))
        if split:
            n = max(1, min(n_scoring, len(pending)))
            try:
                pg = self._placement({"CPU": args.cpus_per_scoring_actor}, n, "scoring-actor")
            except BaseException:
                for pool in pools:
                    ray.util.remove_placement_group(pool.pg)
                raise
            scoring = _Pool("scoring", n, pg)
            pools.append(scoring)
            for shard in to_score:
                scoring.queue.put_nowait((shard, None))
        remaining = {"all": len(pending), "generate": len(to_generate)}
        started = time.perf_counter()
        self.stats.update(
            stages="split" if split else "together",
            actors=model.size if model else 0,
            scoring_actors=scoring.size if scoring else 0,
            fresh_answers=0, lost_workers=0, scored_only=len(to_score),
            judge_requests={"model": 0, "scoring": 0}, scored_on=[],
        )  # fmt: skip
        log.info("ray: %s stages; %d model actor(s), %d scoring actor(s); %d shard(s) only to score",
                 self.stats["stages"], self.stats["actors"], self.stats["scoring_actors"], len(to_score))  # fmt: skip

        def finish(shard: Shard, result: list[dict[str, Any]]) -> None:
            path = self.run.shard_path(shard.benchmark, shard.key)
            atomic_write_text(path, "".join(_dumps(r) + "\n" for r in result))
            self.records.setdefault(shard.benchmark, []).extend(result)
            remaining["all"] -= 1
            if remaining["all"] == 0:
                for pool in pools:
                    pool.stop()

        async def generate(actor: Any, index: int, work: Work) -> None:
            shard = work[0]
            store = self.stores[shard.benchmark]
            result: dict[str, Any] = {}
            async for ref in actor.run.remote(shard, known_answers(store, shard), not split):
                kind, payload = await ref
                if kind == "answers":
                    for entry in payload:
                        if entry["key"] not in store:
                            store.append(entry)
                            self.stats["fresh_answers"] += 1
                else:
                    result = payload
            self.stats["judge_requests"]["model"] += result["judge_requests"]
            if scoring is None:
                log.info("ray: shard %s done (%d samples, model actor %d)", shard.key[:12], len(shard), index)
                finish(shard, result["records"])
                return
            log.info("ray: shard %s answered (%d samples, model actor %d); to scoring", shard.key[:12],
                     len(shard), index)  # fmt: skip
            scoring.queue.put_nowait((shard, result["records"]))  # pipelined: scored while others generate
            remaining["generate"] -= 1
            if remaining["generate"] == 0 and model is not None:
                model.stop()  # the model actors (GPUs) are let go while the last shards are scored

        async def score(actor: Any, index: int, work: Work) -> None:
            shard, outcomes = work
            known = {} if outcomes is not None else known_answers(self.stores[shard.benchmark], shard)
            result = await actor.score.remote(shard, known, outcomes)
            self.stats["judge_requests"]["scoring"] += result["judge_requests"]
            self.stats["scored_on"].append(result["node_id"])
            log.info("ray: shard %s scored (%d samples, scoring actor %d, %d judge requests)", shard.key[:12],
                     len(shard), index, result["judge_requests"])  # fmt: skip
            finish(shard, result["records"])

        async def serve(pool: _Pool, index: int, handle: Callable[[Any, int, Work], Awaitable[None]]) -> None:
            actor, holder = self._spawn(pool, index, limiter if pool.role == "model" else None, judges)
            pool.alive += 1
            lost = False

            async def take() -> None:  # `pool.depth` of these share the actor
                nonlocal lost
                while (work := await pool.queue.get()) is not None:
                    if lost:  # taken while a sibling found the actor gone: for another actor, uncounted
                        pool.queue.put_nowait(work)
                        return
                    shard = work[0]
                    tries = self.attempts[(pool.role, shard.key)] = (
                        self.attempts.get((pool.role, shard.key), 0) + 1
                    )
                    try:
                        await handle(actor, index, work)
                    except RayTaskError as exc:  # the shard itself failed (service down, a bug): stop
                        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                        raise cause from None
                    except RayActorError as exc:  # the actor or its node is gone: retry the shard elsewhere
                        if exc.actor_init_failed:  # it could not even prepare the run: a real error
                            raise EvalScopeError(
                                f"a Ray {pool.role} actor could not prepare the run: {exc.error_msg}"
                            ) from None
                        pool.queue.put_nowait(work)
                        if not lost:  # once per actor, whichever of its pieces of work noticed first
                            lost = True
                            self._lost(pool, index, holder, shard, tries, exc, [limiter, *judges.values()])
                        return

            try:
                await asyncio.gather(*(take() for _ in range(pool.depth)))
            finally:
                ray.kill(actor, no_restart=True)

        tasks = [asyncio.ensure_future(serve(model, i, generate)) for i in range(model.size)] if model else []
        if scoring is not None:
            tasks += [asyncio.ensure_future(serve(scoring, i, score)) for i in range(scoring.size)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()  # re-raise the first failure
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for pool in pools:
                ray.util.remove_placement_group(pool.pg)
            if limiter is not None:
                self.stats["limiter"] = await limiter.stats.remote()
                ray.kill(limiter, no_restart=True)
            if judges:
                self.stats["judge_limiters"] = {e: await lim.stats.remote() for e, lim in judges.items()}
                for lim in judges.values():
                    ray.kill(lim, no_restart=True)
            self.stats["seconds"] = time.perf_counter() - started
            jr = self.stats["judge_requests"]
            log.info(
                "ray: judge requests: %d from scoring actors, %d from model actors",
                jr["scoring"],
                jr["model"],
            )

    def _answered(self, shard: Shard) -> bool:
        """Every answer of the shard is stored (or --rerun-review asks for none): nothing to request.

        Not for a shard whose samples ask follow-ups (multi-turn, agents): their later requests are
        known only by replaying the conversation, which a model actor does (asking what is missing)."""
        if shard.follow_ups:
            return False
        store = self.stores[shard.benchmark]
        return bool(self.config.rerun_review) or all(k in store for k in shard.answer_keys)

    def _lost(
        self,
        pool: _Pool,
        index: int,
        holder: str,
        shard: Shard,
        tries: int,
        exc: Exception,
        limiters: list[Any],
    ) -> None:
        """An actor died mid-shard: give back its limiter slots; fail the run when that was once too often."""
        self.stats["lost_workers"] += 1
        self.stats["retried"] = self.stats.get("retried", 0) + 1
        for lim in limiters:
            if lim is not None:
                lim.release_holder.remote(holder)
        if tries >= self.args.max_shard_attempts:
            raise EvalScopeError(
                f"shard {shard.key[:12]} ({shard.benchmark}/{shard.subset}) was lost {tries} times on "
                f"{pool.role} actors; last: {exc}",
                hint="check the cluster's nodes (`ray status`), then rerun the same command "
                "with --use-cache <run folder>: finished shards are kept",
            ) from None
        log.warning("ray: %s actor %d lost (%s); shard %s goes back to the queue", pool.role, index,
                    type(exc).__name__, shard.key[:12])  # fmt: skip
        pool.alive -= 1
        if pool.alive == 0:
            raise EvalScopeError(
                f"every Ray {pool.role} actor was lost; the answers received so far are kept",
                hint="check the cluster (`ray status`), then resume with --use-cache <run folder>",
            ) from None


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
