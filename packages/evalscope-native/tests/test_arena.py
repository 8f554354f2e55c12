"""general_arena end to end: three models answer a query file (general_qa), then a scripted judge
compares them (baseline and all-pairs schedules), EvalScope's report rows, leaderboard and battles."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import judge_helpers as jh
import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, UnknownNameError
from evalscope.table import report_rows
from evalscope.testing import InProcessServer, ScriptedServer
from evalscope_native.judge import prompts
from evalscope_native.testing.judge_rules import judge_config, judge_reply
from native_helpers import evalscope_cmd

QUALITY = {"alpha": 8, "beta": 5, "gamma": 2}
N = 12


def _answer_runs(tmp_path: Path) -> dict[str, Path]:
    """Each model answers the same query-only file; returns its reports/<model> folder."""
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "prompts.jsonl").write_text(
        "".join(json.dumps({"query": f"Question {i}: explain topic {i}."}) + "\n" for i in range(N)),
        encoding="utf-8",
    )
    paths = {}
    for name, quality in QUALITY.items():
        entries = [
            {"contains": f"Question {i}:", "reply": f"{name} on {i}. QUALITY:{quality}"} for i in range(N)
        ]
        with ScriptedServer({"model": name, "entries": entries}) as server:
            report = run_task(
                {
                    "model": name,
                    "api_url": server.base_url,
                    "datasets": ["general_qa"],
                    "dataset_args": {"general_qa": {"local_path": str(queries), "subset_list": ["prompts"]}},
                    "work_dir": str(tmp_path / "runs" / name),
                }  # fmt: skip
            )["general_qa"]
        assert report.num_unscored == N and report.num_errors == 0  # answers recorded, nothing to score
        (run_dir,) = (tmp_path / "runs" / name).iterdir()
        paths[name] = run_dir / "reports" / name
    return paths


def _arena(paths: dict[str, Path], judge_url: str, work: Path, **params: Any) -> Any:
    models = [{"name": n, "report_path": str(p)} for n, p in paths.items()]
    return run_task(
        {
            "model_id": "Arena",
            "datasets": ["general_arena"],
            "dataset_args": {
                "general_arena": {"extra_params": {"models": models, "baseline": "beta", **params}}
            },
            "judge_model_args": jh.judge_model_args(judge_url),
            "work_dir": str(work),
        }  # fmt: skip
    )["general_arena"]


def test_arena_against_a_baseline_and_all_pairs(tmp_path: Path) -> None:
    paths = _answer_runs(tmp_path)
    with ScriptedServer(judge_config({"seed": 1})) as judge:
        report = _arena(paths, judge.base_url, tmp_path / "arena")
        assert judge.stats()["requests"] == 2 * N * 2  # alpha and gamma against beta, both orders
        subsets = {s.name: s for c in report.metrics[0].categories for s in c.subsets}
        assert set(subsets) == {"general_qa&prompts@alpha&beta", "general_qa&prompts@gamma&beta"}
        assert (
            subsets["general_qa&prompts@alpha&beta"].score
            > 0.9
            > 0.1
            > subsets["general_qa&prompts@gamma&beta"].score
        )
        names = [m.name for m in report.metrics]
        assert names == ["winrate", "winrate_lower", "winrate_upper"]  # EvalScope's rows, no `mean_`
        rows = {(r[2], r[4]) for r in report_rows([report])}
        assert {(m, "OVERALL") for m in names} <= rows
        assert ("winrate_upper", "general_qa&prompts@gamma&beta") in rows
        categories = {c.name: c for c in report.metrics[0].categories}
        assert set(categories) == {"alpha", "gamma"} and categories["alpha"].num == N
        board = report.extra["arena"]
        assert [row["model"] for row in board["overall"]] == ["alpha", "beta", "gamma"]
        assert board["baseline"] == "beta" and board["battles"] == 2 * N * 2
        assert board["overall"][1]["rating"] == 1000.0
        assert board["bootstrap_rounds"] == 100  # EvalScope's default
        assert all(
            r["elo"] is not None and r["length_controlled_win_rate"] is not None for r in board["overall"]
        )
        run_dir = next((tmp_path / "arena").iterdir())
        text = (run_dir / "reports" / "Arena" / "leaderboard.txt").read_text()
        assert text.startswith("=== OVERALL ===") and "alpha" in text and "SUBSET: general_qa&prompts" in text
        assert "=== DATASET: general_qa ===" in text
        battles = [
            json.loads(x) for x in (run_dir / "reports" / "Arena" / "battles.jsonl").read_text().splitlines()
        ]
        assert len(battles) == 2 * N * 2 and {b["placement"] for b in battles} == {"original", "swapped"}

        judge.reset_stats()
        everyone = _arena(paths, judge.base_url, tmp_path / "all", schedule="all_pairs")
        # alpha-beta and gamma-beta come from the verdict cache: only alpha-gamma is new
        assert judge.stats()["requests"] == N * 2
        assert [r["model"] for r in everyone.extra["arena"]["overall"]] == ["alpha", "beta", "gamma"]

        grid = _arena(paths, judge.base_url, tmp_path / "grid", schedule="mxn", candidates=["alpha"],
                      opponents=["beta", "gamma"], bootstrap_rounds=1000)  # fmt: skip
        subsets = {s.name for c in grid.metrics[0].categories for s in c.subsets}
        assert subsets == {"general_qa&prompts@alpha&beta", "general_qa&prompts@alpha&gamma"}
        assert grid.extra["arena"]["bootstrap_rounds"] == 1000


def test_adding_a_model_judges_only_the_new_pairs(tmp_path: Path) -> None:
    paths = _answer_runs(tmp_path)
    with ScriptedServer(judge_config({"seed": 2})) as judge:
        first = _arena({k: paths[k] for k in ("alpha", "beta")}, judge.base_url, tmp_path / "arena")
        assert judge.stats()["requests"] == N * 2
        judge.reset_stats()
        run_dir = next((tmp_path / "arena").iterdir())
        models = [{"name": n, "report_path": str(p)} for n, p in paths.items()]
        again = run_task(
            {
                "model_id": "Arena",
                "datasets": ["general_arena"],
                "use_cache": str(run_dir),
                "dataset_args": {"general_arena": {"extra_params": {"models": models, "baseline": "beta"}}},
                "judge_model_args": jh.judge_model_args(judge.base_url),
                "work_dir": str(tmp_path / "arena"),
            }  # fmt: skip
        )["general_arena"]
        assert judge.stats()["requests"] == N * 2  # gamma against beta; alpha against beta is known
    assert first.extra["arena"]["overall"][0]["model"] == "alpha"
    assert [r["model"] for r in again.extra["arena"]["overall"]] == ["alpha", "beta", "gamma"]


def test_bad_arena_input_fails_before_anything_is_written(tmp_path: Path) -> None:
    paths = _answer_runs(tmp_path)
    models = [{"name": n, "report_path": str(p)} for n, p in paths.items()]

    def run(params: dict[str, Any]) -> None:
        run_task({"model_id": "Arena", "datasets": ["general_arena"], "work_dir": str(tmp_path / "arena"),
                  "dataset_args": {"general_arena": {"extra_params": params}},
                  "judge_model_args": jh.judge_model_args("http://127.0.0.1:9/v1")})  # fmt: skip

    with pytest.raises(UnknownNameError, match="Did you mean: 'beta'"):
        run({"models": models, "baseline": "bta"})
    with pytest.raises(ConfigError, match="is not a run's reports/<model> folder"):
        run(
            {
                "models": [*models[:2], {"name": "x", "report_path": str(tmp_path / "queries")}],
                "baseline": "beta",
            }
        )
    other = tmp_path / "runs" / "alpha"
    (other / "copy" / "reports" / "delta").mkdir(parents=True)
    (other / "copy" / "reports" / "delta" / "general_qa.json").write_text("{}")
    (other / "copy" / "reviews" / "delta").mkdir(parents=True)
    (other / "copy" / "reviews" / "delta" / "general_qa.jsonl").write_text("")
    with pytest.raises(ConfigError, match="share no answered question"):
        run({"models": [*models, {"name": "delta", "report_path": str(other / "copy" / "reports" / "delta")}],
             "baseline": "beta"})  # fmt: skip
    with pytest.raises(ConfigError, match="at least two models"):
        run({"models": models[:1]})
    assert not (tmp_path / "arena").exists()


def test_system_prompt_and_template_are_the_judges_and_skipped_questions_are_listed(tmp_path: Path) -> None:
    paths = _answer_runs(tmp_path)
    asked: list[list[dict[str, Any]]] = []

    def judge(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        asked.append(messages)
        return judge_reply(messages, {"seed": 1})

    # EvalScope's keys: the template's slots swapped on purpose, so the verdicts flip if it is used.
    swapped = prompts.ARENA_HARD_GRADER.replace("{answer_1}", "@@").replace("{answer_2}", "{answer_1}")
    with InProcessServer(judge_config({"seed": 1}), chat=judge) as server:
        two = {k: paths[k] for k in ("alpha", "beta")}
        report = run_task(
            {
                "model_id": "Arena",
                "datasets": ["general_arena"],
                "dataset_args": {
                    "general_arena": {
                        "system_prompt": "CUSTOM-SYSTEM",
                        "prompt_template": "CUSTOM-TEMPLATE\n" + swapped.replace("@@", "{answer_2}"),
                        "extra_params": {
                            "models": [{"name": n, "report_path": str(p)} for n, p in two.items()],
                            "baseline": "beta",
                        },
                    }
                },
                "judge_model_args": jh.judge_model_args(server.base_url),
                "work_dir": str(tmp_path / "custom"),
            }  # fmt: skip
        )["general_arena"]
    assert len(asked) == N * 2
    assert all(m[0] == {"role": "system", "content": "CUSTOM-SYSTEM"} for m in asked)
    assert all(
        m[1]["content"].startswith("CUSTOM-TEMPLATE\n<|User Prompt|>\n**User**: Question") for m in asked
    )
    assert report.score() < 0.1  # alpha is the better model: only the swapped template makes it lose

    # A question one model did not answer is left out of every pair and listed.
    reviews = next((tmp_path / "runs" / "gamma").iterdir()) / "reviews" / "gamma" / "general_qa.jsonl"
    lines = reviews.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = json.loads(lines[3])
    reviews.write_text("".join(lines[:3] + lines[4:]), encoding="utf-8")
    with ScriptedServer(judge_config({"seed": 1})) as server:
        report = _arena(paths, server.base_url, tmp_path / "arena")
    board = report.extra["arena"]
    assert board["skipped_questions"] == [f"general_qa/{dropped['subset']}/{dropped['id']}"]
    assert board["battles"] == 2 * (N - 1) * 2 and report.metrics[0].num == 2 * (N - 1)


def test_bad_arena_input_exits_2_from_the_cli(tmp_path: Path, cli_env: dict[str, str]) -> None:
    folder = tmp_path / "not_a_run"
    folder.mkdir()
    models = [{"name": n, "report_path": str(folder)} for n in ("alpha", "beta")]
    for params, expected in (
        ({"models": models, "schedule": "mxn", "candidates": ["alpah"], "opponents": ["beta"]},
         "Did you mean: 'alpha'"),
        ({"models": models, "baseline": "beta"}, "is not a run's reports/<model> folder"),
        ({"models": models, "baseline": "gama"}, "the baseline must be one of the models"),
    ):  # fmt: skip
        args = ["eval", "--model-id", "Arena", "--datasets", "general_arena", "--work-dir", str(tmp_path / "out"),
                "--dataset-args", json.dumps({"general_arena": {"extra_params": params}}),
                "--judge-model-args", json.dumps(jh.judge_model_args("http://127.0.0.1:9/v1"))]  # fmt: skip
        res = subprocess.run(evalscope_cmd(*args), env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)  # fmt: skip
        assert res.returncode == 2, res.stderr
        assert expected in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
