"""The native engine as an `evalscope.sharding.ShardableBackend`: plan shards, run one, merge them.

A distributed runner (`--runner ray`) calls these instead of `NativeBackend.run`. A shard runs the
same code a local run does — `_execute` (concurrency, retries, the circuit breaker, identical
requests sent once), the benchmark's scorers — on its own event loop, in whatever process the
runner chose; only where answers are kept differs: each fresh answer goes to `on_answer` (the
driver appends it to the run's prediction cache) instead of a file here, and answers the driver
already holds come in as `known`. `merge_shards` then writes reviews/ and the report exactly as
`_run_benchmark` does, so a sharded run and a local one give the same files.

A shard can also run in two stages, on two machines: `score=False` requests and returns each
sample's outcome (answer, attempts, or why it failed) instead of scoring; `outcomes=` then scores
those outcomes as the single call would -- same attempts, same failures -- from a preparation that
may have no model at all (`prepare_scoring`: a CPU process must not load a checkpoint to score).
Judge requests made while a shard is scored pass through `judge_gate` (`judge/client.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

from evalscope.contracts import ModelOutput
from evalscope.report import Report, SampleRecord
from evalscope.run_context import RunInfo, call_lifecycle
from evalscope.sharding import AnswerSink, JudgeGates, RequestGate, Shard, shard_key

from evalscope_native.engine.breaker import CircuitBreaker
from evalscope_native.engine.cache import PredictionCache
from evalscope_native.engine.plan import BenchmarkPlan, Item, build_plan
from evalscope_native.engine.retry import Outcome
from evalscope_native.engine.scoring import score_async, score_sync
from evalscope_native.judge.client import judge_gates

if TYPE_CHECKING:
    from evalscope.config import TaskConfig

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
        judged = any(b.is_async for b in bench.scorers)  # an async scorer is a judge
        follow_ups = bool(bench.adapter.multi_turn or bench.adapter.agent)
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
                        judged=judged,
                        follow_ups=follow_ups,
                    )
                )
    return shards


class _NoModel:
    """The model of a scoring-only preparation: scoring never asks it, so any use is a bug."""

    def identity(self) -> dict[str, Any]:
        raise RuntimeError("a scoring-only preparation has no model (identity asked)")

    async def generate(self, request: Any) -> ModelOutput:
        raise RuntimeError("a scoring-only preparation has no model: this shard needed a request")

    async def aclose(self) -> None:
        return None


def prepare_scoring(config: TaskConfig) -> Prepared:
    """The plan without a model client (`evalscope.sharding.ScoresWithoutModel`): a CPU scoring
    process must not load a local checkpoint only to score answers. Item keys, which hash the
    model's identity, come with each shard (`Shard.answer_keys`)."""
    from evalscope_native.engine.backend import Prepared

    plan = build_plan(config)
    return Prepared(plan, cast(Any, _NoModel()), CircuitBreaker(config.retry.max_consecutive_failures))


def _bench(prepared: Prepared, name: str) -> BenchmarkPlan:
    for bench in prepared.plan.benchmarks:
        if bench.spec.name == name:
            return bench
    raise KeyError(f"benchmark {name!r} is not in this plan (was it prepared from the same config?)")


def _outcome_json(item: Item, outcome: Outcome) -> dict[str, Any]:
    output = outcome.output.model_dump(mode="json") if outcome.output is not None else None
    return {"index": item.index, "output": output, "attempts": outcome.attempts, "error": outcome.error}


def _outcome(data: dict[str, Any]) -> Outcome:
    output = ModelOutput.model_validate(data["output"]) if data.get("output") is not None else None
    return Outcome(output, int(data.get("attempts", 0)), data.get("error"))


async def run_shard(
    backend: NativeBackend,
    prepared: Prepared,
    shard: Shard,
    *,
    known: dict[str, dict[str, Any]],
    on_answer: AnswerSink,
    gate: RequestGate | None = None,
    score: bool = True,
    outcomes: Sequence[dict[str, Any]] | None = None,
    judge_gate: JudgeGates | None = None,
) -> list[dict[str, Any]]:
    """Request what `known` does not answer and score every sample: the records, in the shard's order.

    `score=False`: only request; one outcome per sample instead (`_outcome_json`). `outcomes`: score
    those, request nothing. `judge_gate` is entered around each judge request (`judge_gates`).
    """
    config = prepared.plan.config
    bench = _bench(prepared, shard.benchmark)
    items = [bench.items[i] for i in shard.indices]
    for it, key in zip(items, shard.answer_keys, strict=True):
        it.key = it.key or key  # a scoring-only preparation has no model identity to hash keys from
    answers = _ShardAnswers(known, on_answer)
    multi = bench.adapter.multi_turn or bench.adapter.agent
    todo = list(items) if multi else [it for it in items if answers.get(it.key) is None]
    records: dict[int, SampleRecord] = {}
    got: dict[int, Outcome] = {}
    pool = ThreadPoolExecutor(
        max_workers=max(1, bench.adapter.scoring_workers), thread_name_prefix="shard-score"
    )
    loop = asyncio.get_running_loop()
    scoring: list[asyncio.Task[None]] = []
    inline = all(b.is_async for b in bench.scorers)

    async def score_one(item: Item, outcome: Outcome) -> None:
        if inline:
            pending = score_sync(bench, item, outcome)
        else:
            pending = await loop.run_in_executor(pool, score_sync, bench, item, outcome)
        rec = await score_async(bench, pending)
        records[rec.index] = rec

    def done(item: Item, outcome: Outcome) -> None:
        if score:
            scoring.append(loop.create_task(score_one(item, outcome)))
        else:
            got[item.index] = outcome

    # Set before any task starts: the scoring tasks (and the judge's) inherit it.
    with judge_gates(judge_gate):
        try:
            if outcomes is not None:  # the second stage: score what the first one received
                by_index = {int(o["index"]): _outcome(o) for o in outcomes}
                for it in items:
                    done(it, by_index[it.index])
                todo = []
            for it in [] if multi or outcomes is not None else items:
                out = answers.get(it.key)
                if out is not None:
                    done(it, Outcome(out, 0))
            if config.rerun_review and not multi:  # as locally: score what is cached, ask nothing
                missing = Outcome(None, 0, "no cached prediction to re-review (--rerun-review)")
                for it in todo:
                    done(it, missing)
                todo = []
            cache = cast(PredictionCache, answers)  # the two methods `_execute` calls
            await backend._execute(
                prepared.model, config, todo, cache, done, prepared.breaker, bench.adapter, gate=gate
            )
            await asyncio.gather(*scoring)
            if not score:
                if prepared.breaker is not None and prepared.breaker.tripped is not None:
                    unscored = _unscored(bench, got)
                    backend._after_breaker(prepared.breaker, config, bench.spec.name, unscored, len(items))
                return [_outcome_json(it, got[it.index]) for it in items]
            backend._after_breaker(prepared.breaker, config, bench.spec.name, records, len(items))
        finally:
            pool.shutdown(wait=False)
    return [records[it.index].model_dump(mode="json") for it in items]


def _unscored(bench: BenchmarkPlan, got: dict[int, Outcome]) -> dict[int, SampleRecord]:
    """What the circuit breaker's verdict reads of the records: which samples failed, and why. The
    answered ones get their records in the scoring stage; here they only count as answered."""
    out = {}
    for index, outcome in got.items():
        rec = score_sync(bench, bench.items[index], Outcome(None, outcome.attempts, outcome.error)).rec
        if outcome.output is not None:
            rec.error = None
        out[index] = rec
    return out


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
