"""The native engine as an `evalscope.sharding.ShardableBackend`: plan shards, run one, merge them.

A distributed runner (`--runner ray`) calls these instead of `NativeBackend.run`. A shard runs the
same code a local run does — `_execute` (concurrency, retries, the circuit breaker, identical
requests sent once), the benchmark's scorers — on its own event loop, in whatever process the
runner chose; only where answers are kept differs: each fresh answer goes to `on_answer` (the
driver appends it to the run's prediction cache) instead of a file here, and answers the driver
already holds come in as `known`. `merge_shards` then writes reviews/ and the report exactly as
`_run_benchmark` does, so a sharded run and a local one give the same files.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

from evalscope.contracts import ModelOutput
from evalscope.report import Report, SampleRecord
from evalscope.run_context import RunInfo, call_lifecycle
from evalscope.sharding import AnswerSink, RequestGate, Shard, shard_key

from evalscope_native.engine.cache import PredictionCache
from evalscope_native.engine.plan import BenchmarkPlan, Item
from evalscope_native.engine.retry import Outcome
from evalscope_native.engine.scoring import score_async, score_sync

if TYPE_CHECKING:
    from evalscope_native.engine.backend import NativeBackend, Prepared


class _ShardAnswers:
    """What `_execute` needs of a `PredictionCache` (`get`, `put`), kept in memory and reported out."""

    def __init__(self, known: dict[str, dict[str, Any]], on_answer: AnswerSink) -> None:
        self.entries = dict(known)
        self.on_answer = on_answer

    def get(self, key: str) -> ModelOutput | None:
        entry = self.entries.get(key)
        return ModelOutput.model_validate(entry["output"]) if entry else None

    def put(self, key: str, output: ModelOutput, meta: dict[str, Any]) -> None:
        entry = {"key": key, "output": output.model_dump(mode="json"), **meta}
        self.entries[key] = entry
        self.on_answer(entry)


def plan_shards(prepared: Prepared, shard_size: int) -> list[Shard]:
    """Each subset of each benchmark cut into runs of `shard_size` samples, in the plan's order."""
    identity = prepared.model.identity()
    generation = prepared.plan.config.generation_config.model_dump(mode="json", exclude_none=True)
    shards: list[Shard] = []
    for bench in prepared.plan.benchmarks:
        by_subset: dict[str, list[Item]] = {}
        for item in bench.items:
            by_subset.setdefault(item.sample.subset or "default", []).append(item)
        for subset, items in by_subset.items():
            for start in range(0, len(items), max(1, shard_size)):
                chunk = items[start : start + shard_size]
                ids = tuple(it.sample.id for it in chunk)
                keys = tuple(it.key for it in chunk)
                key = shard_key(
                    model=identity,
                    benchmark=bench.spec.canonical_name,
                    version=bench.spec.version,
                    subset=subset,
                    sample_ids=ids,
                    generation=generation,
                    requests=keys,
                )
                shards.append(
                    Shard(
                        key=key,
                        benchmark=bench.spec.name,
                        subset=subset,
                        sample_ids=ids,
                        indices=tuple(it.index for it in chunk),
                        answer_keys=keys,
                    )
                )
    return shards


def _bench(prepared: Prepared, name: str) -> BenchmarkPlan:
    for bench in prepared.plan.benchmarks:
        if bench.spec.name == name:
            return bench
    raise KeyError(f"benchmark {name!r} is not in this plan (was it prepared from the same config?)")


async def run_shard(
    backend: NativeBackend,
    prepared: Prepared,
    shard: Shard,
    *,
    known: dict[str, dict[str, Any]],
    on_answer: AnswerSink,
    gate: RequestGate | None = None,
) -> list[dict[str, Any]]:
    """Request what `known` does not answer, score every sample; the records, in the shard's order."""
    config = prepared.plan.config
    bench = _bench(prepared, shard.benchmark)
    items = [bench.items[i] for i in shard.indices]
    answers = _ShardAnswers(known, on_answer)
    multi = bench.adapter.multi_turn or bench.adapter.agent
    todo = list(items) if multi else [it for it in items if answers.get(it.key) is None]
    records: dict[int, SampleRecord] = {}
    pool = ThreadPoolExecutor(
        max_workers=max(1, bench.adapter.scoring_workers), thread_name_prefix="shard-score"
    )
    loop = asyncio.get_running_loop()
    scoring: list[asyncio.Task[None]] = []
    inline = all(b.is_async for b in bench.scorers)

    async def score(item: Item, outcome: Outcome) -> None:
        if inline:
            pending = score_sync(bench, item, outcome)
        else:
            pending = await loop.run_in_executor(pool, score_sync, bench, item, outcome)
        rec = await score_async(bench, pending)
        records[rec.index] = rec

    def done(item: Item, outcome: Outcome) -> None:
        scoring.append(loop.create_task(score(item, outcome)))

    try:
        for it in [] if multi else items:
            out = answers.get(it.key)
            if out is not None:
                done(it, Outcome(out, 0))
        if config.rerun_review and not multi:  # as a local --rerun-review: score what is cached, ask nothing
            missing = Outcome(None, 0, "no cached prediction to re-review (--rerun-review)")
            for it in todo:
                done(it, missing)
            todo = []
        cache = cast(PredictionCache, answers)  # the two methods `_execute` calls
        await backend._execute(
            prepared.model, config, todo, cache, done, prepared.breaker, bench.adapter, gate=gate
        )
        await asyncio.gather(*scoring)
        backend._after_breaker(prepared.breaker, config, bench.spec.name, records, len(items))
    finally:
        pool.shutdown(wait=False)
    return [records[it.index].model_dump(mode="json") for it in items]


def merge_shards(
    backend: NativeBackend, prepared: Prepared, run: RunInfo, records: dict[str, list[dict[str, Any]]]
) -> list[Report]:
    """One report per benchmark from its shards' records; every sample's lifecycle event fires here."""
    reports = []
    for bench in prepared.plan.benchmarks:
        by_index: dict[int, SampleRecord] = {}
        for data in records.get(bench.spec.name, []):
            rec = SampleRecord.model_validate(data)
            by_index[rec.index] = rec
        missing = [it.sample.id for it in bench.items if it.index not in by_index]
        if missing:
            raise RuntimeError(f"{bench.spec.name}: no record for {len(missing)} samples ({missing[:3]} ...)")
        for it in bench.items:
            call_lifecycle("evalscope_on_sample_done", run=run, record=by_index[it.index])
        reports.append(backend._finish_benchmark(prepared, bench, run, by_index))
    asyncio.run(_close(prepared))
    return reports


async def _close(prepared: Prepared) -> None:
    await prepared.model.aclose()
    if prepared.plan.judge_panel is not None:
        await prepared.plan.judge_panel.aclose()
