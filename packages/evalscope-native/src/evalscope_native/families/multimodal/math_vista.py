"""MathVista (testmini): mathematical reasoning over figures, charts and plots (EvalScope 1.14.1).

Records keep the hub's fields (`AI4Math/MathVista`, split `testmini`): `pid`, `question`,
`question_type` (`multi_choice` / `free_form`), `choices`, `answer`, `answer_type`, `precision`,
`metadata`, and the image in `decoded_image` (a hub dict with `bytes`, or a path/URL in a local JSONL).

Multiple choice: EvalScope's chain-of-thought letter prompt, the image after the text; the target is
the letter of `answer` among `choices`, scored by exact letter match. Free form: "Please reason step
by step, and put your final answer within \\boxed{} without units."; scored by Math-Verify.
"""

from __future__ import annotations

import logging
from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_equivalence import extract, scoring_processes, warm_up
from evalscope_native.benchmarks.multiple_choice import (
    SINGLE_ANSWER_COT,
    format_choices,
    letter,
    letters,
    parse_single_answer,
)
from evalscope_native.families.multimodal.media import ImageQuestion, bytes_data_url, data_root, image_ref

log = logging.getLogger("evalscope.native")

OPEN_PROMPT = (
    "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}} without units."
)
MULTI_CHOICE = "multi_choice"
FREE_FORM = "free_form"


class MathVista(ImageQuestion):
    prompt_template = OPEN_PROMPT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scoring_workers = scoring_processes()  # free-form answers are compared by Math-Verify
        warm_up()

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        kind = record["question_type"]
        metadata: dict[str, Any] = {"question_type": kind, "answer_type": record.get("answer_type")}
        answer = str(record["answer"])
        choices: list[str] | None = None
        if kind == MULTI_CHOICE:
            choices = [str(c) for c in record["choices"]]
            text = SINGLE_ANSWER_COT.format(
                question=record["question"], choices=format_choices(choices), letters=letters(len(choices))
            )
            if answer in choices:
                target = letter(choices.index(answer))
            else:
                log.warning(
                    "math_vista %s: answer %r is not among its choices %s", record.get("pid"), answer, choices
                )
                target = answer
        elif kind == FREE_FORM:
            text = self.prompt_template.format(question=record["question"])
            target = answer
            metadata["precision"] = record.get("precision")
        else:
            raise ValueError(f"question_type must be {MULTI_CHOICE!r} or {FREE_FORM!r}, not {kind!r}")
        metadata |= record.get("metadata") or {}
        content: list[dict[str, str]] = [{"type": "text", "text": text}]
        image = record.get("decoded_image")
        if image:
            if isinstance(image, dict) and isinstance(image.get("bytes"), (bytes, bytearray)):
                url = bytes_data_url(bytes(image["bytes"]), default_mime="image/jpeg")
            else:
                url = image_ref(image, data_root(self))
            content.append({"type": "image", "image": url})
        metadata["content"] = content
        return Sample(
            id=str(record.get("pid") or f"{subset}/{index}"),
            input=record["question"],
            target=target,
            choices=choices,
            subset=subset,
            metadata=metadata,
        )

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        if sample.metadata["question_type"] == MULTI_CHOICE:
            return parse_single_answer(prediction, len(sample.choices or []))
        return extract(prediction)
