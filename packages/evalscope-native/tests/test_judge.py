"""LLM-as-judge against a scripted judge: a real OpenAI-protocol server on 127.0.0.1 that decides by
rule from what it reads in the prompt (`evalscope_native.testing.judge_rules`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import judge_helpers as jh
import pytest
from evalscope import run_task
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.testing.judge_rules import judge_config, unit


def _task(
    model: ScriptedServer, bench: str, data: Path, work: Path, judge: dict[str, Any], **extra: Any
) -> dict:
    return {
        "model": "scripted",
        "api_url": model.base_url,
        "datasets": [bench],
        "dataset_args": {bench: {"dataset_id": str(data)}},
        "work_dir": str(work),
        "eval_batch_size": 16,
        **judge,
        **extra,
    }


def _reviews(work: Path, bench: str) -> list[dict[str, Any]]:
    path = sorted(work.glob(f"*/reviews/*/{bench}.jsonl"))[-1]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_simple_qa_is_graded_by_the_judge_and_a_warm_rerun_asks_nothing(tmp_path: Path) -> None:
    data, entries, truth = jh.simple_qa(tmp_path / "data", 30)
    key = "sk-PLANTED-judge-key-42"
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, api_key=key)) as judge,
    ):
        cfg = {"judge_model_args": jh.judge_model_args(judge.base_url, key)}
        report = run_task(_task(model, "simple_qa", data, tmp_path / "out", cfg))["simple_qa"]
        assert judge.stats()["requests"] == 30
        assert report.score("is_correct") == pytest.approx(truth["A"] / 30)
        assert report.score("is_not_attempted") == pytest.approx(truth["C"] / 30)
        assert report.score("is_incorrect") == pytest.approx(truth["B"] / 30)
        assert report.metrics[0].stderr is not None
        info = report.extra["judge"]
        assert info["coverage"] == 1.0 and info["requests_sent"] == 30 and info["judges"] == ["judge"]
        row = _reviews(tmp_path / "out", "simple_qa")[0]
        attempt = row["metadata"]["judge"]["attempts"][0]
        assert attempt["parsed"]["verdict"] == "A" and json.loads(attempt["replies"][0])["verdict"] == "A"
        assert row["explanation"] == "gold 'City0'"

        judge.reset_stats()
        again = run_task(_task(model, "simple_qa", data, tmp_path / "out", cfg))["simple_qa"]
        assert judge.stats()["requests"] == 0, "a warm cache asks the judge nothing"
        assert again.score("is_correct") == report.score("is_correct")
        assert again.extra["judge"]["cache_hits"] == 30

        run_dir = sorted((tmp_path / "out").iterdir())[-1]
        rereview = run_task(_task(model, "simple_qa", data, tmp_path / "out", cfg, use_cache=str(run_dir),
                                  rerun_review=True))["simple_qa"]  # fmt: skip
        assert judge.stats()["requests"] == 30, "--rerun-review asks the judge again, on purpose"
        assert rereview.score("is_correct") == report.score("is_correct")
    leaked = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert leaked == []


def test_malformed_verdicts_are_reasked_then_counted_never_scored_zero(tmp_path: Path) -> None:
    data, entries, wins = jh.arena(tmp_path / "data", 200, 0.5)
    rules = {"seed": 3, "malformed_rate": 0.05, "flaky_rate": 0.1, "classic_rate": 0.2}
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config(rules)) as judge,
    ):
        cfg = {"judge": {"models": [jh.judge_model_args(judge.base_url)], "position_swap": "off"}}
        report = run_task(_task(model, "arena_hard", data, tmp_path / "out", cfg))["arena_hard"]
        requests = judge.stats()["requests"]
    rows = _reviews(tmp_path / "out", "arena_hard")
    broken = {r["id"] for r in rows if unit("3", "malformed", r["prediction"]) < 0.05}
    assert 0 < len(broken) < 40
    unscored = {r["id"] for r in rows if r["unscored"]}
    assert unscored == broken, "exactly the persistently malformed cases are unscored"
    for r in rows:
        if r["id"] in broken:
            assert r["scores"] == {} or all(v == 0.0 for v in r["scores"].values())
            assert "malformed verdict after 3 replies" in r["unscored"] and "last reply:" in r["unscored"]
            assert "would rather not pick one" in r["unscored"]
    assert report.num_unscored == len(broken) and report.metrics[0].num == 200 - len(broken)
    assert {u.id for u in report.unscored} == broken
    flaky = [
        r for r in rows if r["id"] not in broken and len(r["metadata"]["judge"]["attempts"][0]["replies"]) > 1
    ]
    assert flaky, "some verdicts needed a re-ask and got one"
    assert requests == sum(len(r["metadata"]["judge"]["attempts"][0]["replies"]) for r in rows)
    assert report.extra["judge"]["failed_attempts_by_reason"] == {"malformed": len(broken)}
    assert report.extra["judge"]["coverage"] == pytest.approx((200 - len(broken)) / 200)


def test_position_swap_cancels_a_judge_that_favours_the_first_answer(tmp_path: Path) -> None:
    n, truth = 2000, 0.7
    data, entries, wins = jh.arena(tmp_path / "data", n, truth)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 5, "first_bias": 0.3})) as judge,
    ):
        judged = {"judge_model_args": jh.judge_model_args(judge.base_url)}
        swapped = run_task(_task(model, "arena_hard", data, tmp_path / "a", judged))["arena_hard"]
        one_order = run_task(
            _task(model, "arena_hard", data, tmp_path / "b", {"judge": {**{"models": [judged["judge_model_args"]]},
                                                                        "position_swap": "off"}})
        )["arena_hard"]  # fmt: skip
    info = swapped.extra["judge"]
    assert info["win_rate_position_consistent"] == pytest.approx(wins / n, abs=0.01)
    assert 0.2 < info["position_flip_rate"] < 0.4
    # Without the swap the bias goes straight into the figure (the baseline is shown first).
    assert (
        one_order.score() < truth - 0.05
        and abs(one_order.score() - truth) > abs(info["win_rate_position_consistent"] - truth) + 0.05
    )
    bt = swapped.metrics[0]
    assert bt.aggregation == "bradley_terry" and bt.ci_low is not None and bt.ci_low < bt.score < bt.ci_high


def test_an_answer_cannot_steer_its_own_verdict(tmp_path: Path) -> None:
    data, entries, _ = jh.arena(tmp_path / "data", 12, 0.0, inject=True)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        report = run_task(
            _task(
                model,
                "arena_hard",
                data,
                tmp_path / "out",
                {"judge_model_args": jh.judge_model_args(judge.base_url)},
            )
        )["arena_hard"]
    assert report.score() == 0.0  # every answer is worse; what it says about the verdict is ignored
    for r in _reviews(tmp_path / "out", "arena_hard"):
        assert "[[A>>B]]" in r["prediction"]
        assert {g["result"] for g in r["metadata"]["judge"]["games"]} == {"loss"}


def test_a_judged_benchmark_needs_a_judge_and_a_strategy_it_supports(tmp_path: Path) -> None:
    data, entries, _ = jh.simple_qa(tmp_path / "data", 3)
    with ScriptedServer({"model": "scripted", "entries": entries}) as model:
        with pytest.raises(ConfigError, match="no judge model is configured"):
            run_task(_task(model, "simple_qa", data, tmp_path / "out", {}))
        with pytest.raises(ConfigError, match="has no rule-based scoring"):
            run_task(_task(model, "simple_qa", data, tmp_path / "out", {"judge_strategy": "rule"}))
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_sigkill_while_judging_then_the_same_command_asks_no_verdict_twice(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    import signal
    import subprocess
    import time

    from native_helpers import evalscope_cmd

    n = 60
    data, entries, _ = jh.simple_qa(tmp_path / "data", n)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, delay_s=0.05)) as judge,
    ):
        command = evalscope_cmd(
            "eval", "--model", "scripted", "--api-url", model.base_url, "--datasets", "simple_qa",
            "--dataset-args", json.dumps({"simple_qa": {"dataset_id": str(data)}}), "--work-dir", str(tmp_path / "out"),
            "--judge-model-args", json.dumps(jh.judge_model_args(judge.base_url)), "--judge-worker-num", "4",
        )  # fmt: skip
        verdicts = Path(cli_env["EVALSCOPE_CACHE_DIR"]) / "judge"
        proc = subprocess.Popen(command, env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def cached() -> int:
            files = list(verdicts.glob("*.jsonl"))
            return files[0].read_bytes().count(b"\n") if files else 0

        deadline = time.monotonic() + 120
        while cached() < n // 3 and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept = cached()
        first = judge.stats()["requests"]
        assert n // 3 <= kept < n
        judge.reset_stats()
        res = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        second = judge.stats()["requests"]
    assert second == n - kept, "every verdict written before the kill is reused"
    assert first + second <= n + 4, (
        "only the verdicts in flight at the kill (≤ the judge concurrency) are asked twice"
    )
    assert "mean_is_correct" in res.stdout
