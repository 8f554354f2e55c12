"""Shards: the contract between a backend that can split a run and a runner that spreads the pieces.

A backend whose `capabilities.distributed` is true implements `ShardableBackend`; a distributed
runner (`--runner ray`) then drives it in three steps, never importing the backend's package:

1. `plan_shards(prepared, size)` on the driver: the run's samples cut into `Shard`s, each named by
   a content hash (`shard_key`: model, benchmark and its version, subset, sample ids, generation
   config, the rendered requests), so a rerun of the same command finds the same shards.
2. `await run_shard(prepared, shard, known=..., on_answer=..., gate=...)` anywhere (another process
   or node, which prepared the same config; one event loop serves all its shards): requests the
   shard's samples that `known` does not answer, reports each fresh answer through `on_answer` as it
   arrives (an opaque JSON entry with a `key`), scores every sample, returns the scored records (JSON
   dicts). `gate` is entered around every request to the model service, retries included: a runner
   caps concurrency and request rate there; `judge_gate(endpoint)` likewise around every request
   to a judge (the judge's API URL picks the gate), so the judge gets caps of its own.

   The same call in two stages, where generation and scoring belong on different machines (a GPU
   holds the model; CPUs score; the judge has its own limits): `score=False` only requests, and
   returns one opaque *outcome* per sample (its answer, attempts, or why it failed) instead of
   records; then, elsewhere, `score=True, outcomes=<those>` scores them and asks the model nothing,
   giving exactly the records the single call gives. `known` holding every answer (a resumed run)
   also asks nothing. A backend that can prepare for scoring without loading the model implements
   `ScoresWithoutModel`, so a CPU scoring process never loads a checkpoint.
3. `merge_shards(prepared, run, records)` on the driver: one report per benchmark from every
   shard's records, written exactly as a local run writes them.

The driver is the only writer of the run folder: it appends the answer entries to the run's
prediction store (`RunInfo.predictions_path(shard.benchmark)`, a `JsonlStore`) and writes each
finished shard's records at once, so a resumed run skips finished shards and re-asks nothing
answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from evalscope.config import TaskConfig
    from evalscope.report import Report
    from evalscope.run_context import RunInfo

__all__ = [
    "AnswerSink",
    "JudgeGates",
    "RequestGate",
    "ScoresWithoutModel",
    "Shard",
    "ShardableBackend",
    "shard_key",
    "through_gate",
]

AnswerSink = Callable[[dict[str, Any]], None]


class Shard(BaseModel):
    """A piece of a run: some samples of one subset of one benchmark."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="Content hash (`shard_key`): the same work has the same key.")
    benchmark: str = Field(description="The benchmark's dataset name (its prediction store's name).")
    subset: str
    sample_ids: tuple[str, ...]
    indices: tuple[int, ...] = Field(description="The samples' positions in the backend's plan.")
    answer_keys: tuple[str, ...] = Field(
        description="The prediction-store keys of the shard's requests: the answers a resume reuses."
    )
    judged: bool = Field(
        default=False, description="Scoring asks a judge model (a runner may give it a stage of its own)."
    )
    follow_ups: bool = Field(
        default=False,
        description="Samples make further requests built from earlier answers (multi-turn, agents): "
        "`answer_keys` are only the first ones, so stored answers never prove the shard fully answered.",
    )

    def __len__(self) -> int:
        return len(self.indices)


def shard_key(
    *,
    model: dict[str, Any],
    benchmark: str,
    version: str,
    subset: str,
    sample_ids: Sequence[str],
    generation: dict[str, Any],
    requests: Sequence[str] = (),
) -> str:
    """The content hash naming a shard; `requests` are the requests' own content hashes (prompts)."""
    payload = {
        "model": model,
        "benchmark": benchmark,
        "version": version,
        "subset": subset,
        "samples": list(sample_ids),
        "generation": generation,
        "requests": list(requests),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestGate(Protocol):
    """Entered around every request to a model service (each attempt of a retry too)."""

    def slot(self) -> AbstractAsyncContextManager[None]: ...


async def through_gate(gate: RequestGate, call: Callable[[], Awaitable[Any]]) -> Any:
    """`await call()` holding one of `gate`'s slots: wrap the single attempt a retry loop repeats,
    so every attempt takes its own slot and a backoff holds none."""
    async with gate.slot():
        return await call()


JudgeGates = Callable[[str], RequestGate | None]
"""The gate for a judge endpoint (its API URL), or None where that judge is not capped."""


@runtime_checkable
class ShardableBackend(Protocol):
    """A backend a distributed runner can split (see the module docstring for the call order).

    `prepare` is `evalscope.run.Backend.prepare`: each worker prepares the run's config itself.
    """

    def prepare(self, config: TaskConfig) -> Any: ...

    def plan_shards(self, prepared: Any, shard_size: int) -> list[Shard]: ...

    async def run_shard(
        self,
        prepared: Any,
        shard: Shard,
        *,
        known: dict[str, dict[str, Any]],
        on_answer: AnswerSink,
        gate: RequestGate | None = None,
        score: bool = True,
        outcomes: Sequence[dict[str, Any]] | None = None,
        judge_gate: JudgeGates | None = None,
    ) -> list[dict[str, Any]]: ...

    def merge_shards(
        self, prepared: Any, run: RunInfo, records: dict[str, list[dict[str, Any]]]
    ) -> list[Report]: ...


@runtime_checkable
class ScoresWithoutModel(Protocol):
    """A backend whose shards can be scored (`run_shard(..., outcomes=...)`, or with every answer
    `known`) from a preparation that builds no model client: a CPU scoring process then never loads
    a local checkpoint. Optional: a runner falls back to `prepare`."""

    def prepare_scoring(self, config: TaskConfig) -> Any: ...
