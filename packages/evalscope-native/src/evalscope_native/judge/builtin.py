"""The judges of the built-in judged benchmarks, as EvalScope 1.14.1 asks them.

Each factory is a registered scorer (`native/plugin.py`) that a benchmark names as its
`judge_scorer`; it receives the benchmark and the run's `JudgeContext`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from evalscope.contracts import ChatMessage, Sample
from evalscope.scoring import Score
from evalscope_native.benchmarks.mt_bench import REFERENCE_CATEGORIES
from evalscope_native.judge import prompts
from evalscope_native.judge.contract import Field, OutputContract
from evalscope_native.judge.panel import Attempt
from evalscope_native.judge.scorers import (
    JudgeContext,
    LabelJudge,
    PairwiseJudge,
    PanelScorer,
    question_text,
)

__all__ = ["aime_equivalence", "alpaca_eval_preference", "arena_hard_battle", "chinese_simpleqa_grader",
           "general_arena_battle", "mt_bench_rating", "simple_qa_grader"]  # fmt: skip

_SIMPLE_QA_VALUES = {
    "A": {"is_correct": 1.0, "is_incorrect": 0.0, "is_not_attempted": 0.0},
    "B": {"is_correct": 0.0, "is_incorrect": 1.0, "is_not_attempted": 0.0},
    "C": {"is_correct": 0.0, "is_incorrect": 0.0, "is_not_attempted": 1.0},
}


def _grader_fill(benchmark: Any) -> Any:
    def fill(template: str, sample: Sample, completion: str, extracted: str) -> str:
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        return template.format(
            question=question_text(benchmark, sample), target=target, predicted_answer=extracted
        )

    return fill


def simple_qa_grader(benchmark: Any, judge: JudgeContext) -> LabelJudge:
    """SimpleQA's grader: CORRECT (A), INCORRECT (B) or NOT_ATTEMPTED (C) against the gold target."""
    return LabelJudge(benchmark, judge, template=prompts.SIMPLE_QA_GRADER, mapping=_SIMPLE_QA_VALUES,
                      fill=_grader_fill(benchmark))  # fmt: skip


def chinese_simpleqa_grader(benchmark: Any, judge: JudgeContext) -> LabelJudge:
    return LabelJudge(benchmark, judge, template=prompts.CHINESE_SIMPLE_QA_GRADER, mapping=_SIMPLE_QA_VALUES,
                      fill=_grader_fill(benchmark), system=prompts.CHINESE_SIMPLE_QA_SYSTEM)  # fmt: skip


def aime_equivalence(benchmark: Any, judge: JudgeContext) -> LabelJudge:
    """AIME's own judge (for llm_recall): is the model's whole reply equivalent to the answer?"""

    def fill(template: str, sample: Sample, completion: str, extracted: str) -> str:
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        return template.format(expression1=completion, expression2=target)

    return LabelJudge(benchmark, judge, template=prompts.AIME_EQUIVALENCE,
                      mapping={"Yes": {"acc": 1.0}, "No": {"acc": 0.0}}, fill=fill, reasoning=False)  # fmt: skip


def _arena_outcome(label: str, candidate_first: bool) -> tuple[str, str]:
    strength = "strong" if label in ("A>>B", "B>>A") else "weak"
    if label == "A=B":
        return "tie", "weak"
    return ("win" if label.startswith("A") == candidate_first else "loss"), strength


def arena_hard_battle(benchmark: Any, judge: JudgeContext) -> PairwiseJudge:
    """Arena-Hard: five verdicts, the baseline (gpt-4-0314) first; both orders by default."""
    return PairwiseJudge(
        benchmark, judge, template=prompts.ARENA_HARD_GRADER, system=prompts.ARENA_HARD_SYSTEM,
        labels=("A>>B", "A>B", "A=B", "B>A", "B>>A"), outcome=_arena_outcome,
        slots=("question", "answer_1", "answer_2"), name="win_rate", official_swap=True,
        candidate_first_originally=False,
    )  # fmt: skip


def _alpaca_outcome(label: str, candidate_first: bool) -> tuple[str, str]:
    first_wins = label == "m"
    return ("win" if first_wins == candidate_first else "loss"), "strong"


def alpaca_eval_preference(benchmark: Any, judge: JudgeContext) -> PairwiseJudge:
    """AlpacaEval 2.0: which output (m: first, M: second) is best; the reference first, one order."""
    return PairwiseJudge(
        benchmark, judge, template=prompts.ALPACA_EVAL_GRADER, system=prompts.ALPACA_EVAL_SYSTEM,
        labels=("m", "M"), outcome=_alpaca_outcome, slots=("instruction", "output_1", "output_2"),
        name="win_rate", official_swap=False, candidate_first_originally=False, reasoning=False,
        aliases=("lc_win_rate",),
    )  # fmt: skip


