"""GPQA-Diamond: 198 expert-written science questions, zero-shot CoT, options in a fixed shuffled order.

The correct answer is listed last in the data, so the options are shuffled; like EvalScope 1.14.1
the shuffle is seeded by the question text (first 8 bytes of its SHA-256, big-endian, into
`random.Random`), which gives every sample the same letter order in every run and in EvalScope.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.multiple_choice import SINGLE_ANSWER_COT, MultipleChoiceBenchmark, letter


def _clean(text: Any) -> str:
    return " " if text is None else str(text).strip()


def shuffled_options(record: dict[str, Any]) -> tuple[list[str], str]:
    """The four options in the question's fixed order, and the letter of the correct one."""
    correct = _clean(record["Correct Answer"])
    options = [_clean(record[f"Incorrect Answer {k}"]) for k in (1, 2, 3)] + [correct]
    digest = hashlib.sha256(_clean(record["Question"]).encode("utf-8")).digest()
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(options)
    return options, letter(options.index(correct))


class GPQADiamond(MultipleChoiceBenchmark):
    prompt_template = SINGLE_ANSWER_COT

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None) -> None:
        super().__init__(spec, args)
        if self.few_shot_num:
            raise ConfigError(
                "gpqa_diamond is evaluated zero-shot here; EvalScope's fixed 5-shot examples are not shipped.",
                hint='--dataset-args \'{"gpqa_diamond": {"few_shot_num": 0}}\'',
            )

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        options, target = shuffled_options(record)
        return Sample(
            id=str(record.get("Record ID") or f"{subset}/{index}"),
            input=str(record["Question"]),
            choices=options,
            target=target,
            subset=subset,
            metadata={
                "correct_answer": record["Correct Answer"],
                "incorrect_answers": [record[f"Incorrect Answer {k}"] for k in (1, 2, 3)],
            },
        )
