"""The long-context family's scorers: needle_haystack's rule (normalised exact match) and its judge.

Registered by the native plugin's `evalscope_register_scorers` (`catalog.scorer_specs`).
"""

from __future__ import annotations

import re
import string
from typing import Any

from evalscope.contracts import ChatMessage, Sample

from evalscope_native.judge.contract import Field, OutputContract
from evalscope_native.judge.scorers import JudgeContext, PanelScorer
from evalscope_native.scorers import RuleScorer

__all__ = [
    "longbench_write_length",
    "longbench_write_quality",
    "needle_exact_match",
    "needle_judge",
    "normalize_answer",
]

#: EvalScope 1.14.1's `GENERAL_ORM_PROMPT` and `ORM_USER_TEMPLATE` (benchmarks/needle_haystack/utils.py)
ORM_SYSTEM = """You are an expert in verifying if the model answer is correct based on the reference answer.
Your input is a question, a reference answer, and a model answer. You need to check if the model answer is correct based on the reference answer.
You should focus on the correctness of the model answer compared to the reference answer, without attempting to solve the original question.
You must provide your final score in the form of a number from 1 to 10, where:

Score 1: The answer is completely unrelated to the reference.
Score 3: The answer has minor relevance but does not align with the reference.
Score 5: The answer has moderate relevance but contains inaccuracies.
Score 7: The answer aligns with the reference but has minor omissions.
Score 10: The answer is completely accurate and aligns perfectly with the reference.
"""  # noqa: E501

ORM_USER = """
Question: {question}

Reference Answer: {gold}

Model Answer: {pred}
"""

_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normal form: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def needle_exact_match(benchmark: Any) -> RuleScorer:
    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        return {"acc": float(normalize_answer(extracted) == normalize_answer(target))}

    return RuleScorer(["acc"], compute)


class NeedleJudge(PanelScorer):
    """EvalScope's needle judge: a 0-10 `verdict` with `reasoning`, reported as verdict / 10."""

    def __init__(self, benchmark: Any, judge: JudgeContext) -> None:
        super().__init__(benchmark, judge)
        self.contract = OutputContract((Field("reasoning"), Field("verdict", "float", ge=0.0, le=10.0)))
        self.values = ["acc"]

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        # EvalScope fills {question} with the sample's input text: the retrieval question alone
        prompt = (
            ORM_USER.format(question=sample.input, gold=target, pred=extracted) + self.contract.instruction()
        )
        return [ChatMessage(role="system", content=ORM_SYSTEM), ChatMessage(role="user", content=prompt)]

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        return {"acc": float(parsed["verdict"]) / 10.0}


def needle_judge(benchmark: Any, judge: JudgeContext) -> NeedleJudge:
    return NeedleJudge(benchmark, judge)


# --- longbench_write ----------------------------------------------------------------------------

#: EvalScope 1.14.1's `third_party/longbench_write/resources/judge.txt` ($INST$ and $RESPONSE$ filled)
QUALITY_DIMENSIONS = (
    "Relevance",
    "Accuracy",
    "Coherence",
    "Clarity",
    "Breadth and Depth",
    "Reading Experience",
)


def _quality_prompt() -> str:
    from importlib.resources import files

    return (
        files("evalscope_native.families.long_context")
        .joinpath("longbench_write_judge.txt")
        .read_text("utf-8")
    )


def longbench_write_length(benchmark: Any) -> RuleScorer:
    """`score_l`: how close the reply's length in words is to the length asked for (0-100)."""
    from evalscope_native.families.long_context.longbench_write import count_words, length_score

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        return {"score_l": length_score(int(sample.metadata["length"]), count_words(extracted))}

    return RuleScorer(["score_l"], compute)


class WritingQualityJudge(PanelScorer):
    """`score_q` from the judge's six 1-5 ratings, and `score_l` (the length rule) beside it."""

    def __init__(self, benchmark: Any, judge: JudgeContext) -> None:
        super().__init__(benchmark, judge)
        self.template = _quality_prompt()
        fields = (Field("Analysis"), *(Field(d, "float") for d in QUALITY_DIMENSIONS))
        self.contract = OutputContract(fields, verdict="Relevance")
        self.values = ["score_q", "score_l"]
        self.length = longbench_write_length(benchmark)

    def messages(self, sample: Sample, completion: str, extracted: str, placement: str) -> list[ChatMessage]:
        # EvalScope sends judge.txt alone: its own JSON instruction, no appended contract text
        prompt = self.template.replace("$INST$", sample.input).replace("$RESPONSE$", extracted)
        return [ChatMessage(role="user", content=prompt)]

    def meaning(self, parsed: dict[str, Any], placement: str, sample: Sample) -> dict[str, float]:
        dims = [(float(parsed[d]) - 1) * 25 for d in QUALITY_DIMENSIONS]
        return {"score_q": sum(dims) / len(dims)}

    async def __call__(self, sample: Sample, completion: str, extracted: str) -> Any:
        score = await super().__call__(sample, completion, extracted)
        if score.unscored is None:
            score.values["score_l"] = self.length(sample, completion, extracted).values["score_l"]
        return score


def longbench_write_quality(benchmark: Any, judge: JudgeContext) -> WritingQualityJudge:
    return WritingQualityJudge(benchmark, judge)
