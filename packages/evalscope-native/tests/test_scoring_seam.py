"""The scoring seam: scorers and metrics from any plugin, async scorers, unscored samples, stderr.

A plugin registered in-process (as a third party's would be through its entry point) adds a sync
scorer, an async scorer that sometimes cannot decide, and a metric; runs use them by name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.hookspecs import hookimpl
from evalscope.plugins import register_plugin, reset_plugins
from evalscope.scoring import MetricValue, Score
from evalscope.specs import MetricSpec, ScorerSpec


@dataclass
class AnswerLength:
    values: tuple[str, ...] = ("answer_len",)

    def __call__(self, sample: Any, completion: str, extracted: str) -> Score:
        return Score(values={"answer_len": float(len(completion))}, answer=extracted)


def _toss(sample_id: str) -> int:
    """0 or 1 (heads or tails), or 2: the coin lands on its edge and decides nothing."""
    return int(hashlib.sha256(sample_id.encode()).hexdigest(), 16) % 3


@dataclass
class SlowCoin:
    """Async, like a judge; a third of the samples (by a hash of the id) cannot be decided."""

    values: tuple[str, ...] = ("coin",)

    async def __call__(self, sample: Any, completion: str, extracted: str) -> Score:
        await asyncio.sleep(0)
        toss = _toss(sample.id)
        if toss == 2:
            return Score(unscored=f"coin {sample.id} landed on its edge")
        return Score(values={"coin": float(toss)}, explanation=f"coin {sample.id}: {toss}")


def answer_length(benchmark: Any, **kwargs: Any) -> AnswerLength:
    return AnswerLength()


def slow_coin(benchmark: Any, **kwargs: Any) -> SlowCoin:
    return SlowCoin()


def maximum(values: Any, weights: Any, *, seed: int = 0, **_: Any) -> MetricValue:
    return MetricValue(score=max(values), num=len(values))


class ScoringPlugin:
    @hookimpl
    def evalscope_register_scorers(self) -> list[ScorerSpec]:
        return [
            ScorerSpec(name="answer_len", impl=f"{__name__}:answer_length", values=("answer_len",)),
            ScorerSpec(name="coin", impl=f"{__name__}:slow_coin", values=("coin",), kind="model"),
        ]

    @hookimpl
    def evalscope_register_metrics(self) -> list[MetricSpec]:
        return [MetricSpec(name="maximum", impl=f"{__name__}:maximum")]


@pytest.fixture(autouse=True)
def _plugin() -> Iterator[None]:
    reset_plugins()
    register_plugin(ScoringPlugin(), "thirdparty")
    yield
    reset_plugins()


def _run(tmp_path: Path, data_dir: Path, metric_list: list[str], **extra: Any) -> Any:
    return run_task(
        {
            "model": "mock_llm",
            "model_args": {"response": "ANSWER: B"},
            "datasets": ["arc"],
            "dataset_args": {"arc": {"subset_list": ["ARC-Easy"], "metric_list": metric_list}},
            "data_dir": str(data_dir),
            "limit": 9,
            "work_dir": str(tmp_path / "out"),
            **extra,
        }
    )["arc"]


def test_a_plugins_scorers_join_the_benchmarks_own(tmp_path: Path, data_dir: Path) -> None:
    report = _run(tmp_path, data_dir, ["acc", "answer_len", "coin"])
    names = [m.name for m in report.metrics]
    assert names == ["mean_acc", "mean_answer_len", "mean_coin"]
    assert report.score("answer_len") == len("ANSWER: B")
    reviews = (next((tmp_path / "out").iterdir()) / "reviews" / "mock_llm" / "arc.jsonl").read_text()
    rows = [json.loads(line) for line in reviews.splitlines()]
    tosses = {r["id"]: _toss(r["id"]) for r in rows}
    edge = {i for i, t in tosses.items() if t == 2}
    assert 0 < len(edge) < 9, tosses  # the fixture exercises both paths
    # undecided samples: excluded from every figure, listed with the reason, counted
    assert report.num_unscored == len(edge) and {u.id for u in report.unscored} == edge
    assert all(m.num == 9 - len(edge) for m in report.metrics)
    heads = [t for t in tosses.values() if t != 2]
    assert report.score("coin") == pytest.approx(sum(heads) / len(heads))
    for r in rows:
        if r["id"] in edge:
            assert r["unscored"] == f"coin {r['id']} landed on its edge"
        else:
            assert r["unscored"] is None and r["explanation"] == f"coin {r['id']}: {tosses[r['id']]}"


def test_every_figure_carries_its_standard_error(tmp_path: Path, data_dir: Path) -> None:
    report = _run(tmp_path, data_dir, ["acc"])
    reviews = next((tmp_path / "out").iterdir()) / "reviews" / "mock_llm" / "arc.jsonl"
    values = [json.loads(line)["scores"]["acc"] for line in reviews.read_text().splitlines()]
    subset = report.metrics[0].categories[0].subsets[0]
    assert subset.score == pytest.approx(statistics.mean(values))
    assert subset.stderr == pytest.approx(statistics.stdev(values) / math.sqrt(len(values)))
    assert report.metrics[0].stderr == subset.stderr and report.metrics[0].aggregation == "mean"


def test_the_aggregating_metric_is_chosen_by_name(tmp_path: Path, data_dir: Path) -> None:
    report = _run(tmp_path / "a", data_dir, ["answer_len"], **{})
    assert report.metrics[0].aggregation == "mean"
    args = {"subset_list": ["ARC-Easy"], "metric_list": ["acc"], "aggregation": "bootstrap"}
    boot = run_task(
        {"model": "mock_llm", "datasets": ["arc"], "dataset_args": {"arc": args}, "data_dir": str(data_dir),
         "limit": 30, "work_dir": str(tmp_path / "b")}
    )["arc"]  # fmt: skip
    figure = boot.metrics[0]
    assert figure.aggregation == "bootstrap" and figure.ci_low is not None and figure.ci_high is not None
    assert figure.ci_low <= figure.score <= figure.ci_high
    args["aggregation"] = "maximum"  # a plugin's metric, by its bare name
    top = run_task(
        {"model": "mock_llm", "model_args": {"response": "ANSWER: B"}, "datasets": ["arc"],
         "dataset_args": {"arc": args}, "data_dir": str(data_dir), "limit": 30, "work_dir": str(tmp_path / "c")}
    )["arc"]  # fmt: skip
    assert top.metrics[0].aggregation == "maximum" and top.score() == 1.0
    args["aggregation"] = "maximun"
    with pytest.raises(Exception, match="maximum"):
        run_task({"model": "mock_llm", "datasets": ["arc"], "dataset_args": {"arc": args},
                  "data_dir": str(data_dir), "limit": 3, "work_dir": str(tmp_path / "d")})  # fmt: skip


def test_the_bootstrap_metric_is_seeded(tmp_path: Path) -> None:
    from evalscope.aggregation import bootstrap

    values = [float(i % 3 == 0) for i in range(200)]
    a, b = bootstrap(values, seed=7), bootstrap(values, seed=7)
    assert a == b and a.ci_low is not None and a.ci_high is not None
    assert a.ci_low < a.score < a.ci_high
    assert bootstrap(values, seed=8) != a


def test_list_metrics_shows_scorers_and_metrics() -> None:
    from evalscope.cli.list_cmd import app
    from typer.testing import CliRunner

    out = CliRunner().invoke(app, ["metrics", "--json"])
    assert out.exit_code == 0, out.output
    names = {row["canonical_name"] for row in json.loads(out.output)}
    assert {"native/acc", "native/math_verify", "native/ifeval", "native/code_execution"} <= names
    assert {"core/mean", "core/bootstrap", "thirdparty/coin", "thirdparty/maximum"} <= names


def test_macro_f1_over_the_label_set(tmp_path: Path, data_dir: Path) -> None:
    """A model that always answers B: accuracy is B's share, macro F1 punishes the ignored letters."""
    args = {"subset_list": ["ARC-Easy"], "aggregation": "macro_f1"}
    report = run_task(
        {"model": "mock_llm", "model_args": {"response": "ANSWER: B"}, "datasets": ["arc"],
         "dataset_args": {"arc": args}, "data_dir": str(data_dir), "limit": 40, "work_dir": str(tmp_path / "o")}
    )["arc"]  # fmt: skip
    rows = [
        json.loads(x) for x in next((tmp_path / "o").glob("*/reviews/*/arc.jsonl")).read_text().splitlines()
    ]
    targets = [r["target"] for r in rows]
    share = targets.count("B") / len(targets)
    labels = set(targets) | {"B"}
    expected = (2 * share / (share + 1)) / len(labels)  # F1 of B; every other label scores 0
    figure = report.metrics[0]
    assert figure.aggregation == "macro_f1" and figure.score == pytest.approx(expected)
    assert figure.ci_low is not None and figure.ci_low <= figure.score <= figure.ci_high


