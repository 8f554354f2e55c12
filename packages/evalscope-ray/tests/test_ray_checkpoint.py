"""A local checkpoint on Ray, split into stages: the model actor loads and runs it, the scoring actor
scores without loading it, and the records equal the local runner's.

A tiny randomly initialised Llama (built here, `local_model_helpers`) on CPU bundles: what a GPU
run does (one model actor per bundle, `gpus_per_actor`) minus the GPU, which this machine lacks.
One shard and one shard in flight, so the actor batches the prompts exactly as the local run does
and greedy decoding gives the same text.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from ray_helpers import comparable

pytestmark = pytest.mark.slow

LIMIT = 6


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    pytest.importorskip("transformers")
    from local_model_helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "tiny-llama", data_dir, chat_template=True)


def _task(model: Path, data_dir: Path, work: Path) -> dict[str, Any]:
    return {
        "model": str(model),
        "datasets": ["gsm8k"],
        "dataset_args": {"gsm8k": {"few_shot_num": 0}},
        "data_dir": str(data_dir),
        "limit": LIMIT,
        "eval_batch_size": 3,
        "generation_config": {"max_tokens": 12},
        "work_dir": str(work),
    }


def test_a_checkpoint_runs_on_a_model_actor_and_is_scored_apart(
    ray_cluster: Any,
    tiny_model: Path,
    data_dir: Path,
    read_jsonl: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="evalscope.ray")
    local = run_task(_task(tiny_model, data_dir, tmp_path / "local"))["gsm8k"]
    args = {
        "address": ray_cluster.address, "stages": "split", "actors": 1, "scoring_actors": 1,
        "cpus_per_scoring_actor": 0.5, "shard_size": LIMIT, "shards_in_flight": 1,
    }  # fmt: skip
    remote = run_task(_task(tiny_model, data_dir, tmp_path / "ray"), runner="ray", runner_args=args)["gsm8k"]
    assert comparable(remote) == comparable(local)
    (local_dir,) = (tmp_path / "local").iterdir()
    (ray_dir,) = (tmp_path / "ray").iterdir()
    reviews = "reviews/tiny-llama/gsm8k.jsonl"
    records = read_jsonl(ray_dir / reviews)
    assert records == read_jsonl(local_dir / reviews) and len(records) == LIMIT
    assert all(r["prediction"] for r in records)  # the checkpoint wrote something for each
    log = caplog.text
    assert "split stages; 1 model actor(s), 1 scoring actor(s)" in log
    assert (
        "answered (6 samples, model actor 0); to scoring" in log
        and "scored (6 samples, scoring actor 0" in log
    )
