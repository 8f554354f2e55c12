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
