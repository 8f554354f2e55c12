"""Which scorers judge a benchmark in this run: its rule, a judge, or both (`judge.strategy`).

Each benchmark spec declares a `scoring_policy` (EvalScope 1.14.1's): `rule_default` (a rule
scores it; a judge only when asked), `judge_default` (a rule exists, the judge is the default) or
`judge_only` (no rule can score it: SimpleQA, Arena-Hard, ...). The strategy then decides:

| strategy | rule_default | judge_default | judge_only |
|---|---|---|---|
| auto | rule | judge | judge |
| rule | rule | rule | error |
| llm | judge | judge | judge |
| llm_recall | rule, judge where the rule said wrong (the better stands) | same | error |

Everything is decided here, before any request: a judged benchmark without a judge model, or a
strategy the benchmark cannot honour, fails with the fix.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from evalscope import registry
from evalscope.benchmark import Benchmark
from evalscope.config import TaskConfig
from evalscope.errors import ConfigError
from evalscope.scoring import Scorer

__all__ = ["BoundScorer", "Judging", "build_scorers"]


@dataclass
class BoundScorer:
    """A scorer built for one benchmark, and the reported values it is responsible for."""

    scorer: Scorer
    names: list[str]
    is_async: bool


class Judging:
    """The run's judge settings, and its panel once a benchmark needs one (built once, lazily)."""

    def __init__(self, config: TaskConfig) -> None:
        self.config = config
        self.panel: Any = None

    @property
    def strategy(self) -> str:
        return self.config.judge.strategy

    def context(self) -> Any:
        from evalscope_native.judge.panel import JudgePanel
        from evalscope_native.judge.scorers import JudgeContext

        if self.panel is None:
            self.panel = JudgePanel(self.config)
        return JudgeContext(self.panel, self.strategy, self.config.judge.position_swap)


def build_scorers(adapter: Benchmark, judging: Judging | None = None) -> list[BoundScorer]:
    """The scorers that produce the benchmark's reported values, after the judge strategy."""
    strategy = judging.strategy if judging is not None else "rule"
    policy = adapter.spec.scoring_policy
    if policy == "judge_only" and strategy in ("rule", "llm_recall"):
        raise ConfigError(
            f"{adapter.name} has no rule-based scoring, so judge strategy {strategy!r} cannot score it.",
            hint="use --judge-strategy auto (or llm) with a judge model (--judge-model-args)",
        )
    judged = strategy in ("llm", "llm_recall") or (strategy == "auto" and policy != "rule_default")
    if not judged or judging is None:
        return _rule_scorers(adapter)
    judge = _build(adapter.spec.judge_scorer or "llm_judge", adapter, judge=judging.context())
    if strategy == "llm_recall":
        from evalscope_native.judge.scorers import RecallScorer

        rules = _rule_scorers(adapter)
        if len(rules) != 1 or rules[0].is_async:
            raise ConfigError(f"{adapter.name}: llm_recall needs one rule scorer to recall from.")
        recall = RecallScorer(rules[0].scorer, judge)
        return [BoundScorer(recall, list(rules[0].names), True)]
    return [BoundScorer(judge, list(judge.values), _is_async(judge))]


def _rule_scorers(adapter: Benchmark) -> list[BoundScorer]:
    """The benchmark's own scorer produces the values it declares; a one-value scorer also answers
    to a renamed value. A reported name it does not produce but that names a registered scorer
    (`metric_list: ["acc", "math_verify"]`) brings that scorer in; anything else fails here."""
    scorers = registry.scorers()
    own = scorers.resolve(adapter.scorer)
    groups: dict[str, list[str]] = {own.canonical_name: []}
    specs = {own.canonical_name: own}
    for name in adapter.metrics:
        if name in own.values or (len(own.values) <= 1 and name not in scorers):
            groups[own.canonical_name].append(name)
            continue
        if name not in scorers:
            raise ConfigError(
                f"{adapter.name}: no scorer produces the value {name!r}; its scorer {own.name!r} gives "
                f"{', '.join(own.values)}.",
                hint="name one of those in metric_list, or a scorer from `evalscope list scorers`",
            )
        other = scorers.resolve(name)
        specs[other.canonical_name] = other
        groups.setdefault(other.canonical_name, []).append(name)
    bound = []
    for canonical, names in groups.items():
        if not names:
            continue
        kwargs = adapter.scorer_kwargs if canonical == own.canonical_name else {}
        scorer = registry.load_impl(specs[canonical])(adapter, **kwargs)
        if list(scorer.values) != names:
            scorer.values = names
        bound.append(BoundScorer(scorer, names, _is_async(scorer)))
    return bound


def _build(name: str, adapter: Benchmark, **kwargs: Any) -> Any:
    return registry.load_impl(registry.scorers().resolve(name))(adapter, **kwargs)


def _is_async(scorer: Any) -> bool:
    return inspect.iscoroutinefunction(type(scorer).__call__)