class MTBenchJudge(PanelScorer):
    """MT-Bench: each turn rated 1-10 (a reference shown for reasoning, math, coding); both needed.

    The prompts are EvalScope 1.14.1's (adapted from FastChat's single-answer grading), built from
    the two turns and the model's two answers (`sample.metadata["answers"]`, set by the engine).
    """

    values = ("judge_score", "first_turn_judge_score", "second_turn_judge_score")

    def __init__(self, benchmark: Any, judge: JudgeContext) -> None:
        super().__init__(benchmark, judge)
        self.contract = OutputContract(
            (Field("explanation"), Field("score", "int", ge=1, le=10)), verdict="score"
        )

    async def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        answers = list(sample.metadata.get("answers") or [])
        if len(answers) != 2:
            return Score(answer=extracted, unscored=f"MT-Bench needs two answers, got {len(answers)}")
        first, second = await asyncio.gather(
            self.judge.panel.ask(lambda _: _first_turn(sample, answers), self.contract, ("turn1",)),
            self.judge.panel.ask(lambda _: _second_turn(sample, answers), self.contract, ("turn2",)),
        )
        attempts = [*first, *second]
        for a in attempts:
            if a.answer.parsed is not None:
                a.values = {a.placement: float(a.answer.parsed["score"])}
        return self.conclude(sample, completion, extracted, attempts)

    def observations(
        self, attempts: list[Attempt]
    ) -> tuple[dict[str, list[dict[str, float]]], dict[str, Any]]:
        per_judge: dict[str, list[dict[str, float]]] = {}
        by: dict[tuple[str, int], dict[str, float]] = {}
        for a in attempts:
            per_judge.setdefault(a.judge, [])
            if a.values is not None:
                by.setdefault((a.judge, a.repeat), {}).update(a.values)
        for (judge, _), turns in by.items():
            if "turn1" in turns and "turn2" in turns:  # one failed turn voids the observation
                s1, s2 = turns["turn1"], turns["turn2"]
                per_judge[judge].append(
                    {
                        "judge_score": (s1 + s2) / 2,
                        "first_turn_judge_score": s1,
                        "second_turn_judge_score": s2,
                    }
                )
        return per_judge, {}


def _reference(sample: Sample, turn: int) -> str:
    meta = sample.metadata
    return meta["references"][turn] if meta["category"] in REFERENCE_CATEGORIES else ""


def _first_turn(sample: Sample, answers: list[str]) -> list[ChatMessage]:
    question, reference = sample.metadata["turns"][0], _reference(sample, 0)
    if reference:
        instruction = prompts.MT_BENCH_FIRST_REFERENCE
        section = f"\n\n[The Start of Reference Answer]\n{reference}\n[The End of Reference Answer]"
    else:
        instruction, section = prompts.MT_BENCH_FIRST, ""
    prompt = (
        f"[Instruction]\n{instruction}\n\n[Question]\n{question}{section}\n\n"
        f"[The Start of Assistant's Answer]\n{answers[0]}\n[The End of Assistant's Answer]"
    )
    return _rating_messages(prompts.MT_BENCH_SYSTEM, prompt)


def _second_turn(sample: Sample, answers: list[str]) -> list[ChatMessage]:
    turns, meta = sample.metadata["turns"], sample.metadata
    section, system = "", prompts.MT_BENCH_SECOND
    if meta["category"] in REFERENCE_CATEGORIES:
        refs = meta["references"]
        system = prompts.MT_BENCH_SECOND_REFERENCE
        section = (
            "<|The Start of Reference Answer|>\n\n"
            f"### User:\n{turns[0]}\n\n### Reference answer:\n{refs[0]}\n\n"
            f"### User:\n{turns[1]}\n\n### Reference answer:\n{refs[1]}\n\n"
            "<|The End of Reference Answer|>\n\n\n"
        )
    prompt = (
        f"{section}<|The Start of Assistant's Conversation with User|>\n\n"
        f"### User:\n{turns[0]}\n\n### Assistant:\n{answers[0]}\n\n"
        f"### User:\n{turns[1]}\n\n### Assistant:\n{answers[1]}\n\n"
        "<|The End of Assistant's Conversation with User|>"
    )
    return _rating_messages(system, prompt)


def _rating_messages(system: str, prompt: str) -> list[ChatMessage]:
    contract = OutputContract((Field("explanation"), Field("score", "int", ge=1, le=10)), verdict="score")
    return [
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=prompt + contract.instruction()),
    ]


def mt_bench_rating(benchmark: Any, judge: JudgeContext) -> MTBenchJudge:
    return MTBenchJudge(benchmark, judge)


def general_arena_battle(benchmark: Any, judge: JudgeContext) -> PairwiseJudge:
    """general_arena: Arena-Hard's verdicts, the candidate first then swapped (EvalScope's order);
    the benchmark's `system_prompt` / `prompt_template` replace the judge's when given."""
    return PairwiseJudge(
        benchmark, judge, template=getattr(benchmark, "judge_template", None) or prompts.ARENA_HARD_GRADER,
        system=getattr(benchmark, "judge_system_prompt", None) or prompts.ARENA_HARD_SYSTEM,
        labels=("A>>B", "A>B", "A=B", "B>A", "B>>A"), outcome=_arena_outcome,
        slots=("question", "answer_1", "answer_2"), name="winrate", official_swap=True,
        candidate_first_originally=True, aliases=("winrate_lower", "winrate_upper"),
    )  # fmt: skip
