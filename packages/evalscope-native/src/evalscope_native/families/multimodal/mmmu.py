"""MMMU: college-level questions on 30 subjects, with up to seven images each (EvalScope 1.14.1, v1.2).

Records keep the hub's fields (`MMMU/MMMU`, one folder per subject, split `validation`): `id`,
`question`, `options` (a Python list literal), `answer`, `question_type` (`multiple-choice` / `open`),
`image_1` … `image_7` (hub dicts with `bytes`, or a path/URL in a local JSONL), `subfield`, `img_type`,
`explanation`, `topic_difficulty`. `<image N>` in the question and options puts image N there.

Multiple choice: EvalScope's chain-of-thought letter prompt, the letter after the last 'ANSWER:'
must equal `answer`. Open: 'ANSWER: …' is asked for; the official MMMU open scoring (`mmmu_open.py`)
matches the stated answers against the gold one(s).
"""

from __future__ import annotations

import ast
from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import (
    SINGLE_ANSWER_COT,
    format_choices,
    letters,
    parse_single_answer,
)
from evalscope_native.benchmarks.trivia_qa import answer_line
from evalscope_native.families.multimodal.media import (
    ImageQuestion,
    data_root,
    record_images,
    text_with_images,
)
from evalscope_native.families.multimodal.subjects import MMMU_SUBJECTS

SUBJECTS = MMMU_SUBJECTS

OPEN_PROMPT = """
Solve the following problem step by step. The last line of your response should be of the form "ANSWER: [ANSWER]" (without quotes) where [ANSWER] is the answer to the problem.

{question}

Remember to put your answer on its own line at the end in the form "ANSWER: [ANSWER]" (without quotes) where [ANSWER] is the answer to the problem, and you do not need to use a \\boxed command.

"""  # noqa: E501

MULTIPLE_CHOICE = "multiple-choice"
OPEN = "open"


class MMMU(ImageQuestion):
    prompt_template = OPEN_PROMPT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        kind = record["question_type"]
        images = record_images(record, data_root(self))
        choices: list[str] | None = None
        if kind == MULTIPLE_CHOICE:
            choices = [str(c) for c in ast.literal_eval(record["options"])]
            text = SINGLE_ANSWER_COT.format(
                question=record["question"], choices=format_choices(choices), letters=letters(len(choices))
            )
        elif kind == OPEN:
            text = self.prompt_template.format(question=record["question"])
        else:
            raise ValueError(f"question_type must be {MULTIPLE_CHOICE!r} or {OPEN!r}, not {kind!r}")
        metadata = {
            "id": record.get("id"),
            "question_type": kind,
            **{k: record.get(k) for k in ("subfield", "explanation", "img_type", "topic_difficulty")},
            "content": text_with_images(text, images),
        }
        return Sample(
            id=str(record.get("id") or f"{subset}/{index}"),
            input=record["question"],
            target=str(record["answer"]),
            choices=choices,
            subset=subset,
            metadata=metadata,
        )

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        if sample.metadata["question_type"] == MULTIPLE_CHOICE:
            return parse_single_answer(prediction, len(sample.choices or []))
        line = answer_line(prediction)
        return line if line is not None else prediction.strip()
