"""C-Eval: 52 Chinese exam subjects; scored on `val` (the public answers), 5-shot from `dev`.

The prompt names the subject in Chinese and shows choices as `A. …`; few-shot examples carry the
dev split's explanation (`解析：`). Both are EvalScope 1.14.1's, as is the '答案：X' parsing.
"""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import DEFAULT_CATEGORY
from evalscope.contracts import Sample

from evalscope_native.benchmarks.knowledge_subjects import CEVAL as SUBJECTS
from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark, letter
from evalscope_native.benchmarks.multiple_choice_zh import parse_single_answer_zh

PROMPT = (
    '以下是中国关于{subject}的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），'
    "其中 [LETTER] 是 A、B、C、D 中的一个。\n\n问题：{question}\n选项：\n{choices}\n"
)
FEW_SHOT_PREFIX = "以下是一些示例问题：\n\n{fewshot}\n\n"


def dotted_choices(choices: list[str]) -> str:
    return "\n".join(f"{letter(i)}. {c}" for i, c in enumerate(choices))


class CEval(MultipleChoiceBenchmark):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PREFIX

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=f"{subset}/{index}",
            input=str(record["question"]),
            choices=[str(record[key]) for key in "ABCD"],
            target=str(record["answer"]).strip(),
            subset=subset,
            metadata={
                "id": record.get("id", ""),
                "explanation": record.get("explanation") or "",
                "subject": subset,
            },
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        return "\n".join(
            [
                f"问题：{sample.input}",
                f"选项：\n{dotted_choices(sample.choices or [])}",
                f"解析：{sample.metadata.get('explanation', '')}",
                f"答案：{sample.target}",
            ]
        )

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        subject = sample.metadata.get("subject", sample.subset)
        prompt = self.prompt_template.format(
            subject=SUBJECTS[subject][0] if subject in SUBJECTS else subject,
            question=sample.input,
            choices=dotted_choices(sample.choices or []),
        )
        if not fewshot:
            return prompt
        # EvalScope joins the examples block and the question with one more line break.
        return (self.few_shot_prompt_template or FEW_SHOT_PREFIX).format(fewshot=fewshot) + "\n" + prompt

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return parse_single_answer_zh(prediction, len(sample.choices or []))

    def category_of(self, subset: str) -> str:
        entry = SUBJECTS.get(subset)
        return entry[1] if entry else DEFAULT_CATEGORY
