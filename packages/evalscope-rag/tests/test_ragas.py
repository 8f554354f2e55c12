"""RAGAS end to end: ragas 0.4's real metrics, a scripted judge over real HTTP, the real MiniLM.

The judge answers by the plain rules of `evalscope_rag.testing.ragas_judge`, so every per-sample score
is known in advance (the cosine terms are computed here with MiniLM). One sample makes the judge
answer garbage: it must be retried, then recorded as failed with the reply — never a crash, never NaN.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evalscope.errors import DataFormatError, UnknownNameError
from evalscope.run import run_task
from evalscope.testing import InProcessServer
from evalscope_rag.testing.ragas_judge import make_responder

pytestmark = pytest.mark.slow

EIFFEL_Q = "Where is the Eiffel Tower located?"
SAMPLES = [
    {
        "question": "Where is the Eiffel Tower?",
        "contexts": ["The Eiffel Tower is in Paris. It opened in 1889.", "Berlin is the capital of Germany."],
        "answer": "The Eiffel Tower is in Paris. The tower is made of cheese.",
        "ground_truth": "The Eiffel Tower is in Paris. It opened in 1889.",
    },
    {
        "question": "At what temperature does water boil?",
        "contexts": ["Berlin is the capital of Germany.", "Water boils at 100 degrees Celsius at sea level."],
        "answer": "Water boils at 100 degrees Celsius at sea level.",
        "ground_truth": "Water boils at 100 degrees Celsius at sea level.",
    },
    {
        "question": "Who painted the Mona Lisa?",
        "contexts": ["Leonardo da Vinci painted the Mona Lisa."],
        "answer": "I don't know.",
        "ground_truth": "Leonardo da Vinci painted the Mona Lisa.",
    },
    {
        "question": "What does MALFORMED mean?",
        "contexts": ["Nothing useful."],
        "answer": "MALFORMED answer.",
        "ground_truth": "No idea.",
    },
]
METRICS = ["faithfulness", "answer_relevancy", "context_precision", "context_recall", "answer_correctness"]
QUESTIONS = {SAMPLES[0]["answer"]: EIFFEL_Q, SAMPLES[1]["answer"]: "How hot must water be to boil?"}


def _cos(a: Any, b: Any) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _config(
    testset: Path, judge_url: str, minilm_path: Path, tmp_path: Path, **eval_extra: Any
) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "model_id": "my-rag",
        "work_dir": str(tmp_path / "outputs"),
        "retry": {"max_retries": 4, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        "eval_config": {
            "tool": "RAGAS",
            "eval": {
                "testset_file": str(testset),
                "critic_llm": {
                    "model_name": "judge",
                    "api_base": judge_url,
                    "api_key": "sk-judge",
                    "max_retries": 2,
                },
                "embeddings": {"model_name_or_path": str(minilm_path)},
                "metrics": METRICS,
                **eval_extra,
            },
        },
    }


def test_every_metric_per_sample_and_a_malformed_judge_is_a_recorded_failure(
    tmp_path: Path, minilm: Any, minilm_path: Path
) -> None:
    testset = tmp_path / "rag_testset.jsonl"
    testset.write_text("\n".join(json.dumps(s) for s in SAMPLES) + "\n")
    with InProcessServer({"faults": {"fail_first": 2}}, chat=make_responder(QUESTIONS)) as judge:
        report = run_task(_config(testset, judge.base_url, minilm_path, tmp_path))["rag_testset"]
        assert judge.stats()["routes"]["chat"]["faults"] == 2  # HTTP 500s were retried, not fatal

    emb = {t: minilm.encode(t) for s in SAMPLES[:3] for t in (s["question"], s["answer"], s["ground_truth"])}
    emb.update({q: minilm.encode(q) for q in QUESTIONS.values()})
    expected = [
        {
            "faithfulness": 0.5,
            "answer_relevancy": _cos(emb[EIFFEL_Q], emb[SAMPLES[0]["question"]]),
            "context_precision": 1.0,
            "context_recall": 1.0,
            "answer_correctness": 0.75 * 0.5
            + 0.25 * _cos(emb[SAMPLES[0]["answer"]], emb[SAMPLES[0]["ground_truth"]]),
        },
        {
            "faithfulness": 1.0,
            "answer_relevancy": _cos(emb[QUESTIONS[SAMPLES[1]["answer"]]], emb[SAMPLES[1]["question"]]),
            "context_precision": 0.5,
            "context_recall": 1.0,
            "answer_correctness": 1.0,
        },
        {
            "faithfulness": 0.0,
            "answer_relevancy": 0.0,  # noncommittal
            "context_precision": 1.0,
            "context_recall": 1.0,
            "answer_correctness": 0.25 * _cos(emb[SAMPLES[2]["answer"]], emb[SAMPLES[2]["ground_truth"]]),
        },
    ]
    run_dir = next((tmp_path / "outputs").iterdir())
    records = [
        json.loads(line)
        for line in (run_dir / "reviews" / "my-rag" / "rag_testset.jsonl").read_text().splitlines()
    ]
    assert len(records) == 4
    for rec, exp in zip(records[:3], expected, strict=True):
        assert rec["error"] is None
        assert set(rec["scores"]) == set(METRICS)
        for metric, value in exp.items():
            assert rec["scores"][metric] == pytest.approx(value, abs=1e-4), (rec["index"], metric)

    # the malformed sample: every metric failed after retries, with the judge's reply quoted
    bad = records[3]
    assert bad["scores"] == {}
    assert set(bad["metadata"]["metric_errors"]) == set(METRICS)
    assert "after 3 attempts" in bad["error"] and "cannot answer in JSON" in bad["error"]
    replies = [
        json.loads(x)
        for x in (run_dir / "predictions" / "my-rag" / "rag_testset.judge.jsonl").read_text().splitlines()
    ]
    faith = [r for r in replies if r["index"] == 3 and r["metric"] == "faithfulness"]
    assert [r["attempt"] for r in faith] == [1, 2, 3] and all("error" in r for r in faith)
    assert {r["index"] for r in replies} == {0, 1, 2, 3}  # raw replies kept for every sample
    assert "sk-judge" not in (run_dir / "configs" / "task_config.yaml").read_text()

    # the report: one row per metric, failures count 0 and are listed, nothing is NaN
    assert report.model_name == "my-rag" and report.num_samples == 4
    assert report.num_errors == 1 and report.errors[0].id == "3"
    for metric in report.metrics:
        name = metric.name.removeprefix("mean_")
        assert not math.isnan(metric.score)
        assert metric.score == pytest.approx(sum(e[name] for e in expected) / 4, abs=1e-4)
    assert report.extra["failed_metrics"] == 5


def test_bad_test_sets_and_metric_names_fail_before_the_run(tmp_path: Path, minilm_path: Path) -> None:
    good = json.dumps(SAMPLES[0])
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good + "\n{not json\n")
    cfg = _config(broken, "http://127.0.0.1:9/v1", minilm_path, tmp_path)
    with pytest.raises(DataFormatError, match=r"broken.jsonl:2: invalid JSON"):
        run_task(cfg)
    no_truth = tmp_path / "no_truth.jsonl"
    no_truth.write_text(
        good + "\n" + json.dumps({k: v for k, v in SAMPLES[1].items() if k != "ground_truth"}) + "\n"
    )
    with pytest.raises(DataFormatError, match=r"no_truth.jsonl:2: metric context_precision needs reference"):
        run_task(_config(no_truth, "http://127.0.0.1:9/v1", minilm_path, tmp_path))
    cfg = _config(broken, "http://127.0.0.1:9/v1", minilm_path, tmp_path)
    cfg["eval_config"]["eval"]["metrics"] = ["faithfullness"]
    with pytest.raises(UnknownNameError, match="'faithfulness'"):
        run_task(cfg)
    assert not (tmp_path / "outputs").exists()
