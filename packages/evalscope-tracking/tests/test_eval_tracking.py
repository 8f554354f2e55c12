"""`evalscope eval --reporters mlflow wandb swanlab`: a real GSM8K run against the scripted server,
then each tracker's store read back with the tracker's own client code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.report import Report
from evalscope.testing import ScriptedServer
from tracking_helpers import (
    N_SAMPLES,
    SECRET,
    files_containing,
    read_swanlab_run,
    read_wandb_run,
    wandb_table,
)


@pytest.fixture(scope="module")
def eval_run(
    gsm8k_server: ScriptedServer, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Report]:
    """One eval run logged to all three trackers (module-scoped: the trackers are the slow part)."""
    work = tmp_path_factory.mktemp("eval")
    mp = pytest.MonkeyPatch()
    for k, v in {"WANDB_MODE": "offline", "WANDB_SILENT": "true",
                 "WANDB_CONFIG_DIR": str(work / "wandb-config"), "WANDB_CACHE_DIR": str(work / "wandb-cache"),
                 "WANDB_DATA_DIR": str(work / "wandb-data")}.items():  # fmt: skip
        mp.setenv(k, v)
    for k in (
        "MLFLOW_TRACKING_URI",
        "WANDB_API_KEY",
        "WANDB_DIR",
        "SWANLAB_MODE",
        "SWANLAB_API_KEY",
        "SWANLAB_LOG_DIR",
    ):  # SwanLab without a key: offline by default
        mp.delenv(k, raising=False)
    try:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": gsm8k_server.base_url,
                "api_key": SECRET,
                "datasets": ["gsm8k"],
                "dataset_args": {"gsm8k": {"few_shot_num": 0}},
                "data_dir": str(data_dir),
                "limit": N_SAMPLES,
                "work_dir": str(work / "outputs"),
                "reporters": ["table", "mlflow", "wandb", "swanlab"],
            }
        )
    finally:
        mp.undo()
    return work / "outputs", reports["gsm8k"]


def test_report_is_as_scripted(eval_run: tuple[Path, Report]) -> None:
    _, report = eval_run
    assert report.num_samples == N_SAMPLES
    assert report.score() == pytest.approx((N_SAMPLES - 1) / N_SAMPLES)


def test_mlflow_file_store_holds_the_report(eval_run: tuple[Path, Report]) -> None:
    import mlflow.artifacts
    from mlflow.tracking import MlflowClient

    out, report = eval_run
    metric = report.metrics[0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        client = MlflowClient(tracking_uri=(out / "mlruns").resolve().as_uri())
        experiment = client.get_experiment_by_name("evalscope")
        assert experiment is not None
        (run,) = client.search_runs([experiment.experiment_id])
        assert run.info.status == "FINISHED"
        assert run.data.tags["evalscope.kind"] == "eval"
        # Every figure of the report: the headline, each subset, the sample count.
        assert run.data.metrics[f"gsm8k/{metric.name}"] == pytest.approx(metric.score)
        for sub in metric.categories[0].subsets:
            assert run.data.metrics[f"gsm8k/subsets/{sub.name}/{metric.name}"] == pytest.approx(sub.score)
        assert run.data.metrics["gsm8k/num_samples"] == N_SAMPLES
        # The config as params, the key masked.
        assert run.data.params["model"] == "scripted"
        assert run.data.params["api_key"] == "***"
        # Tables: the scores and one row per sample, as MLflow's table artifacts.
        base = run.info.artifact_uri
        scores = mlflow.artifacts.load_dict(f"{base}/tables/scores.json")
        assert scores["columns"][:3] == ["dataset", "model", "metric"]
        samples = mlflow.artifacts.load_dict(f"{base}/tables/samples/gsm8k.json")
        assert len(samples["data"]) == N_SAMPLES
        score_col = samples["columns"].index(metric.name.removeprefix("mean_"))
        assert sorted(row[score_col] for row in samples["data"]) == [0.0, 1.0, 1.0, 1.0]
        assert mlflow.artifacts.load_dict(f"{base}/config.json")["api_key"] == "***"
        assert [a.path for a in client.list_artifacts(run.info.run_id, "files/reports/scripted")] == [
            "files/reports/scripted/gsm8k.json"
        ]
    assert files_containing(out / "mlruns", SECRET) == []


def test_wandb_offline_run_holds_the_report(eval_run: tuple[Path, Report]) -> None:
    out, report = eval_run
    metric = report.metrics[0]
    run = read_wandb_run(out)
    assert run["project"] == "evalscope"
    assert run["summary"][f"gsm8k/{metric.name}"] == pytest.approx(metric.score)
    assert run["history"][0][f"gsm8k/{metric.name}"] == pytest.approx(metric.score)
    assert run["config"]["model"] == "scripted" and run["config"]["api_key"] == "***"
    samples = wandb_table(run, "samples/gsm8k")
    assert len(samples["data"]) == N_SAMPLES and "prediction" in samples["columns"]
    assert files_containing(out / "wandb", SECRET) == []


def test_swanlab_without_a_key_logs_offline(eval_run: tuple[Path, Report]) -> None:
    out, report = eval_run
    metric = report.metrics[0]
    run = read_swanlab_run(out / "swanlog")
    assert run["start"].project == "evalscope"
    assert run["scalars"][f"gsm8k/{metric.name}"] == [(0, pytest.approx(metric.score))]
    assert run["finish"] is not None
    config = (run["dir"] / "files" / "config.yaml").read_text(encoding="utf-8")
    assert "api_key" in config and SECRET not in config
    assert files_containing(out / "swanlog", SECRET) == []


def test_run_folder_is_untouched_by_trackers(eval_run: tuple[Path, Report]) -> None:
    out, _ = eval_run
    (run_dir,) = [p for p in out.iterdir() if p.is_dir() and (p / "reports").is_dir()]
    report = json.loads(next((run_dir / "reports").rglob("gsm8k.json")).read_text())
    assert report["num_samples"] == N_SAMPLES


def test_swanlab_local_mode_is_served_by_its_own_dashboard(
    gsm8k_server: ScriptedServer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`SWANLAB_MODE=local`: the run lands in SwanLab's local store, and SwanLab's own dashboard
    (`swanlab watch`, a real HTTP server started here) serves the report's figure."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request

    logs = tmp_path / "swanlog-local"
    monkeypatch.setenv("SWANLAB_MODE", "local")
    monkeypatch.setenv("SWANLAB_LOG_DIR", str(logs))
    report = run_task(
        {
            "model": "scripted",
            "api_url": gsm8k_server.base_url,
            "api_key": SECRET,
            "datasets": ["gsm8k"],
            "dataset_args": {"gsm8k": {"few_shot_num": 0}},
            "data_dir": str(data_dir),
            "limit": N_SAMPLES,
            "work_dir": str(tmp_path / "outputs"),
            "reporters": ["swanlab"],
        }  # fmt: skip
    )["gsm8k"]
    metric = report.metrics[0]
    assert (logs / "runs.swanlab").is_file()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    watch = subprocess.Popen(
        [sys.executable, "-m", "swanlab", "watch", str(logs), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1{path}", timeout=5) as reply:
            return json.loads(reply.read())["data"]

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                project = get("/project")
                break
            except OSError:
                if watch.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert project["name"] == "evalscope" and len(project["experiments"]) == 1
        experiment = project["experiments"][0]["id"]
        tag = get(f"/experiment/{experiment}/tag/{urllib.parse.quote(f'gsm8k/{metric.name}', safe='')}")
        assert [point["data"] for point in tag["list"]] == [pytest.approx(metric.score)]
    finally:
        watch.terminate()
        watch.wait(10)
    assert files_containing(logs, SECRET) == []
