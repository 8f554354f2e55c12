"""Judge scorers: async scorers on the scoring seam whose verdicts come from the judge panel.

Three modes, the prompts of EvalScope 1.14.1 (`judge/prompts.py`):

* **graded against a reference** (`LabelJudge`): the judge picks a label (SimpleQA's A/B/C, the
  generic A=correct / B=incorrect, AIME's Yes/No equivalence) and the label maps to values;
* **rated without a reference** (`RatingJudge`): a number (the generic 0-1 rating; MT-Bench's 1-10);
* **pairwise** (`PairwiseJudge`): the answer against a baseline (Arena-Hard's five verdicts,
  AlpacaEval's m/M), asked in both orders when `position_swap` says so. A swapped pair is one
  observation: both orders must be read, and orders that disagree make a tie (the pair "flips").

The answer under review cannot steer its verdict: it sits inside the prompt's answer slot, and the
verdict is read from the judge's reply only (`judge/contract.py`), never from the answer. Every
attempt — judge, repeat, placement, raw replies, what was read, why not — goes into the record's
`metadata["judge"]`; a sample no judge could decide is `unscored` with the reply quoted, left out of
the figures and counted in the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalscope.contracts import ChatMessage, Sample
from evalscope.scoring import Score
from evalscope_native.judge import prompts
from evalscope_native.judge.contract import Field, OutputContract
from evalscope_native.judge.panel import Attempt, JudgePanel, combine

__all__ = [
    "JudgeContext",
    "LabelJudge",
    "PairwiseJudge",
    "PanelScorer",
    "RatingJudge",
    "RecallScorer",
    "generic_judge",
    "pretty_messages",
]


@dataclass
class JudgeContext:
    """What a judge scorer's factory receives from the engine: the run's panel and settings."""

    panel: JudgePanel
    strategy: str
    position_swap: str


def pretty_messages(messages: Sequence[ChatMessage]) -> str:
    """EvalScope's `messages_pretty_str`: how a judge sees the question (`**User**: ...`)."""
    return "\n\n".join(f"**{m.role.capitalize()}**: {m.content}" for m in messages)


def question_text(benchmark: Any, sample: Sample) -> str:
    """The rendered prompt the model was given (zero-shot), as the judge sees it."""
    return pretty_messages(benchmark.build_messages(sample, []))


def _reference(sample: Sample) -> str:
    return sample.target if isinstance(sample.target, str) else (sample.target[0] if sample.target else "")


class PanelScorer:
    """Shared by the judge modes: ask the panel, map verdicts to values, combine, explain."""

    values: Sequence[str]
    contract: OutputContract
    placements: Sequence[str] = ("original",)

    def __init__(self, benchmark: Any, judge: JudgeContext) -> None:
        self.benchmark = benchmark
        self.judge = judge

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        raise NotImplementedError

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        raise NotImplementedError

    async def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        attempts = await self.judge.panel.ask(
            lambda placement: self.messages(sample, completion, extracted, placement),
            self.contract,
            self.placements,
        )
        for a in attempts:
            if a.answer.parsed is not None:
                a.values = self.meaning(a.answer.parsed, a.placement, sample)
        return self.conclude(sample, completion, extracted, attempts)

    def observations(
        self, attempts: list[Attempt]
    ) -> tuple[dict[str, list[dict[str, float]]], dict[str, Any]]:
        """Per judge, the values of each valid observation (here: each valid attempt)."""
        per_judge: dict[str, list[dict[str, float]]] = {}
        for a in attempts:
            per_judge.setdefault(a.judge, [])
            if a.values is not None:
                per_judge[a.judge].append(a.values)
        return per_judge, {}

    def conclude(self, sample: Sample, completion: str, extracted: str, attempts: list[Attempt]) -> Score:
        cfg = self.judge.panel.config
        per_judge, extra = self.observations(attempts)
        values, notes = combine(per_judge, cfg.aggregation, cfg.min_valid_judges)
        failures = [a for a in attempts if a.answer.parsed is None]
        meta = {
            "judge": {
                "attempts": [a.record() for a in attempts],
                "failures": {reason: sum(1 for a in failures if a.answer.reason == reason)
                             for reason in sorted({a.answer.reason or "unknown" for a in failures})},
                **notes,
                **extra,
            }
        }  # fmt: skip
        reasoning = next(
            (str(a.answer.parsed.get("reasoning") or a.answer.parsed.get("explanation") or "")
             for a in attempts if a.answer.parsed),
            "",
        )  # fmt: skip
        if values is None:
            reasons = "; ".join(f"{a.judge}: {a.answer.error}" for a in failures) or "no usable verdict"
            return Score(answer=extracted, unscored=f"judge failure: {reasons}", metadata=meta)
        return Score(
            values={k: values[k] for k in self.values if k in values},
            answer=extracted,
            explanation=reasoning or None,
            metadata=meta,
        )


