"""`--runner-args` of the ray runner (`--ray-address` is its `address`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RayRunnerArgs", "shard_size_for"]

#: Samples a default shard holds at least: enough that the per-shard round trip to the driver is a
#: small share of a shard's time, few enough that a run's last shards (finishing on some actors while
#: the others idle) end it soon after the rest.
MIN_SHARD = 24


def shard_size_for(shard_size: int | None, eval_batch_size: int) -> int:
    """The shard size a run uses: as asked, else whole waves of `--eval-batch-size` requests.

    Why whole waves: a shard of 25 with 8 requests in flight ends on a wave of one; on 1 and 3 nodes
    against a 200 ms server (`benchmarks/bench_ray.py`) 25 reached 88 % of the ideal throughput and
    24 reached 99 % / 95 %, and 50 (the old default) 95 % / 84 % (its last shards ran long after the
    others had finished).
    """
    if shard_size is not None:
        return shard_size
    batch = max(1, eval_batch_size)
    return -(-MIN_SHARD // batch) * batch


class RayRunnerArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str | None = Field(
        default=None,
        description="auto (a cluster already running here), host:6379 (its GCS), ray://host:10001 (Ray "
        "Client); unset: RAY_ADDRESS, else a new local Ray instance on this machine.",
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, description="Give up reaching the cluster after this."
    )
    shard_size: int | None = Field(
        default=None,
        ge=1,
        description="Samples per shard, the unit of resume, retry and load balance (default: the smallest "
        "multiple of --eval-batch-size that is at least 24; see `shard_size_for`).",
    )
    shards_in_flight: int = Field(
        default=2,
        ge=1,
        description="Shards each model actor works on at once; their requests share the actor's "
        "--eval-batch-size slots, so the slots a shard's last requests leave free are filled by the next "
        "shard's instead of idling until the shard ends.",
    )
    actors: int | None = Field(
        default=None,
        ge=1,
        description="Model (worker) actors (default: as many bundles as the cluster holds, beside the "
        "scoring actors when split).",
    )
    cpus_per_actor: float = Field(default=1.0, gt=0, description="CPUs in each actor's bundle.")
    gpus_per_actor: int = Field(
        default=0,
        ge=0,
        description="GPUs in each actor's bundle (local checkpoints: a tensor-parallel group).",
    )
    placement: Literal["SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK"] = Field(
        default="SPREAD", description="Placement-group strategy for the actors' bundles."
    )
    max_concurrency: int | None = Field(
        default=None, ge=1, description="Cluster-wide cap on requests in flight to the model endpoint."
    )
    requests_per_second: float | None = Field(
        default=None, gt=0, description="Cluster-wide cap on requests started per second to the endpoint."
    )
    stages: Literal["auto", "split", "together"] = Field(
        default="auto",
        description="split: model actors only request, scoring actors (CPU) score and ask the judge; "
        "together: a shard is requested and scored on one actor; auto: split when the model actors "
        "hold GPUs or a benchmark is judged.",
    )
    scoring_actors: int | None = Field(
        default=None, ge=1, description="Scoring actors when split (default: as many as model actors)."
    )
    cpus_per_scoring_actor: float = Field(
        default=1.0, gt=0, description="CPUs of each scoring actor (fractions allowed; never a GPU)."
    )
    judge_max_concurrency: int | None = Field(
        default=None, ge=1, description="Cluster-wide cap on requests in flight to each judge endpoint."
    )
    judge_requests_per_second: float | None = Field(
        default=None,
        gt=0,
        description="Cluster-wide cap on requests started per second to each judge endpoint.",
    )
    max_shard_attempts: int = Field(
        default=3, ge=1, description="Times a shard is started before the run fails (a node lost mid-shard)."
    )
    placement_timeout_s: float = Field(
        default=60.0, gt=0, description="How long to wait for the cluster to hold every actor's bundle."
    )
