"""Judge parts the end-to-end tests leave open: judge calls retried as long as the server's
Retry-After asks, repeats, how a panel's verdicts combine, and the report's agreement figures."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import judge_helpers as jh
import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from evalscope_native.judge.panel import combine
from evalscope_native.judge.stats import fleiss_kappa, judge_report
from evalscope_native.testing.judge_rules import judge_config


def _task(model: ScriptedServer, data: Path, work: Path, **extra: Any) -> dict[str, Any]:
    return {
        "model": "scripted",
        "api_url": model.base_url,
        "datasets": ["simple_qa"],
        "dataset_args": {"simple_qa": {"dataset_id": str(data)}},
        "work_dir": str(work),
        **extra,
    }


def test_judge_calls_wait_as_long_as_retry_after_says(tmp_path: Path) -> None:
    """Every first judge request gets a 429 with `Retry-After: 0.4`; the backoff alone would retry
    within milliseconds, so the judge's requests must spread over at least 0.4 s and all succeed."""
    data, entries, truth = jh.simple_qa(tmp_path / "data", 6)
    faults = {"seed": 1, "rate": {"429": 1.0}, "attempts": 1, "retry_after_s": 0.4}
    fast_backoff = {"max_retries": 3, "backoff_base_s": 0.001, "backoff_max_s": 0.002}
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, faults=faults)) as judge,
    ):
        task = _task(model, data, tmp_path / "out", retry=fast_backoff,
                     judge_model_args=jh.judge_model_args(judge.base_url))  # fmt: skip
        report = run_task(task)["simple_qa"]
        stats = judge.stats()
    assert stats["faults"]["429"] == 6 and stats["ok"] == 6
    assert stats["last_reply_perf"] - stats["first_request_perf"] >= 0.4
    assert report.extra["judge"]["coverage"] == 1.0 and report.num_unscored == 0
    assert report.score("is_correct") == pytest.approx(truth["A"] / 6)


def test_repeats_are_asked_and_cached_one_by_one(tmp_path: Path) -> None:
    data, entries, truth = jh.simple_qa(tmp_path / "data", 6)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        panel = {
            "models": [jh.judge_model_args(judge.base_url)],
            "repeats": 3,
            "aggregation": "majority_vote",
        }
        report = run_task(_task(model, data, tmp_path / "out", judge=panel))["simple_qa"]
        assert judge.stats()["requests"] == 18
        again = run_task(_task(model, data, tmp_path / "out", judge=panel))["simple_qa"]
        assert judge.stats()["requests"] == 18, "each repeat is its own cached verdict"
    assert report.score("is_correct") == again.score("is_correct") == pytest.approx(truth["A"] / 6)
    assert again.extra["judge"]["cache_hits"] == 18


def test_a_panel_combines_over_repeats_then_over_judges() -> None:
    per_judge: dict[str, list[dict[str, float]]] = {
        "a": [{"s": 1.0}, {"s": 0.0}, {"s": 1.0}],
        "b": [{"s": 0.0}],
        "c": [],  # no usable verdict: not a judge of this sample
    }
    assert combine(per_judge, "mean", 1)[0] == {"s": pytest.approx((2 / 3 + 0) / 2)}
    assert combine(per_judge, "median", 1)[0] == {"s": 0.5}
    values, notes = combine(per_judge, "majority_vote", 2)
    assert values == {"s": 1.0} and notes["panel_tie_broken_by_first"] and notes["valid_judges"] == 2
    values, notes = combine(per_judge, "mean", 3)
    assert values is None and notes == {"valid_judges": 2, "min_valid_judges": 3}


def test_fleiss_kappa_on_the_textbook_table() -> None:
    """Fleiss (1971) as Wikipedia works it: 10 items, 14 raters, 5 categories, kappa 0.210."""
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    ratings = [[str(c) for c, k in enumerate(row) for _ in range(k)] for row in table]
    assert fleiss_kappa(ratings) == pytest.approx(0.2099, abs=5e-4)
    assert fleiss_kappa([["A", "A"], ["B", "B"]]) == pytest.approx(1.0)


def _judged(verdicts: dict[str, str], score: float, length: int) -> SimpleNamespace:
    attempts = [
        {"judge": j, "repeat": 0, "placement": "original", "parsed": {"verdict": v}}
        for j, v in verdicts.items()
    ]
    return SimpleNamespace(metadata={"judge": {"attempts": attempts}}, error=None, unscored=None,
                           scores={"acc": score}, extracted="x" * length)  # fmt: skip


def test_panel_agreement_survives_a_judge_missing_on_some_answers() -> None:
    """A panel of three where judge c had no verdict on two answers: kappa over the other ten."""
    full = [
        _judged(dict.fromkeys("abc", "A" if i % 2 else "B"), float(i % 2), 10 + 90 * (i % 2))
        for i in range(10)
    ]
    partial = [_judged({"a": "A", "b": "B"}, 1.0, 100), _judged({"a": "B", "b": "B"}, 0.0, 10)]
    panel = SimpleNamespace(clients=[SimpleNamespace(name=n, hits=0) for n in "abc"], calls=0)
    info = judge_report([*full, *partial], "acc", panel)
    assert info["panel_agreement"] == {"fleiss_kappa": pytest.approx(1.0), "items": 10, "items_left_out": 2}
    assert info["length_correlation"] == pytest.approx(1.0)  # the long answers are the ones judged right