class LabelJudge(PanelScorer):
    """A label verdict mapped to values (`mapping[label]`), optionally with a system prompt."""

    def __init__(
        self,
        benchmark: Any,
        judge: JudgeContext,
        *,
        template: str,
        mapping: dict[str, dict[str, float]],
        fill: Any,
        system: str | None = None,
        reasoning: bool = True,
    ) -> None:
        super().__init__(benchmark, judge)
        self.template, self.mapping, self.fill, self.system = template, mapping, fill, system
        labels = tuple(mapping)
        fields = (Field("reasoning"),) if reasoning else ()
        self.contract = OutputContract((*fields, Field("verdict", "label", labels)))
        self.values = list(dict.fromkeys(k for v in mapping.values() for k in v))

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        prompt = self.fill(self.template, sample, completion, extracted) + self.contract.instruction()
        head = [ChatMessage(role="system", content=self.system)] if self.system else []
        return [*head, ChatMessage(role="user", content=prompt)]

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        return dict(self.mapping[parsed["verdict"]])


class RatingJudge(PanelScorer):
    """A numeric rating within [low, high] reported as `name` (the generic 0-1 judge)."""

    def __init__(
        self,
        benchmark: Any,
        judge: JudgeContext,
        *,
        template: str,
        fill: Any,
        name: str,
        low: float,
        high: float,
        system: str | None = None,
    ) -> None:
        super().__init__(benchmark, judge)
        self.template, self.fill, self.system, self.name = template, fill, system, name
        self.contract = OutputContract(
            (Field("reasoning"), Field("score", "float", ge=low, le=high)), verdict="score"
        )
        self.values = [name]

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        prompt = self.fill(self.template, sample, completion, extracted) + self.contract.instruction()
        head = [ChatMessage(role="system", content=self.system)] if self.system else []
        return [*head, ChatMessage(role="user", content=prompt)]

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        return {self.name: float(parsed["score"])}


#: a candidate's result and strength per placement → its score (EvalScope's PairwiseOutcome.score)
_OUTCOME_SCORE = {("win", "strong"): 1.0, ("win", "weak"): 0.75, ("tie", "weak"): 0.5, ("tie", "strong"): 0.5,
                  ("loss", "weak"): 0.25, ("loss", "strong"): 0.0}  # fmt: skip


class PairwiseJudge(PanelScorer):
    """The answer against a baseline answer (the sample's target), in one or both orders.

    `outcome(label, candidate_first)` says what a verdict means for the candidate: (result, strength)
    with result win / loss / tie. `order` is the benchmark's official rule for `position_swap: auto`.
    """

    def __init__(
        self,
        benchmark: Any,
        judge: JudgeContext,
        *,
        template: str,
        system: str,
        labels: tuple[str, ...],
        outcome: Any,
        slots: tuple[str, str, str],
        name: str,
        official_swap: bool,
        candidate_first_originally: bool,
        reasoning: bool = True,
        aliases: tuple[str, ...] = (),
    ) -> None:
        super().__init__(benchmark, judge)
        self.template, self.system, self.outcome, self.slots, self.name = (
            template,
            system,
            outcome,
            slots,
            name,
        )
        self.candidate_first_originally = candidate_first_originally
        fields = (Field("reasoning"),) if reasoning else ()
        self.contract = OutputContract((*fields, Field("verdict", "label", labels)))
        swap = {"on": True, "off": False}.get(judge.position_swap, official_swap)
        self.placements = ("original", "swapped") if swap else ("original",)
        self.aliases = aliases
        self.values = [name, *aliases]

    def candidate_first(self, placement: str) -> bool:
        return self.candidate_first_originally != (placement == "swapped")

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        baseline = _reference(sample)
        first, second = (extracted, baseline) if self.candidate_first(placement) else (baseline, extracted)
        q, a1, a2 = self.slots
        prompt = self.template.format(**{q: question_text(self.benchmark, sample), a1: first, a2: second})
        return [
            ChatMessage(role="system", content=self.system),
            ChatMessage(role="user", content=prompt + self.contract.instruction()),
        ]

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        result, strength = self.outcome(parsed["verdict"], self.candidate_first(placement))
        return {
            "result": {"win": 1.0, "tie": 0.5, "loss": 0.0}[result],
            "strong": float(strength == "strong"),
        }

    def observations(
        self, attempts: list[Attempt]
    ) -> tuple[dict[str, list[dict[str, float]]], dict[str, Any]]:
        """One observation per judge and repeat: its placements together (a swapped pair is atomic)."""
        per_judge: dict[str, list[dict[str, float]]] = {}
        flips = pairs = 0
        games: list[dict[str, Any]] = []
        groups: dict[tuple[str, int], list[Attempt]] = {}
        for a in attempts:
            groups.setdefault((a.judge, a.repeat), []).append(a)
            per_judge.setdefault(a.judge, [])
        for (judge, _), group in groups.items():
            if any(a.values is None for a in group):
                continue
            results = [("win", "tie", "loss")[2 - int(a.values["result"] * 2)] for a in group if a.values]
            result = results[0] if len(set(results)) == 1 else "tie"
            if len(group) > 1:
                pairs += 1
                flips += len(set(results)) > 1
            strong = result != "tie" and any(
                a.values
                and a.values["strong"]
                and ("win", "tie", "loss")[2 - int(a.values["result"] * 2)] == result
                for a in group
            )
            score = _OUTCOME_SCORE[(result, "strong" if strong else "weak")]
            per_judge[judge].append({name: score for name in self.values})
            for a in group:
                if a.values is not None:
                    games.append(
                        {
                            "judge": judge,
                            "placement": a.placement,
                            "candidate_first": self.candidate_first(a.placement),
                            "result": ("win", "tie", "loss")[2 - int(a.values["result"] * 2)],
                            "strong": bool(a.values["strong"]),
                        }  # fmt: skip
                    )
        extra: dict[str, Any] = {"games": games}
        if pairs:
            extra["position_flip"] = flips / pairs
        return per_judge, extra


