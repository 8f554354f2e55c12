"""Judged benchmarks end to end: MT-Bench on the real questions, AlpacaEval's length-controlled win
rate, llm_recall on math, general_qa with a judge, a panel of two judges, and the CLI's judge flags."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import judge_helpers as jh
import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from evalscope_native.testing.judge_rules import judge_config
from native_helpers import evalscope_cmd


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _reviews(work: Path, bench: str) -> list[dict[str, Any]]:
    return _rows(sorted(work.glob(f"*/reviews/*/{bench}.jsonl"))[-1])


def test_mt_bench_asks_two_turns_and_rates_both(tmp_path: Path, data_dir: Path) -> None:
    questions = _rows(data_dir / "mt_bench" / "default" / "test.jsonl")
    entries = []
    for q in questions:
        q1, q2 = q["turns"]
        entries.append(
            {
                "contains": q2,
                "reply": f"Second answer to {q['question_id']}. QUALITY:{q['question_id'] % 5 + 4}",
            }
        )
        entries.append(
            {
                "contains": q1,
                "reply": f"First answer to {q['question_id']}. QUALITY:{q['question_id'] % 3 + 6}",
            }
        )
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 2})) as judge,
    ):
        task = {
            "model": "scripted", "api_url": model.base_url, "datasets": ["mt_bench"],
            "dataset_args": {"mt_bench": {"eval_split": "test"}}, "data_dir": str(data_dir),
            "judge_model_args": jh.judge_model_args(judge.base_url), "work_dir": str(tmp_path / "out"),
            "eval_batch_size": 16,
        }  # fmt: skip
        report = run_task(task)["mt_bench"]
        assert model.stats()["requests"] == 160  # two turns each
        assert judge.stats()["requests"] == 160  # one rating per turn
        model.reset_stats()
        run_dir = next((tmp_path / "out").iterdir())
        again = run_task({**task, "use_cache": str(run_dir)})["mt_bench"]
        assert model.stats()["requests"] == 0, "both turns of every question come from the cache"
    expect1 = sum(q["question_id"] % 3 + 6 for q in questions) / 80
    expect2 = sum(q["question_id"] % 5 + 4 for q in questions) / 80
    assert report.score("first_turn_judge_score") == pytest.approx(expect1)
    assert report.score("second_turn_judge_score") == pytest.approx(expect2)
    assert report.score("judge_score") == pytest.approx((expect1 + expect2) / 2)
    assert again.score("judge_score") == report.score("judge_score")
    assert [s.name for s in report.metrics[0].categories[0].subsets][:3] == [
        "writing",
        "roleplay",
        "reasoning",
    ]
    rows = {r["id"]: r for r in _reviews(tmp_path / "out", "mt_bench")}
    q101 = rows["101"]  # a reasoning question: the judge saw the reference answers
    sent = q101["metadata"]["judge"]["attempts"]
    assert len(sent) == 2 and q101["metadata"]["answers"][0].startswith("First answer to 101")
    assert q101["metadata"]["category"] == "reasoning" and len(q101["metadata"]["references"]) == 2


def test_alpaca_eval_reports_a_length_controlled_win_rate(tmp_path: Path) -> None:
    rows, entries = [], []
    for i in range(120):
        better = i % 2 == 0  # the better half is also much longer: a length-biased picture
        rows.append({"instruction": f"Instruction {i}: write something.", "output": f"Reference {i}. QUALITY:5",
                     "generator": "gpt4_1106_preview", "dataset": "test"})  # fmt: skip
        text = f"Answer {i}. QUALITY:{8 if better else 2}" + (" padding" * 80 if better else "")
        entries.append({"contains": f"Instruction {i}:", "reply": text})
    data = jh.write_rows(tmp_path / "data", "alpaca_eval_gpt4_baseline", "eval", rows)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 4})) as judge,
    ):
        report = run_task(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": ["alpaca_eval"],
                "dataset_args": {"alpaca_eval": {"dataset_id": str(data)}},
                "work_dir": str(tmp_path / "out"),
                "judge_model_args": jh.judge_model_args(judge.base_url),
            }  # fmt: skip
        )["alpaca_eval"]
    assert report.score("win_rate") == pytest.approx(0.5)
    lc = report.metrics[1]
    assert lc.score == lc.score  # a number, even when length separates wins from losses completely
    assert lc.name == "mean_lc_win_rate" and lc.aggregation == "length_controlled"
    # Every win is also a long answer: at equal length the model is estimated to win far less often.
    assert lc.score < 0.35 and lc.ci_low is not None and lc.ci_high is not None
    assert report.extra["judge"]["length_correlation"] > 0.9  # the report names the length bias too


def test_llm_recall_asks_the_judge_only_where_the_rule_said_wrong(tmp_path: Path, data_dir: Path) -> None:
    rows = [r for r in _rows(data_dir / "math500" / "default" / "test.jsonl") if r["level"] == 1][:10]
    entries = []
    for i, r in enumerate(rows):
        # right and boxed for the first 6; for 2 the right value is in the prose but a wrong one is boxed
        # (the rule reads the box, this judge reads the prose); wrong for 2
        reply = (f"So \\boxed{{{r['answer']}}}" if i < 6 else f"It is {r['answer']}, typed as \\boxed{{-999}}"
                 if i < 8 else "\\boxed{-999}")  # fmt: skip
        entries.append({"contains": r["problem"][:60], "reply": reply})
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        base = {"model": "scripted", "api_url": model.base_url, "datasets": ["math_500"], "limit": 10,
                "dataset_args": {"math_500": {"subset_list": ["Level 1"]}},
                "data_dir": str(data_dir), "work_dir": str(tmp_path / "out")}  # fmt: skip
        ruled = run_task(base)["math_500"]
        assert judge.stats()["requests"] == 0
        recalled = run_task({**base, "judge_strategy": "llm_recall",
                             "judge_model_args": jh.judge_model_args(judge.base_url)})["math_500"]  # fmt: skip
        judged = judge.stats()["requests"]
    wrong_by_rule = sum(1 for r in _reviews(tmp_path / "out", "math_500") if "judge" in r["metadata"])
    assert judged == wrong_by_rule == 4
    assert ruled.score() == pytest.approx(0.6) and recalled.score() == pytest.approx(0.8)


def test_general_qa_judged_and_a_panel_of_two(tmp_path: Path) -> None:
    rows = [{"query": f"Name the colour number {i}.", "response": f"colour{i}", "human_label": float(i % 4 != 3)}
            for i in range(24)]  # fmt: skip
    entries = [{"contains": f"colour number {i}.", "reply": f"It is colour{i}." if i % 4 != 3 else "No idea."}
               for i in range(24)]  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    (data / "example.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, model="judge-a")) as ja,
        ScriptedServer(judge_config({"seed": 2, "classic_rate": 0.5}, model="judge-b")) as jb,
    ):
        panel = {"strategy": "llm", "aggregation": "majority_vote", "min_valid_judges": 2,
                 "models": [jh.judge_model_args(ja.base_url, model_id="judge-a"),
                            jh.judge_model_args(jb.base_url, model_id="judge-b")]}  # fmt: skip
        report = run_task(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": ["general_qa"],
                "dataset_args": {"general_qa": {"local_path": str(data), "subset_list": ["example"]}},
                "judge": panel,
                "work_dir": str(tmp_path / "out"),
            }  # fmt: skip
        )["general_qa"]
    assert [m.name for m in report.metrics] == ["mean_acc"]
    assert report.score() == pytest.approx(18 / 24)
    info = report.extra["judge"]
    assert info["judges"] == ["judge-a", "judge-b"]
    assert (
        info["panel_agreement"]["fleiss_kappa"] == pytest.approx(1.0)
        and info["panel_agreement"]["items"] == 24
    )
    assert info["human_agreement"] == {"items": 24, "agreement": 1.0, "pearson": pytest.approx(1.0)}


def test_cli_judge_flags_typos_and_keys(tmp_path: Path, cli_env: dict[str, str]) -> None:
    data, entries, _ = jh.simple_qa(tmp_path / "data", 6)
    key = "sk-PLANTED-cli-judge-77"
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, api_key=key)) as judge,
    ):
        args = ["eval", "--model", "scripted", "--api-url", model.base_url, "--datasets", "simple_qa",
                "--dataset-args", json.dumps({"simple_qa": {"dataset_id": str(data)}}), "--work-dir", str(tmp_path / "out")]  # fmt: skip
        bad = subprocess.run(
            evalscope_cmd(*args, "--judge", json.dumps({"strategy": "llm", "modles": []})),
            env=cli_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert bad.returncode == 2 and "unknown key 'judge.modles'. Did you mean 'models'?" in bad.stderr
        good = subprocess.run(
            evalscope_cmd(*args, "--judge-strategy", "auto", "--judge-worker-num", "2",
                          "--judge-model-args", json.dumps(jh.judge_model_args(judge.base_url, key))),
            env=cli_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert good.returncode == 0, good.stderr
        assert judge.stats()["requests"] == 6
    assert "mean_is_correct" in good.stdout
    for path in (tmp_path / "out").rglob("*"):
        assert not path.is_file() or key.encode() not in path.read_bytes(), path
    assert key not in good.stdout + good.stderr


def test_chinese_simpleqa_categories_and_its_own_grader(tmp_path: Path) -> None:
    categories = ["中华文化", "社会"]
    rows = [{"id": f"c{i}", "question": f"第{i}个问题的答案是什么？", "answer": f"答案{i}",
             "primary_category": categories[i % 2], "secondary_category": "测试"} for i in range(8)]  # fmt: skip
    entries = [
        {"contains": f"第{i}个问题", "reply": f"是答案{i}。" if i < 5 else "我不知道。"} for i in range(8)
    ]
    data = jh.write_rows(tmp_path / "data", "default", "train", rows)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        report = run_task(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": ["chinese_simpleqa"],
                "dataset_args": {"chinese_simpleqa": {"dataset_id": str(data), "subset_list": categories}},
                "judge_model_args": jh.judge_model_args(judge.base_url),
                "work_dir": str(tmp_path / "out"),
            }  # fmt: skip
        )["chinese_simpleqa"]
    subsets = {s.name: s.num for s in report.metrics[0].categories[0].subsets}
    assert subsets == {"中华文化": 4, "社会": 4}
    assert report.score("is_correct") == pytest.approx(5 / 8)
    assert report.score("is_not_attempted") == pytest.approx(3 / 8)
    sent = _reviews(tmp_path / "out", "chinese_simpleqa")[0]["metadata"]["judge"]["attempts"][0]
    assert sent["parsed"]["verdict"] == "A"


@pytest.mark.parametrize("bench", ["aime24", "aime25"])
def test_aime_llm_recall_uses_its_equivalence_judge(tmp_path: Path, bench: str) -> None:
    rows = [{"problem": f"Compute problem {i}.", "answer": str(100 + i)} for i in range(6)]
    # boxed right for 3; right in the prose but a wrong number boxed for 2 (the rule reads the box, the
    # equivalence judge the whole reply); wrong for 1
    replies = [f"\\boxed{{{100 + i}}}" if i < 3 else f"Final: {100 + i} (boxed wrong: \\boxed{{7}})" if i < 5
               else "\\boxed{7}" for i in range(6)]  # fmt: skip
    entries = [{"contains": f"problem {i}.", "reply": r} for i, r in enumerate(replies)]
    data = jh.write_rows(tmp_path / "data", "default", "test", rows)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        report = run_task(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": [bench],
                "dataset_args": {bench: {"dataset_id": str(data)}},
                "judge_strategy": "llm_recall",
                "judge_model_args": jh.judge_model_args(judge.base_url),
                "work_dir": str(tmp_path / "out"),
            }  # fmt: skip
        )[bench]
        asked = judge.stats()["requests"]
    rows_out = _reviews(tmp_path / "out", bench)
    judged = [r for r in rows_out if "judge" in r["metadata"]]
    assert asked == len(judged) == 3  # only the three the integer-only rule marked wrong
    assert {r["metadata"]["judge"]["attempts"][0]["parsed"]["verdict"] for r in judged} == {"Yes", "No"}
    assert report.score() == pytest.approx(5 / 6)  # the two unboxed right answers recalled, the wrong one not


def test_arena_hard_and_alpaca_eval_read_the_real_data(tmp_path: Path, data_dir: Path) -> None:
    arena = _rows(data_dir / "arena_hard" / "default" / "test.jsonl")[:12]
    alpaca = _rows(data_dir / "alpaca_eval" / "alpaca_eval_gpt4_baseline" / "eval.jsonl")[:12]
    entries = [{"contains": r["question"][:80], "reply": f"My answer. QUALITY:{8 if i % 3 else 2}"}
               for i, r in enumerate(arena)]  # fmt: skip
    entries += [{"contains": r["instruction"][:80], "reply": f"My output. QUALITY:{8 if i % 4 else 2}"}
                for i, r in enumerate(alpaca)]  # fmt: skip
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        reports = run_task(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": ["arena_hard", "alpaca_eval"],
                "limit": 12,
                "data_dir": str(data_dir),
                "judge_model_args": jh.judge_model_args(judge.base_url),
                "work_dir": str(tmp_path / "out"),
            }  # fmt: skip
        )
        asked = judge.stats()["requests"]
    assert asked == 12 * 2 + 12  # Arena-Hard in both orders, AlpacaEval in one
    # The baseline answers carry no QUALITY marker (5): 8 wins, 2 loses.
    assert reports["arena_hard"].score() == pytest.approx(8 * 3 / (8 * 3 + 4 * 1), abs=0.2)
    assert reports["arena_hard"].score() > 0.5 and reports["arena_hard"].metrics[0].ci_low is not None
    assert reports["alpaca_eval"].score("win_rate") == pytest.approx(9 / 12)
    first = _reviews(tmp_path / "out", "arena_hard")[0]
    assert (
        first["target"] == arena[0]["prediction"]
        and first["metadata"]["capability"] == arena[0]["capability"]
    )
