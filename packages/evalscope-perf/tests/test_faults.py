"""429s, 500s and streams dropped mid-way are failures: counted, shown with their errors, and kept
out of every latency and token figure."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from evalscope_perf import run_perf_benchmark


@pytest.mark.parametrize("http_client,kernel_stamps", [("raw", True), ("raw", False), ("aiohttp", False)])
def test_injected_faults_are_counted_as_failures(
    server: Any, make_cfg: Any, http_client: str, kernel_stamps: bool
) -> None:
    rate = {"429": 0.1, "500": 0.1, "drop": 0.1}
    server.configure(itl=0.002, tokens=6, faults={"rate": rate, "seed": 7, "per": "request", "drop_after": 2})
    cfg = make_cfg(parallel=16, number=300, http_client=http_client, kernel_timestamps=kernel_stamps)
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    stats = server.stats()
    faults = stats["faults"]
    assert faults["429"] > 0 and faults["500"] > 0 and faults["drop"] > 0
    assert run.total_requests == 300 == stats["requests"]
    assert run.failed == faults["429"] + faults["500"] + faults["drop"]
    assert run.succeeded == stats["ok"] == 300 - run.failed
    by_kind = {"429": 0, "500": 0, "drop": 0}
    for e in run.errors:
        if e.error.startswith("HTTP 429"):
            by_kind["429"] += e.count
        elif e.error.startswith("HTTP 500"):
            by_kind["500"] += e.count
        elif "closed by the server mid-response" in e.error:
            by_kind["drop"] += e.count
    assert by_kind == {k: faults[k] for k in by_kind}
    assert any("rate limited" in e.error for e in run.errors)  # the server's own message is shown
    # latencies and tokens come from successful requests only
    assert run.e2el_ms.count == run.ttft_ms.count == run.succeeded
    assert run.output_tokens.mean == 6 and run.total_output_tokens == 6 * run.succeeded
    db = sqlite3.connect(Path(run.run_dir) / "benchmark_data.db")
    failed_rows = db.execute(
        "SELECT status, error, ttft, completion_tokens FROM requests WHERE success=0"
    ).fetchall()
    assert len(failed_rows) == run.failed
    assert all(err and ttft is None and tokens is None for _, err, ttft, tokens in failed_rows)
    assert {s for s, *_ in failed_rows} >= {429, 500}


def test_every_request_failing_exits_1_with_the_errors(
    server: Any, make_cfg: Any, tmp_path: Path, cli_env: Any
) -> None:
    import subprocess
    import sys

    server.configure(faults={"rate": {"500": 1.0}, "per": "request"})
    cfg = make_cfg(parallel=2, number=4)
    args = [sys.executable, "-m", "evalscope.cli.main", "perf", "--url", cfg["url"], "--model", "m",
            "--dataset", "line_by_line", "--dataset-path", cfg["dataset_path"], "--parallel", "2", "--number", "4",
            "--outputs-dir", cfg["outputs_dir"], "--no-test-connection", "--no-live"]  # fmt: skip
    res = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    assert "HTTP 500" in res.stdout and "injected server error" in res.stdout
    assert "Every request failed" in res.stderr


def test_test_request_rejected_by_the_server_stops_before_the_load(server: Any, make_cfg: Any) -> None:
    from evalscope_perf.preflight import ServiceUnreachableError

    server.configure(faults={"rate": {"500": 1.0}, "per": "request"})
    with pytest.raises(ServiceUnreachableError, match="test request .* failed: HTTP 500"):
        run_perf_benchmark(make_cfg(no_test_connection=False, parallel=2, number=50), quiet=True)
    assert server.stats()["requests"] == 3  # three attempts of the test request, then no load at all


@pytest.mark.parametrize("http_client", ["raw", "aiohttp"])
def test_a_stalled_stream_fails_on_the_read_timeout(server: Any, make_cfg: Any, http_client: str) -> None:
    server.configure(ttft=0.01, itl=3.0, tokens=2)  # the second token would come 3 s later
    run = run_perf_benchmark(
        make_cfg(parallel=2, number=2, read_timeout=0.3, http_client=http_client), quiet=True
    )
    (r,) = run.runs
    assert r.failed == 2 and r.succeeded == 0
    assert all("timeout" in e.error for e in r.errors), r.errors