class RecallScorer:
    """`llm_recall`: the rule decides first; the judge looks only at what the rule marked wrong.

    The better of the two stands for the rule's headline value (EvalScope 1.14.1: max of rule and
    judge, judge called when the rule's score is at most 0.99). A judge that cannot decide leaves the
    rule's verdict in place (noted in the record), so a sample is never excluded for that.
    """

    def __init__(self, rule: Any, judge: PanelScorer, judge_value: str = "acc") -> None:
        self.rule, self.judge, self.judge_value = rule, judge, judge_value
        self.values: Sequence[str] = list(rule.values)

    async def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        ruled: Score = self.rule(sample, completion, extracted)
        main = self.values[0]
        if ruled.values.get(main, 0.0) > 0.99:
            return ruled
        judged: Score = await self.judge(sample, completion, extracted)
        meta = {**ruled.metadata, **judged.metadata}
        if judged.unscored is not None:
            meta["judge_unavailable"] = judged.unscored
            return ruled.model_copy(update={"metadata": meta})
        values = dict(ruled.values)
        values[main] = max(values.get(main, 0.0), judged.values.get(self.judge_value, 0.0))
        return ruled.model_copy(
            update={"values": values, "metadata": meta, "explanation": judged.explanation}
        )


def _generic_fill(template: str, benchmark: Any) -> Any:
    """EvalScope's `LLMJudge.build_prompt`: {question}, {gold}, {pred} substituted once, by regex."""

    def fill(_: str, sample: Sample, completion: str, extracted: str) -> str:
        values = {
            "question": question_text(benchmark, sample),
            "gold": _reference(sample),
            "pred": completion,
        }
        return re.sub(r"\{(question|pred|gold)\}", lambda m: values[m.group(1)], template)

    return fill


def generic_judge(benchmark: Any, judge: JudgeContext) -> PanelScorer:
    """The judge of benchmarks without their own: EvalScope's default grading or rating contract."""
    contract = judge.panel.config.contract
    if contract.score_type == "numeric":
        template = contract.prompt_template or prompts.GENERIC_RATING
        return RatingJudge(
            benchmark, judge, template=template, fill=_generic_fill(template, benchmark), name="acc",
            low=0.0, high=1.0, system=contract.system_prompt,
        )  # fmt: skip
    template = contract.prompt_template or prompts.GENERIC_GRADING
    mapping = contract.score_mapping or {"A": 1.0, "B": 0.0}
    return LabelJudge(
        benchmark, judge, template=template, fill=_generic_fill(template, benchmark),
        mapping={label: {"acc": float(v)} for label, v in sorted(mapping.items())}, system=contract.system_prompt,
    )  # fmt: skip
