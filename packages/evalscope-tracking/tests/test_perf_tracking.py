"""`evalscope perf --visualizer mlflow --wandb-api-key … --swanlab-api-key …`: a two-run sweep against
the scripted server, then each tracker's store read back with the tracker's own client code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import ScriptedServer
from tracking_helpers import files_containing, read_swanlab_run, read_wandb_run, wandb_table

WANDB_KEY = "wandb-test-key-0123456789abcdef"
SWANLAB_KEY = "swanlab-test-key-0123456789abcdef"
SERVICE_KEY = "sk-perf-service-key-0123456789"
NUMBER = 4


@pytest.fixture(scope="module")
def fake_model() -> Iterator[ScriptedServer]:
    with ScriptedServer({"model": "fake-model", "tokens": "max_tokens"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def perf_run(fake_model: ScriptedServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`evalscope perf` in a fresh process, as a user runs it: a sweep of two runs, three trackers."""
    tmp = tmp_path_factory.mktemp("perf")
    prompts = tmp / "prompts.txt"
    prompts.write_text("".join(f"question {i} about the weather\n" for i in range(20)), encoding="utf-8")
    out = tmp / "outputs"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "WANDB_", "SWANLAB_")) and k != "EVALSCOPE_CACHE_DIR"
    }
    env.update(
        WANDB_MODE="offline", WANDB_SILENT="true", SWANLAB_MODE="offline",
        WANDB_CONFIG_DIR=str(tmp / "wandb-config"), WANDB_CACHE_DIR=str(tmp / "wandb-cache"),
        WANDB_DATA_DIR=str(tmp / "wandb-data"), EVALSCOPE_CACHE_DIR=str(tmp / "cache"),
    )  # fmt: skip
    args = [
        "--url", fake_model.base_url, "--model", "fake-model", "--api-key", SERVICE_KEY,
        "--dataset", "line_by_line", "--dataset-path", str(prompts), "--max-tokens", "8",
        "--parallel", "1", "2", "--number", str(NUMBER), str(NUMBER), "--sleep-interval", "0",
        "--no-test-connection", "--no-live", "--outputs-dir", str(out), "--name", "perf-tracked",
        "--visualizer", "mlflow", "--wandb-api-key", WANDB_KEY, "--swanlab-api-key", SWANLAB_KEY,
    ]  # fmt: skip
    res = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "perf", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "failed" not in res.stderr, res.stderr[-3000:]
    return out


def _summaries(out: Path) -> list[dict[str, Any]]:
    paths = sorted(out.glob("*/perf-tracked/parallel_*/benchmark_summary.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def test_mlflow_holds_every_run_of_the_sweep(perf_run: Path) -> None:
    import mlflow.artifacts
    from mlflow.tracking import MlflowClient

    first, last = _summaries(perf_run)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        client = MlflowClient(tracking_uri=(perf_run / "mlruns").resolve().as_uri())
        experiment = client.get_experiment_by_name("perf_benchmark")  # EvalScope's project name
        assert experiment is not None
        (run,) = client.search_runs([experiment.experiment_id])
        assert run.info.run_name == "perf-tracked" and run.info.status == "FINISHED"
        # One step per run of the sweep; the latest values are the last run's.
        history = client.get_metric_history(run.info.run_id, "request_throughput")
        assert [(m.step, m.value) for m in history] == [
            (0, pytest.approx(first["request_throughput"])),
            (1, pytest.approx(last["request_throughput"])),
        ]
        assert run.data.metrics["succeeded"] == NUMBER
        assert run.data.metrics["ttft_ms/p99"] == pytest.approx(last["ttft_ms"]["p99"])
        assert run.data.params["wandb_api_key"] == "***" and run.data.params["api_key"] == "***"
        base = run.info.artifact_uri
        runs = mlflow.artifacts.load_dict(f"{base}/tables/runs.json")
        assert [row[0] for row in runs["data"]] == [
            f"parallel_1_number_{NUMBER}",
            f"parallel_2_number_{NUMBER}",
        ]
        percentiles = mlflow.artifacts.load_dict(f"{base}/tables/percentiles/parallel_2_number_{NUMBER}.json")
        assert percentiles["data"], "EvalScope's percentile rows"
        requests = mlflow.artifacts.load_dict(f"{base}/tables/requests/parallel_2_number_{NUMBER}.json")
        assert len(requests["data"]) == NUMBER
        names = {a.path for a in client.list_artifacts(run.info.run_id, "files")}
        assert f"files/parallel_1_number_{NUMBER}" in names and f"files/parallel_2_number_{NUMBER}" in names
    for secret in (WANDB_KEY, SWANLAB_KEY, SERVICE_KEY):
        assert files_containing(perf_run / "mlruns", secret) == []


def test_wandb_offline_run_holds_the_sweep(perf_run: Path) -> None:
    first, last = _summaries(perf_run)
    run = read_wandb_run(perf_run)
    assert run["project"] == "perf_benchmark" and run["name"] == "perf-tracked"
    rows = [h for h in run["history"] if "request_throughput" in h]
    assert [h["request_throughput"] for h in rows] == [
        pytest.approx(first["request_throughput"]),
        pytest.approx(last["request_throughput"]),
    ]
    assert run["summary"]["e2el_ms/p50"] == pytest.approx(last["e2el_ms"]["p50"])
    assert run["config"]["wandb_api_key"] == "***" and run["config"]["swanlab_api_key"] == "***"
    assert len(wandb_table(run, f"requests/parallel_1_number_{NUMBER}")["data"]) == NUMBER
    for secret in (WANDB_KEY, SWANLAB_KEY, SERVICE_KEY):
        assert files_containing(perf_run / "wandb", secret) == []


def test_swanlab_offline_run_holds_the_sweep(perf_run: Path) -> None:
    first, last = _summaries(perf_run)
    run = read_swanlab_run(perf_run / "swanlog")
    assert run["start"].project == "perf_benchmark" and run["start"].name == "perf-tracked"
    assert run["scalars"]["request_throughput"] == [
        (0, pytest.approx(first["request_throughput"])),
        (1, pytest.approx(last["request_throughput"])),
    ]
    for secret in (WANDB_KEY, SWANLAB_KEY, SERVICE_KEY):
        assert files_containing(perf_run / "swanlog", secret) == []


def test_no_output_holds_a_tracker_key(perf_run: Path) -> None:
    for secret in (WANDB_KEY, SWANLAB_KEY):
        assert files_containing(perf_run, secret) == []