def test_every_builtin_benchmark_scores_through_registered_scorers() -> None:
    """No adapter scores by itself (`Benchmark.score` is gone): each one's values come from scorers
    resolved in the registry, and a judge-only benchmark refuses a rule strategy instead of scoring 0."""
    from evalscope import registry
    from evalscope.benchmark import Benchmark
    from evalscope.errors import ConfigError
    from evalscope_native.engine.plan import build_scorers

    # need run-level input before they can build scorers: a list of models, a mixed file
    needs_input = {"general_arena", "data_collection"}
    rule_scored = []
    for spec in registry.benchmarks().all():
        if not spec.canonical_name.startswith("native/"):
            continue
        cls = registry.load_impl(spec)
        assert issubclass(cls, Benchmark), spec.canonical_name
        overrides = [c.__name__ for c in cls.__mro__ if "score" in vars(c)]
        assert overrides == [], f"{spec.canonical_name} defines score() in {overrides}"
        if spec.name in needs_input:
            continue
        if spec.scoring_policy == "judge_only":
            with pytest.raises(ConfigError, match="no rule-based scoring"):
                build_scorers(cls(spec))
            continue
        bound = build_scorers(cls(spec))
        produced = [n for b in bound for n in b.names]
        assert bound and set(spec.metrics) <= set(produced), (spec.canonical_name, produced)
        rule_scored.append(spec.name)
    assert {"drop", "ifeval", "humaneval", "math_500", "mmlu", "trivia_qa", "gsm8k"} <= set(rule_scored)


