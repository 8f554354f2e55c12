"""The knowledge family end to end: one `run_task` of all six benchmarks against a scripted server.

Each question gets a reply chosen here (right, wrong, or in a format the parser must read), so the
report's scores, subsets and categories are known in advance. CMMLU reads the real release; the
others read the fixtures of `test_bench_knowledge.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from knowledge_helpers import FIXTURES, mmlu_pro_root, rows

Entry = dict[str, str]


def _wrong(letter: str) -> str:
    return "A" if letter != "A" else "B"


def _cmmlu(data_dir: Path) -> tuple[list[Entry], float]:
    """Rows 0-5 of agronomy and arts: right in 5 of 12 (one only through the last-capital fallback);
    rows 4-5 are not in the table and get the server's default reply."""
    entries, right = [], 0
    for subject in ("agronomy", "arts"):
        for i, r in enumerate(rows(data_dir / "cmmlu" / subject / "test.jsonl")[:4]):
            key = f"问题：{r['Question']}\n选项：\nA) {r['A']}\nB) {r['B']}"
            if i == 3:
                reply = f"答案：{_wrong(r['Answer'])}"
            elif i == 2 and subject == "arts":
                reply = f"我认为是{r['Answer']}"  # no marker: the last capital letter
            elif i == 2:
                reply = "答案：[LETTER]"  # the placeholder only: no answer
            else:
                reply = f"逐步分析……\n**答案：** {r['Answer']}"
            right += i < 2 or (i == 2 and subject == "arts")
            entries.append({"contains": key, "reply": reply})
    return entries, right / 12


def _by_question(records: list[dict[str, Any]], field: str, replies: list[str]) -> list[Entry]:
    return [{"contains": r[field], "reply": reply} for r, reply in zip(records, replies, strict=True)]


def test_knowledge_family_end_to_end(tmp_path: Path, data_dir: Path) -> None:
    cmmlu_entries, cmmlu_score = _cmmlu(data_dir)
    law = rows(FIXTURES / "ceval" / "law" / "val.jsonl")
    net = rows(FIXTURES / "ceval" / "computer_network" / "val.jsonl")
    pro = rows(FIXTURES / "mmlu_pro" / "test.jsonl")
    redux = rows(FIXTURES / "mmlu_redux" / "abstract_algebra" / "test.jsonl")
    gpqa = rows(FIXTURES / "gpqa_diamond" / "gpqa_diamond" / "train.jsonl")
    race = rows(FIXTURES / "race" / "high" / "test.jsonl")
    entries = (
        cmmlu_entries
        + _by_question(law, "question", ["答案：C", "答案：（C）", "答案：A"])  # 2/3
        + _by_question(net, "question", ["答案：B", "ANSWER: A", "答案：B。"])  # 2/3
        # targets E E D (math), B B C (computer science): 2/3 each
        + _by_question(
            pro, "question", ["ANSWER: E", "ANSWER: A", "ANSWER: D", "ANSWER: B", "ANSWER: (B)", "x"]
        )
        # targets C; B (D before correction); B; A; A|C; A|C: 4/6
        + _by_question(
            redux, "question", ["ANSWER: C", "ANSWER: D", "ANSWER: B", "ANSWER: A", "ANSWER: C", "ANSWER: B"]
        )
        + _by_question(gpqa, "Question", ["ANSWER: A", "ANSWER: B", "ANSWER: A", "ANSWER: D"])  # 2/4
        + _by_question(race, "question", ["ANSWER: B", "ANSWER: C", "ANSWER: A"])  # 2/3
    )
    with ScriptedServer(
        {"model": "scripted", "entries": entries, "default_reply": "I don't know."}
    ) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["cmmlu", "ceval", "mmlu_pro", "mmlu_redux", "gpqa_diamond", "race"],
                "dataset_args": {
                    "cmmlu": {"subset_list": ["agronomy", "arts"]},
                    "ceval": {
                        "dataset_id": str(FIXTURES / "ceval"),
                        "subset_list": ["law", "computer_network"],
                    },
                    "mmlu_pro": {
                        "dataset_id": str(mmlu_pro_root()),
                        "subset_list": ["math", "computer science"],
                    },
                    "mmlu_redux": {
                        "dataset_id": str(FIXTURES / "mmlu_redux"),
                        "subset_list": ["abstract_algebra"],
                    },
                    "gpqa_diamond": {"dataset_id": str(FIXTURES / "gpqa_diamond")},
                    "race": {"dataset_id": str(FIXTURES / "race"), "subset_list": ["high"]},
                },
                "data_dir": str(data_dir),
                "limit": 6,
                "eval_batch_size": 8,
                "work_dir": str(tmp_path / "out"),
            }
        )
        assert server.stats()["ok"] == 12 + 6 + 6 + 6 + 4 + 3

    def subsets(name: str) -> dict[str, float]:
        return {s.name: s.score for c in reports[name].metrics[0].categories for s in c.subsets}

    def categories(name: str) -> set[str]:
        return {c.name for c in reports[name].metrics[0].categories}

    assert reports["cmmlu"].score() == pytest.approx(cmmlu_score)
    assert subsets("cmmlu") == {"agronomy": pytest.approx(2 / 6), "arts": pytest.approx(3 / 6)}
    assert categories("cmmlu") == {"Other", "Humanities"}
    assert subsets("ceval") == {"law": pytest.approx(2 / 3), "computer_network": pytest.approx(2 / 3)}
    assert categories("ceval") == {"Humanities", "STEM"}
    assert subsets("mmlu_pro") == {"math": pytest.approx(2 / 3), "computer science": pytest.approx(2 / 3)}
    assert reports["mmlu_redux"].score() == pytest.approx(4 / 6)
    assert categories("mmlu_redux") == {"STEM"}
    assert subsets("gpqa_diamond") == {"gpqa_diamond": pytest.approx(0.5)}
    assert subsets("race") == {"high": pytest.approx(2 / 3)}
    assert all(r.metrics[0].name == "mean_acc" and r.num_errors == 0 for r in reports.values())
