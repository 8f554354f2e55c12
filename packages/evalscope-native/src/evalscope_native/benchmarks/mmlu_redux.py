"""MMLU-Redux 2.0: 5,700 re-annotated MMLU questions (100 per subject), zero-shot CoT only.

Annotators flagged errors; like EvalScope 1.14.1 we score against the corrected answer:
`no_correct_answer` puts the annotator's answer in place of the listed one, `wrong_groundtruth`
moves the target, `multiple_correct_answers` accepts any of the listed labels. The parsing of the
annotators' free-text `correct_answer` follows EvalScope step by step, quirks included (an answer it
cannot read accepts every label), so scores stay comparable.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.mmlu import CATEGORIES
from evalscope_native.benchmarks.multiple_choice import SINGLE_ANSWER_COT, MultipleChoiceBenchmark


def _multiple_answer_indexes(answer: str, choices: list[str]) -> tuple[list[int], str]:
    """'1, 3' / '0 1 3' / 'A,C' / a choice's text → indexes; returns the normalised answer too."""
    answer = answer.strip("()").replace(" and ", ",").replace(" or ", ",")
    try:
        return [int(part) for part in answer.replace(",", " ").split()], answer
    except ValueError:
        pass
    parts = answer.split(",")
    if all(len(part) == 1 for part in parts):
        return [ord(part) - ord("A") for part in parts], answer
    return [choices.index(part) for part in parts if part in choices], answer


def corrected(record: dict[str, Any]) -> tuple[list[str], list[str], Any]:
    """(choices, target letters, normalised correct_answer) after the annotators' correction."""
    error_type = record["error_type"]
    choices = [str(c) for c in record["choices"]]
    indexes = [int(record["answer"])]
    answer = record["correct_answer"]
    if answer and not isinstance(answer, str):
        answer = str(answer)
    if error_type == "no_correct_answer" and answer:
        choices[indexes[0]] = answer
    elif error_type == "wrong_groundtruth" and answer:
        try:
            indexes = [int(answer)]
        except ValueError:
            indexes = [ord(answer) - ord("A")]
    elif error_type == "multiple_correct_answers" and answer:
        indexes, answer = _multiple_answer_indexes(answer, choices)
    # EvalScope indexes "ABCD" directly: -1 is 'D', 4 is an error (reported with file:line).
    target = ["ABCD"[i] for i in indexes] if indexes else list("ABCD")
    return choices, target, answer


class MMLURedux(MultipleChoiceBenchmark):
    prompt_template = SINGLE_ANSWER_COT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        choices, target, answer = corrected(record)
        return Sample(
            id=f"{subset}/{index}",
            input=str(record["question"]),
            choices=choices,
            target=target,
            subset=subset,
            metadata={
                "error_type": record["error_type"],
                "correct_answer": answer,
                "potential_reason": record.get("potential_reason") or "",
            },
        )

    def category_of(self, subset: str) -> str:
        return CATEGORIES.get(subset, "Other")