def _doc_blocks(marker: str) -> str:
    """The python block of docs/writing-plugins.md whose first line is `marker`."""
    import re

    doc = (Path(__file__).resolve().parents[3] / "docs" / "writing-plugins.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    found = [b for b in blocks if b.startswith(marker)]
    assert len(found) == 1, f"docs/writing-plugins.md should hold one block starting {marker!r}"
    return found[0]


def test_the_documented_two_file_scorer_runs(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scorer of docs/writing-plugins.md, copied verbatim into two files, joins a run by name."""
    import importlib

    package = tmp_path / "src" / "my_scorers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "scoring.py").write_text(_doc_blocks("# my_scorers/scoring.py"))
    (package / "plugin.py").write_text(_doc_blocks("# my_scorers/plugin.py"))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    register_plugin(importlib.import_module("my_scorers.plugin"), "my_scorers")
    report = _run(tmp_path, data_dir, ["acc", "token_f1"])
    assert [m.name for m in report.metrics] == ["mean_acc", "mean_token_f1"]
    # a one-letter answer: token F1 is 1 exactly where the letter is right
    assert report.score("token_f1") == report.score("acc") and report.metrics[1].stderr is not None


def test_the_weighted_mean_and_its_standard_error() -> None:
    """IFEval's instruction level weighs a prompt by its instruction count: the ratio estimator's
    error, which with unit weights is lm-evaluation-harness's stdev / sqrt(n)."""
    from evalscope.aggregation import mean

    weighted = mean([1.0, 0.0, 1.0], [3.0, 1.0, 1.0])
    assert weighted.score == pytest.approx(0.8) and weighted.num == 3
    spread = 9 * 0.2**2 + 1 * 0.8**2 + 1 * 0.2**2
    assert weighted.stderr == pytest.approx(math.sqrt(3 / 2 * spread) / 5)
    values = [1.0, 0.0, 1.0, 1.0, 0.0]
    assert mean(values).stderr == pytest.approx(statistics.stdev(values) / math.sqrt(5))
    assert mean([1.0]).stderr is None and math.isnan(mean([]).score)
