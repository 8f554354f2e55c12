"""`--runner ray` on a real three-node Ray cluster against the scripted OpenAI server (127.0.0.1).

What must hold: the same per-sample records and report as the local runner; a rerun resumes without
asking anything again; a worker node killed mid-run loses nothing and re-asks only what was in
flight; a cluster-wide rate and concurrency cap holds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from ray_helpers import comparable, peak_in_flight

pytestmark = pytest.mark.slow


def _task(server: Any, data_dir: Path, work_dir: Path, **over: Any) -> dict[str, Any]:
    return {
        "model": "scripted",
        "api_url": server.base_url,
        "api_key": "sk-test-secret-key",
        "datasets": ["gsm8k"],
        "dataset_args": {"gsm8k": {"few_shot_num": 0}},
        "data_dir": str(data_dir),
        "eval_batch_size": 16,
        "work_dir": str(work_dir),
        **over,
    }


def test_full_gsm8k_same_records_and_report_as_local_then_resume(
    ray_cluster: Any, data_dir: Path, gsm8k_entries: list[dict[str, str]], read_jsonl: Any, tmp_path: Path
) -> None:
    n = len(gsm8k_entries)
    with ScriptedServer({"model": "scripted", "entries": gsm8k_entries}) as server:
        local = run_task(_task(server, data_dir, tmp_path / "local"))["gsm8k"]
        server.reset_stats()
        args = {"address": ray_cluster.address, "shard_size": 100}
        remote = run_task(_task(server, data_dir, tmp_path / "ray"), runner="ray", runner_args=args)["gsm8k"]
        stats = server.stats()
        assert stats["requests"] == n and set(stats["by_key"].values()) == {1}  # each sample asked once

        assert remote.num_samples == n and remote.num_errors == 0
        assert remote.score() == pytest.approx((n - len(range(0, n, 7))) / n, abs=1e-12)
        assert comparable(remote) == comparable(local)
        local_dir, ray_dir = next((tmp_path / "local").iterdir()), next((tmp_path / "ray").iterdir())
        reviews = "reviews/scripted/gsm8k.jsonl"
        assert read_jsonl(ray_dir / reviews) == read_jsonl(local_dir / reviews)
        predictions = read_jsonl(ray_dir / "predictions/scripted/gsm8k.jsonl")
        assert len(predictions) == n == len({p["key"] for p in predictions})
        shards = list((ray_dir / "shards").rglob("*.jsonl"))
        assert len(shards) == (n + 99) // 100

        # Rerunning the command on the run folder resumes: every shard is finished, nothing is asked.
        server.reset_stats()
        again = run_task(
            _task(server, data_dir, tmp_path / "ray", use_cache=str(ray_dir)), runner="ray", runner_args=args
        )["gsm8k"]
        assert server.stats()["requests"] == 0
        assert comparable(again) == comparable(local)

        # A half-finished run (shard files lost, answers kept) re-asks nothing either.
        for path in shards[: len(shards) // 2]:
            path.unlink()
        server.reset_stats()
        run_task(
            _task(server, data_dir, tmp_path / "ray", use_cache=str(ray_dir)), runner="ray", runner_args=args
        )
        assert server.stats()["requests"] == 0

        def answers(path: Path) -> list[dict[str, Any]]:  # a reused answer records 0 attempts, as locally
            return [{k: v for k, v in r.items() if k != "attempts"} for r in read_jsonl(path)]

        assert answers(ray_dir / reviews) == answers(local_dir / reviews)

        # --rerun-review on Ray scores every shard again from the cached answers and asks no model;
        # a sample whose cached answer is gone is recorded as failed, as a local --rerun-review does.
        cached = ray_dir / "predictions/scripted/gsm8k.jsonl"
        first, *rest = cached.read_text(encoding="utf-8").splitlines(keepends=True)
        cached.write_text("".join(rest), encoding="utf-8")
        server.reset_stats()
        reviewed = run_task(
            _task(server, data_dir, tmp_path / "ray", use_cache=str(ray_dir), rerun_review=True),
            runner="ray",
            runner_args=args,
        )["gsm8k"]
        assert server.stats()["requests"] == 0
        assert reviewed.num_samples == n and reviewed.num_errors == 1
        assert "no cached prediction to re-review" in reviewed.errors[0].error


def test_worker_node_killed_mid_run_loses_nothing(
    ray_cluster: Any,
    data_dir: Path,
    gsm8k_entries: list[dict[str, str]],
    read_jsonl: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="evalscope.ray")
    batch, limit, shard_size = 8, 480, 40
    config = {"model": "scripted", "entries": gsm8k_entries, "delay_s": 0.1}
    result: dict[str, Any] = {}
    try:
        with ScriptedServer(config) as server:
            task = _task(server, data_dir, tmp_path / "out", limit=limit, eval_batch_size=batch)

            def run() -> None:
                try:
                    args = {"address": ray_cluster.address, "shard_size": shard_size}
                    result["reports"] = run_task(task, runner="ray", runner_args=args)
                except BaseException as exc:  # surfaced below
                    result["error"] = exc

            thread = threading.Thread(target=run)
            thread.start()
            deadline = time.monotonic() + 120
            while server.stats()["requests"] < limit // 3 and time.monotonic() < deadline:
                time.sleep(0.05)  # polling a counter, not synchronising on time
            ray_cluster.kill_worker_node(ray_cluster.workers[0])
            thread.join(timeout=300)
            assert not thread.is_alive()
            stats = server.stats()
    finally:
        ray_cluster.restore()
    assert "error" not in result, result.get("error")
    assert any("lost" in r.getMessage() for r in caplog.records), "the kill must have hit a worker mid-shard"
    report = result["reports"]["gsm8k"]
    assert report.num_samples == limit and report.num_errors == 0
    run_dir = next((tmp_path / "out").iterdir())
    reviews = read_jsonl(run_dir / "reviews/scripted/gsm8k.jsonl")
    assert sorted(r["index"] for r in reviews) == list(range(limit))
    predictions = read_jsonl(run_dir / "predictions/scripted/gsm8k.jsonl")
    assert len(predictions) == len({p["key"] for p in predictions}) == limit  # each answer stored once
    # Asked twice: only what the killed worker had in flight -- requests sent (at most its
    # eval_batch_size at a time) and answers it had received but not yet streamed to the driver (on a
    # loaded machine a few batches' worth; seen: 16). All of it lies in the one shard it held: never
    # more than a shard, never anything twice more.
    twice = [k for k, c in stats["by_key"].items() if c > 1]
    assert max(stats["by_key"].values()) <= 2 and len(twice) <= shard_size
    assert stats["requests"] == limit + len(twice)


def test_cluster_wide_rate_and_concurrency_caps(
    ray_cluster: Any, data_dir: Path, gsm8k_entries: list[dict[str, str]], tmp_path: Path
) -> None:
    rate, cap, limit = 25.0, 4, 150
    config = {"model": "scripted", "entries": gsm8k_entries, "delay_s": 0.05, "record_timings": True}
    with ScriptedServer(config) as server:
        args = {"address": ray_cluster.address, "shard_size": 10, "requests_per_second": rate}
        run_task(_task(server, data_dir, tmp_path / "rate", limit=limit), runner="ray", runner_args=args)
        arrivals = sorted(t[0] for t in server.stats()["timings"].values())
        assert len(arrivals) == limit
        measured = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        # 3 nodes x 16 workers, one cap: never above it by more than 5 %. Below it is not a breach:
        # on a starved 2-core machine (seen in a clean-clone CI run: 20.9 req/s) the cluster can fall
        # short of the cap, so only a loose floor shows the cap, not the work, was the limit.
        assert rate * 0.6 <= measured <= rate * 1.05, measured

        server.configure(delay_s=0.2, record_timings=True)
        args = {"address": ray_cluster.address, "shard_size": 10, "max_concurrency": cap}
        run_task(_task(server, data_dir, tmp_path / "conc", limit=60), runner="ray", runner_args=args)
        spans = [(t[0], t[2]) for t in server.stats()["timings"].values()]
        assert len(spans) == 60 and peak_in_flight(spans) <= cap


@pytest.mark.parametrize("in_flight", [1, 2])
def test_an_actor_fills_a_shard_s_last_wave_with_the_next_shard(
    ray_cluster: Any,
    data_dir: Path,
    gsm8k_rows: list[dict[str, Any]],
    gsm8k_entries: list[dict[str, str]],
    tmp_path: Path,
    in_flight: int,
) -> None:
    """Shards of 6 with 4 requests per actor: one shard at a time leaves 2 of the 4 slots idle during
    each shard's second wave; with two shards at once the next shard's requests take them (requests
    of two shards are in flight together), and `--eval-batch-size` still caps the actor at 4."""
    config = {"model": "scripted", "entries": gsm8k_entries, "delay_s": 0.1, "record_timings": True}
    with ScriptedServer(config) as server:
        args = {"address": ray_cluster.address, "shard_size": 6, "actors": 1, "shards_in_flight": in_flight}
        task = _task(server, data_dir, tmp_path / f"d{in_flight}", limit=48, eval_batch_size=4)
        report = run_task(task, runner="ray", runner_args=args)["gsm8k"]
        timings = server.stats()["timings"]
    assert report.num_samples == 48 and len(timings) == 48
    shard_of = {}
    for key in timings:
        (index,) = [i for i, row in enumerate(gsm8k_rows[:48]) if row["question"] in key]
        shard_of[key] = index // 6  # the plan's order: shard k holds samples 6k .. 6k+5
    spans = {key: (t[0], t[2]) for key, t in timings.items()}
    assert peak_in_flight(list(spans.values())) <= 4
    mixed = any(
        shard_of[a] != shard_of[b] and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
        for a in spans
        for b in spans
    )
    assert mixed == (in_flight > 1)
