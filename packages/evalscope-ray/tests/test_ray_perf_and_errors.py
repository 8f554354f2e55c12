"""`evalscope perf --runner ray` merges every node's stream; bad cluster addresses fail fast (exit 2)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import ScriptedServer

EVALSCOPE = [sys.executable, "-m", "evalscope.cli.main"]


def _cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*EVALSCOPE, *args], capture_output=True, text=True, timeout=timeout, env=env)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_perf_runner_ray_merges_streams_from_every_node(ray_cluster: Any, tmp_path: Path) -> None:
    with ScriptedServer({"model": "scripted", "tokens": 8, "ttft": 0.02, "itl": 0.005}) as server:
        proc = _cli(
            ["perf", "--url", server.base_url, "--model", "scripted", "--prompt", "hello", "--number", "90",
             "--parallel", "6", "--workers", "3", "--runner", "ray", "--ray-address", ray_cluster.address,
             "--outputs-dir", str(tmp_path), "--no-live", "--max-tokens", "8", "--name", "ray"]
        )  # fmt: skip
        served = server.stats()["requests"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    db = next(tmp_path.rglob("benchmark_data.db"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT request_id, start_time, end_time, success FROM requests WHERE warmup = 0"
        ).fetchall()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert len(rows) == 90 and all(r[3] for r in rows) and served >= 90
    shares = {r[0].rsplit("-", 1)[0] for r in rows}  # `<prefix><k>-<i>`: one prefix per share
    assert len(shares) == 3
    runner = json.loads(meta["runner"])
    assert runner["shares"] == 3 and len(set(runner["nodes"])) == 3  # SPREAD: a node per share
    # One timeline: every stream's times are on this process's clock, ends after starts.
    assert all(r[2] >= r[1] for r in rows)
    summary = json.loads(next(tmp_path.rglob("benchmark_summary.json")).read_text())
    assert summary["succeeded"] == 90 and summary["workers"] == 3


@pytest.mark.slow
def test_perf_stop_rules_stop_every_node(ray_cluster: Any, tmp_path: Path) -> None:
    """The error-rate rule is watched on the driver and stops the shares on every node: the run ends
    long before its 3,000 requests, and every request that finished is in the SQLite file."""
    config = {
        "model": "scripted",
        "tokens": 2,
        "delay_s": 0.01,
        "faults": {"rate": {"500": 0.5}, "per": "request"},
    }
    with ScriptedServer(config) as server:
        proc = _cli(
            ["perf", "--url", server.base_url, "--model", "scripted", "--prompt", "hello", "--number", "3000",
             "--parallel", "6", "--workers", "3", "--runner", "ray", "--ray-address", ray_cluster.address,
             "--outputs-dir", str(tmp_path), "--no-live", "--max-tokens", "2", "--name", "stop",
             "--max-error-rate", "0.2"]
        )  # fmt: skip
        served = server.stats()["requests"]
    assert proc.returncode == 1 and "Stopped: error rate" in proc.stderr, proc.stderr[-3000:]
    summary = json.loads(next(tmp_path.rglob("benchmark_summary.json")).read_text())
    assert str(summary.get("stopped_reason", "")).startswith("error rate"), summary
    with sqlite3.connect(next(tmp_path.rglob("benchmark_data.db"))) as conn:
        rows = conn.execute("SELECT success FROM requests WHERE warmup = 0").fetchall()
    assert 20 <= len(rows) < 1500 and served < 1500  # stopped early, on every node
    assert any(not r[0] for r in rows)


def test_unreachable_ray_address_exits_2_in_seconds(tmp_path: Path, data_dir: Path) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    proc = _cli(
        ["eval", "--model", "mock_llm", "--datasets", "gsm8k", "--limit", "2", "--data-dir", str(data_dir),
         "--work-dir", str(tmp_path), "--ray-address", address]
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert address in proc.stderr and "--ray-address" in proc.stderr
    assert time.monotonic() - started < 60  # generous: the point is "not a hang"
    assert not any(tmp_path.iterdir())  # refused before any output


def test_runner_args_typo_names_the_key(tmp_path: Path) -> None:
    from evalscope.errors import ConfigError
    from evalscope.runners import resolve_runner

    with pytest.raises(ConfigError, match="shard_sise") as err:
        resolve_runner("ray", {"shard_sise": 10})
    assert "shard_size" in str(err.value)


def test_ray_runner_is_declared_for_the_install_hint() -> None:
    from evalscope.distributions import provider_of

    assert provider_of("runner", "ray") == "evalscope-ray"


def test_a_resumed_shard_gets_every_answer_of_its_samples(tmp_path: Path) -> None:
    """Later turns of a multi-turn sample (and an agent's steps) have keys the plan cannot list; the
    worker of a resumed shard must still be handed them, or it would ask them again."""
    from evalscope.jsonl_store import JsonlStore
    from evalscope.sharding import Shard
    from evalscope_ray.runner import known_answers

    path = tmp_path / "predictions.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for key, sample, turn in [("k1", "s1", 1), ("k1b", "s1", 2), ("k2", "s2", 1), ("k9", "s9", 1)]:
            fh.write(json.dumps({"key": key, "output": {}, "sample": sample, "turn": turn}) + "\n")
    store = JsonlStore(path)
    shard = Shard(key="x", benchmark="mt_bench", subset="default", sample_ids=("s1", "s2"), indices=(0, 1),
                  answer_keys=("k1", "k2"))  # fmt: skip
    assert sorted(known_answers(store, shard)) == ["k1", "k1b", "k2"]
    store.close()


@pytest.mark.parametrize(
    ("asked", "batch", "size"),
    [(None, 8, 24), (None, 16, 32), (None, 64, 64), (None, 1, 24), (None, 5, 25), (7, 8, 7)],
)
def test_default_shards_are_whole_waves_of_the_batch(asked: int | None, batch: int, size: int) -> None:
    from evalscope_ray.config import shard_size_for

    assert shard_size_for(asked, batch) == size
