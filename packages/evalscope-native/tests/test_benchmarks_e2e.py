"""MMLU and ARC on the real data through a real OpenAI-compatible server; API modes; re-review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks.mmlu import CATEGORIES


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]


def _letter(key: str) -> str:
    """ARC labels a few questions 1-4; the prompt shows them as A-D, so a model answers with letters."""
    return "ABCDE"[int(key) - 1] if key.isdigit() else key


def _reviews(out: Path, model: str, bench: str) -> list[dict[str, Any]]:
    run_dir = next(out.iterdir())
    return [
        json.loads(x) for x in (run_dir / "reviews" / model / f"{bench}.jsonl").read_text().split("\n") if x
    ]


def test_mmlu_five_shot_prompt_categories_and_score(tmp_path: Path, data_dir: Path) -> None:
    limit = 2
    with ScriptedServer({"model": "scripted", "default_reply": "Thinking...\nANSWER: A"}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["mmlu"],
                "data_dir": str(data_dir),
                "limit": limit,
                "eval_batch_size": 16,
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["mmlu"]
    assert report.num_samples == 57 * limit
    expected = sum(
        row["answer"] == 0 for s in CATEGORIES for row in _rows(data_dir / "mmlu" / s / "test.jsonl")[:limit]
    ) / (57 * limit)
    assert report.score() == pytest.approx(expected)
    metric = report.metrics[0]
    assert metric.name == "mean_acc"
    assert {c.name for c in metric.categories} == {"STEM", "Humanities", "Social Science", "Other"}
    stem = next(c for c in metric.categories if c.name == "STEM")
    assert {s.name for s in stem.subsets} == {s for s, c in CATEGORIES.items() if c == "STEM"}

    # The prompt is EvalScope 1.x's: few-shot block from the subject's dev split, then the CoT template.
    dev = _rows(data_dir / "mmlu" / "abstract_algebra" / "dev.jsonl")
    test0 = _rows(data_dir / "mmlu" / "abstract_algebra" / "test.jsonl")[0]

    def block(row: dict[str, Any]) -> str:
        return row["question"] + "\n" + "\n".join(f"{'ABCD'[i]}) {c}" for i, c in enumerate(row["choices"]))

    prompt = (
        "Here are some examples of how to answer similar questions:\n\n"
        + "\n\n".join(block(r) + f"\nANSWER: {'ABCD'[r['answer']]}" for r in dev[:5])
        + "\n\nAnswer the following multiple choice question. The last line of your response should be of the "
        "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. "
        "Think step by step before answering.\n\n"
        + test0["question"]
        + "\n\n"
        + "\n".join(f"{'ABCD'[i]}) {c}" for i, c in enumerate(test0["choices"]))
    )
    first = next(
        r for r in _reviews(tmp_path / "out", "scripted", "mmlu") if r["subset"] == "abstract_algebra"
    )
    assert first["input"] == [{"role": "user", "content": prompt}]
    assert first["extracted"] == "A"


@pytest.mark.parametrize("mode", ["chat-stream", "completions"])
def test_arc_both_subsets_in_each_api_mode(tmp_path: Path, data_dir: Path, mode: str) -> None:
    easy = _rows(data_dir / "arc" / "ARC-Easy" / "test.jsonl")[:10]
    hard = _rows(data_dir / "arc" / "ARC-Challenge" / "test.jsonl")[:10]
    entries = [
        {"contains": r["question"], "reply": f"ANSWER: {_letter(r['answerKey'])}"}
        for r in easy[:7] + hard[:4]
    ]
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": "ANSWER: Z"}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "model_args": {"api": "completions" if mode == "completions" else "chat"},
                "stream": mode == "chat-stream",
                "datasets": ["arc"],
                "data_dir": str(data_dir),
                "limit": 10,
                "work_dir": str(tmp_path / "out"),
            }
        )
        assert server.stats()["ok"] == 20
    subsets = {s.name: s.score for c in reports["arc"].metrics[0].categories for s in c.subsets}
    assert subsets == {"ARC-Easy": pytest.approx(0.7), "ARC-Challenge": pytest.approx(0.4)}


def test_rerun_review_rescores_without_calling_the_model(tmp_path: Path, data_dir: Path) -> None:
    rows = _rows(data_dir / "arc" / "ARC-Easy" / "test.jsonl")[:6]
    entries = [{"contains": r["question"], "reply": f"ANSWER: {r['answerKey']}"} for r in rows[:3]]
    base = {
        "model": "scripted",
        "datasets": ["arc"],
        "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
        "data_dir": str(data_dir),
        "limit": 6,
        "use_cache": str(tmp_path / "run"),
    }
    (tmp_path / "run").mkdir()  # --use-cache names an existing folder (a missing one is a typo)
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": "no idea"}) as server:
        first = run_task({**base, "api_url": server.base_url})
        assert server.stats()["requests"] == 6
        again = run_task({**base, "api_url": server.base_url, "rerun_review": True})
        assert server.stats()["requests"] == 6, "re-review must not call the model"
    assert first["arc"].score() == again["arc"].score() == pytest.approx(0.5)


def test_n_completions_give_mean_of_n_and_pass_at_k(tmp_path: Path, data_dir: Path) -> None:
    rows = _rows(data_dir / "arc" / "ARC-Easy" / "test.jsonl")[:4]
    entries = [{"contains": r["question"], "reply": f"ANSWER: {_letter(r['answerKey'])}"} for r in rows[:1]]
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": "ANSWER: Z"}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["arc"],
                "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
                "generation_config": {"n": 4},
                "data_dir": str(data_dir),
                "limit": 4,
                "work_dir": str(tmp_path / "out"),
            }
        )
        assert server.stats()["requests"] == 4  # n completions come from one request each
    names = [m.name for m in reports["arc"].metrics]
    assert names == ["mean_acc", "pass@1", "pass@2", "pass@4"]
    assert all(m.score == pytest.approx(0.25) for m in reports["arc"].metrics)
    review = _reviews(tmp_path / "out", "scripted", "arc")[0]
    assert len(review["predictions"]) == 4 and review["metadata"]["completion_scores"][0] == {"acc": 1.0}
