"""The native backend: run a plan's requests concurrently, cache each answer, score, aggregate.

One asyncio loop serves all benchmarks of a run; `eval_batch_size` workers pull from a queue, so
memory stays flat however many samples there are, and identical requests (same cache key) are
sent once and shared.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope import registry
from evalscope.benchmark import Benchmark
from evalscope.config import TaskConfig
from evalscope.contracts import ChecksConnection, GenerateRequest, Model
from evalscope.errors import ConfigError, EvalScopeError
from evalscope.gc_tuning import fewer_gc_passes
from evalscope.report import Report, SampleRecord, build_report
from evalscope.run_context import RunInfo, atomic_write_text, call_lifecycle
from evalscope.sharding import JudgeGates, RequestGate, Shard, through_gate

from evalscope_native.engine.breaker import CircuitBreaker
from evalscope_native.engine.cache import PredictionCache, cache_key
from evalscope_native.engine.conversation import converse
from evalscope_native.engine.plan import BenchmarkPlan, Item, Plan, build_plan
from evalscope_native.engine.progress import progress_bar
from evalscope_native.engine.retry import Outcome, call_with_retry
from evalscope_native.engine.scoring import score_async, score_sync

log = logging.getLogger("evalscope.native")


async def _check_services(model: Model, panel: Any, benchmarks: Sequence[Benchmark] = ()) -> None:
    """The model service, every judge service and the services benchmarks call themselves (τ-bench's
    simulated user), each checked once (`ChecksConnection`, `Benchmark.check_services`)."""
    if isinstance(model, ChecksConnection):
        await model.check_connection()
    if panel is not None:
        try:
            await panel.check_connection()
        except EvalScopeError as exc:
            raise type(exc)(f"judge: {exc.message}", exc.hint) from None
    for adapter in benchmarks:
        await adapter.check_services()


class ServiceFailedError(EvalScopeError):
    """The circuit breaker stopped the run: the service kept failing the same way (exit code 1)."""


@dataclass
class Prepared:
    plan: Plan
    model: Model
    breaker: CircuitBreaker | None = None


class NativeBackend:
    @fewer_gc_passes
    def prepare(self, config: TaskConfig) -> Prepared:
        if config.rerun_review and (config.use_cache is None or not config.use_cache.is_dir()):
            raise ConfigError(
                "--rerun-review re-scores the predictions of an earlier run, so it needs that run's folder.",
                hint="add --use-cache outputs/<timestamp> (an existing run folder)",
            )
        plan = build_plan(config)
        model_cls = registry.load_impl(plan.model_spec)
        model: Model = model_cls(config)
        identity = model.identity()
        for bench in plan.benchmarks:
            for item in bench.items:
                item.key = cache_key(identity, item.request)
        if config.test_connection and not config.rerun_review:
            # Before any output: a dead URL must cost a second and an exit code 2, not a folder of failures.
            asyncio.run(_check_services(model, plan.judge_panel, [b.adapter for b in plan.benchmarks]))
        return Prepared(plan, model, CircuitBreaker(config.retry.max_consecutive_failures))

    @fewer_gc_passes
    def run(self, prepared: Prepared, run: RunInfo) -> list[Report]:
        return asyncio.run(self._run_all(prepared, run))

    # --- evalscope.sharding.ShardableBackend: a distributed runner's three steps (engine/shards.py) ---

    def plan_shards(self, prepared: Prepared, shard_size: int) -> list[Shard]:
        from evalscope_native.engine.shards import plan_shards

        return plan_shards(prepared, shard_size)

    async def run_shard(
        self,
        prepared: Prepared,
        shard: Shard,
        *,
        known: dict[str, dict[str, Any]],
        on_answer: Any,
        gate: RequestGate | None = None,
        score: bool = True,
        outcomes: Sequence[dict[str, Any]] | None = None,
        judge_gate: JudgeGates | None = None,
    ) -> list[dict[str, Any]]:
        from evalscope_native.engine.shards import run_shard

        return await run_shard(
            self, prepared, shard, known=known, on_answer=on_answer, gate=gate,
            score=score, outcomes=outcomes, judge_gate=judge_gate,
        )  # fmt: skip

    def prepare_scoring(self, config: TaskConfig) -> Prepared:
        """`evalscope.sharding.ScoresWithoutModel`: the plan without a model (a CPU scoring process)."""
        from evalscope_native.engine.shards import prepare_scoring

        return prepare_scoring(config)

    def merge_shards(
        self, prepared: Prepared, run: RunInfo, records: dict[str, list[dict[str, Any]]]
    ) -> list[Report]:
        from evalscope_native.engine.shards import merge_shards

        return merge_shards(self, prepared, run, records)

    async def _run_all(self, prepared: Prepared, run: RunInfo) -> list[Report]:
        reports = []
        try:
            for bench in prepared.plan.benchmarks:
                reports.append(await self._run_benchmark(prepared, bench, run))
        finally:
            await prepared.model.aclose()
            if prepared.plan.judge_panel is not None:
                await prepared.plan.judge_panel.aclose()
        return reports

    async def _run_benchmark(self, prepared: Prepared, bench: BenchmarkPlan, run: RunInfo) -> Report:
        config = prepared.plan.config
        name = bench.spec.name
        cache = PredictionCache(run.predictions_path(name))
        records: dict[int, SampleRecord] = {}
        lines: dict[int, str] = {}  # each record's reviews/ line, made while the requests are in flight
        scorer = ThreadPoolExecutor(
            max_workers=max(1, bench.adapter.scoring_workers), thread_name_prefix="evalscope-score"
        )
        try:
            # A multi-turn sample is done when its last turn is: each turn is looked up as it is built.
            multi = bench.adapter.multi_turn or bench.adapter.agent  # turns are looked up one by one
            todo = list(bench.items) if multi else [it for it in bench.items if cache.get(it.key) is None]
            cached = len(bench.items) - len(todo)
            log.info(
                "%s (v%s): %d samples in %d subset(s), %d to request",
                name,
                bench.spec.version,
                len(bench.items),
                len(bench.subsets),
                len(todo),
            )
            if cached:
                log.info(
                    "%s: %d of %d predictions reused from %s", name, cached, len(bench.items), cache.path
                )
            with progress_bar(
                f"{bench.spec.pretty_name or name}", total=len(bench.items), done=cached
            ) as advance:
                loop = asyncio.get_running_loop()
                scoring: list[asyncio.Task[None]] = []

                def finish(rec: SampleRecord, fresh: bool) -> None:
                    if rec.error and rec.attempts:
                        log.warning(
                            "%s %s failed after %d attempt(s): %s", name, rec.id, rec.attempts, rec.error
                        )
                    records[rec.index] = rec
                    if fresh:
                        advance(1, failed=1 if rec.error else 0)
                    call_lifecycle("evalscope_on_sample_done", run=run, record=rec)
                    lines[rec.index] = rec.model_dump_json() + "\n"  # final now: the hooks have seen it

                # Scoring runs on its own thread: a scorer may wait on another process (Math-Verify, ~1.5 ms
                # a sample), and the event loop must keep reading answers and sending requests meanwhile.
                # One thread unless the adapter scores thread-safely in parallel (code execution). Async
                # scorers (a judge) are then awaited on the loop; `finish` runs back on the loop.
                # A benchmark judged only by async scorers (a judge) has nothing slow to run off the loop:
                # building its record inline saves a thread hop a sample (~1.4 s per 10,000).
                inline = all(b.is_async for b in bench.scorers)

                async def score(item: Item, outcome: Outcome, fresh: bool = True) -> None:
                    if inline:
                        pending = score_sync(bench, item, outcome)
                    else:
                        pending = await loop.run_in_executor(scorer, score_sync, bench, item, outcome)
                    finish(await score_async(bench, pending), fresh)

                def done(item: Item, outcome: Outcome) -> None:
                    scoring.append(loop.create_task(score(item, outcome)))

                for it in [] if multi else bench.items:
                    out = cache.get(it.key)
                    if out is not None:
                        scoring.append(loop.create_task(score(it, Outcome(out, 0), fresh=False)))
                if config.rerun_review and not multi:
                    missing = Outcome(None, 0, "no cached prediction to re-review (--rerun-review)")
                    scoring += [loop.create_task(score(it, missing, fresh=False)) for it in todo]
                    todo = []

                await self._execute(
                    prepared.model, config, todo, cache, done, prepared.breaker, bench.adapter
                )
                await asyncio.gather(*scoring)  # re-raises a scorer's exception: a bug must not pass silently
                self._after_breaker(prepared.breaker, config, name, records, len(bench.items))
        finally:
            cache.close()
            scorer.shutdown(wait=False)
        return self._finish_benchmark(prepared, bench, run, records, lines)

    def _finish_benchmark(
        self,
        prepared: Prepared,
        bench: BenchmarkPlan,
        run: RunInfo,
        records: dict[int, SampleRecord],
        lines: dict[int, str] | None = None,
    ) -> Report:
        """reviews/ and the report from every sample's record (a local run's or the merged shards').

        `lines`: records already serialized, by index (a local run makes each as its sample finishes,
        while later requests are in flight: ~20 ms of a 1,319-sample run's tail otherwise).
        """
        config = prepared.plan.config
        name = bench.spec.name
        ordered = [records[it.index] for it in bench.items]
        extra = bench.adapter.report_extra()
        if prepared.plan.judge_panel is not None and any("judge" in r.metadata for r in ordered):
            from evalscope_native.judge.stats import judge_report

            extra = {**extra, "judge": judge_report(ordered, bench.values[0], prepared.plan.judge_panel)}
        made = lines or {}
        text = "".join(made.get(it.index) or records[it.index].model_dump_json() + "\n" for it in bench.items)
        atomic_write_text(run.reviews_path(name), text)
        report = build_report(
            ordered,
            name=bench.spec.canonical_name,
            dataset_name=name,
            pretty_name=bench.spec.pretty_name,
            benchmark_version=bench.spec.version,
            model_name=run.model_name,
            metrics=bench.report_metrics,
            category_of=bench.adapter.category_of,
            subset_order=bench.subsets,
            backend=run.backend,
            config=config.public_dump(),
            extra=extra,
            aggregate=bench.aggregate,
            aggregation=bench.aggregation,
            aggregates=bench.aggregates,
            seed=config.seed or 0,
        )
        report = bench.adapter.finalize_report(report, ordered)  # e.g. data_collection's levels
        for filename, content in bench.adapter.report_files(report, ordered).items():  # e.g. leaderboard.txt
            if isinstance(content, bytes):  # e.g. needle_haystack's heat map PNG
                _write_bytes(run.report_path(name).parent / filename, content)
            else:
                atomic_write_text(run.report_path(name).parent / filename, content)
        log.info(
            "%s: %s = %.4f over %d samples, %d failed",
            name,
            report.metrics[0].name if report.metrics else "-",
            report.score() if report.metrics else float("nan"),
            report.num_samples,
            report.num_errors,
        )
        return report

    @staticmethod
    def _after_breaker(
        breaker: CircuitBreaker | None,
        config: TaskConfig,
        name: str,
        records: dict[int, SampleRecord],
        total: int,
    ) -> None:
        """Say that the breaker tripped; without --ignore-errors the run stops here, resumable."""
        if breaker is None or breaker.tripped is None:
            return
        unsent = sum(1 for r in records.values() if r.error and r.error.startswith("not sent:"))
        if not config.ignore_errors:
            answered = sum(1 for r in records.values() if not r.error)
            raise ServiceFailedError(
                f"stopped sending requests: {breaker.tripped}. Of {total} {name} samples, {answered} were "
                "answered before that (kept for a resume).",
                hint="fix the service, then resume with --use-cache <run folder>; or pass --ignore-errors to "
                "record the remaining samples as failed and finish the report",
            )
        log.warning(
            "%s: %d samples were not sent and are recorded as failed: %s", name, unsent, breaker.tripped
        )
        print(
            f"evalscope: {name}: {unsent} samples were not sent and are recorded as failed "
            f"(--ignore-errors): {breaker.tripped}",
            file=sys.stderr,
            flush=True,
        )

    async def _execute(
        self,
        model: Model,
        config: TaskConfig,
        todo: list[Item],
        cache: PredictionCache,
        done: Any,
        breaker: CircuitBreaker | None = None,
        adapter: Any = None,
        gate: RequestGate | None = None,
    ) -> None:
        """Send `todo` with `eval_batch_size` workers; `done(item, outcome)` for each, on the loop.

        Once `breaker` trips, workers stop taking items: without --ignore-errors the rest stay unsent
        (the caller raises); with it, each is reported at once as failed with the breaker's reason.
        `gate` (a distributed runner's cluster-wide limiter) is entered around every attempt.
        """
        if not todo:
            return
        # Local models (models/local_hf.py) batch the concurrent requests. A model that defines
        # `batch_sort_key(request)` gets the longest prompts queued first, so each batch holds prompts of
        # similar length and little of it is padding (stable sort: ties keep the dataset order).
        sort_key = getattr(model, "batch_sort_key", None)
        if sort_key is not None:
            todo = sorted(todo, key=lambda it: -sort_key(it.request))
        # `--timeout` bounds a request to a service. A local model's request waits for its whole batch,
        # which may take minutes on a CPU, so a model can opt out with `request_timeout = False`.
        timeout = config.timeout if getattr(model, "request_timeout", True) else None
        queue: asyncio.Queue[Item] = asyncio.Queue()
        for it in todo:
            queue.put_nowait(it)
        inflight: dict[str, asyncio.Future[Outcome]] = {}
        rng = random.Random(config.seed)

        async def worker() -> None:
            while True:
                if breaker is not None and breaker.tripped is not None and not config.ignore_errors:
                    return
                if unstored:  # answers can no longer be kept: asking for more would waste them
                    return
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if item.error is not None:  # the benchmark refused this sample's input: nothing to send
                    log.warning("%s: not sent: %s", item.sample.id, item.error)
                    loop.call_soon(done, item, Outcome(None, 0, item.error))
                    continue
                # an agent's planned request (policy + tools) is the same for every task: never shared
                shared = None if adapter is not None and adapter.agent else inflight.get(item.key)
                if shared is not None:  # an identical request is already on its way
                    loop.call_soon(done, item, await shared)
                    continue
                fut: asyncio.Future[Outcome] = loop.create_future()
                inflight[item.key] = fut

                def send(request: GenerateRequest, label: str = item.sample.id) -> Any:
                    call: Any = functools.partial(model.generate, request)
                    if gate is not None:
                        call = functools.partial(through_gate, gate, call)
                    return call_with_retry(call, config.retry, timeout, rng, label=label, breaker=breaker)

                if adapter is not None and adapter.agent:  # τ-bench: the benchmark runs the episode
                    from evalscope_native.engine.agent_session import AgentRun, run_agent_sample

                    def retry(call: Any, label: str) -> Any:
                        return call_with_retry(call, config.retry, timeout, rng, label=label)

                    session = AgentRun(
                        item.sample.id, send, retry, cache, functools.partial(cache_key, identity),
                        cache_only=config.rerun_review,
                    )  # fmt: skip
                    outcome = await run_agent_sample(adapter, item, session)
                elif adapter is not None and adapter.multi_turn:
                    outcome = await converse(
                        adapter, item, send, cache, functools.partial(cache_key, identity),
                        cache_only=config.rerun_review,
                    )  # fmt: skip
                else:
                    outcome = await send(item.request)
                    if outcome.output is not None:
                        meta = {"attempts": outcome.attempts, "sample": item.sample.id}
                        loop.call_soon(store, item.key, outcome.output, meta)
                fut.set_result(outcome)
                # Storing, scoring and bookkeeping run on a later loop turn, after this worker has sent
                # its next request: when a wave of answers arrives together, no request waits for the
                # others' bookkeeping (against a 200 ms server that lag adds up over the waves).
                loop.call_soon(done, item, outcome)

        unstored: list[BaseException] = []

        def store(key: str, output: Any, meta: dict[str, Any]) -> None:
            try:
                cache.put(key, output, meta)
            except BaseException as exc:  # noqa: BLE001 - re-raised below: a callback's error would only be logged
                unstored.append(exc)

        identity = model.identity()
        loop = asyncio.get_running_loop()
        n = min(config.eval_batch_size, len(todo))
        await asyncio.gather(*(worker() for _ in range(n)))
        await asyncio.sleep(0)  # let the last scheduled `store` and `done` callbacks run
        if unstored:
            raise unstored[0]  # e.g. a full disk: the run stops, resumable from what was stored


def _write_bytes(path: Path, data: bytes) -> None:
    """A report file that is not text (a PNG), written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
