"""The judges of the built-in judged benchmarks, as EvalScope 1.14.1 asks them.

Each factory is a registered scorer (`native/plugin.py`) that a benchmark names as its
`judge_scorer`; it receives the benchmark and the run's `JudgeContext`.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample
from evalscope_native.judge import prompts
from evalscope_native.judge.scorers import JudgeContext, LabelJudge, PairwiseJudge, question_text

__all__ = ["aime_equivalence", "alpaca_eval_preference", "arena_hard_battle", "chinese_simpleqa_grader",
           "simple_qa_grader"]  # fmt: skip

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
