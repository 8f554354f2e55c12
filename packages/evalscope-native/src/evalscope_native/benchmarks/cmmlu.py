"""CMMLU: 67 Chinese knowledge subjects, EvalScope's Chinese chain-of-thought prompt, '答案：X'.

Records are those of the authors' release (`haonan-li/cmmlu`, one config per subject): `Question`,
`A`-`D`, `Answer`. EvalScope 1.14.1 reads a re-packed copy (`evalscope/cmmlu`, one table with
`choices` and a `category` field); the questions, prompt and scoring are the same.
"""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import DEFAULT_CATEGORY
from evalscope.contracts import Sample

from evalscope_native.benchmarks.knowledge_subjects import CMMLU as SUBJECTS
from evalscope_native.benchmarks.multiple_choice import (
    MultipleChoiceBenchmark,
    format_choices,
    parse_single_answer,
)
from evalscope_native.benchmarks.multiple_choice_zh import (
    CHINESE_FEW_SHOT_PREFIX,
    CHINESE_SINGLE_ANSWER_COT,
    asks_for_chinese_answer,
    parse_single_answer_zh,
)


class CMMLU(MultipleChoiceBenchmark):
    prompt_template = CHINESE_SINGLE_ANSWER_COT
    few_shot_prompt_template = CHINESE_FEW_SHOT_PREFIX + CHINESE_SINGLE_ANSWER_COT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=f"{subset}/{index}",
            input=str(record["Question"]),
            # EvalScope's copy strips each option ('(A) text' → 'text'); 367 options here have spaces
            choices=[str(record[key]).strip() for key in "ABCD"],
            target=str(record["Answer"]).strip(),
            subset=subset,
            metadata={"subject": subset},
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        return f"问题：{sample.input}\n选项：\n{format_choices(sample.choices or [])}\n答案：{sample.target}"

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        # A user's English prompt asks for 'ANSWER: X'; read the reply the way the prompt asked.
        if asks_for_chinese_answer(self.prompt_template):
            return parse_single_answer_zh(prediction, len(sample.choices or []))
        return parse_single_answer(prediction, len(sample.choices or []))

    def category_of(self, subset: str) -> str:
        entry = SUBJECTS.get(subset)
        return entry[0] if entry else DEFAULT_CATEGORY
