"""MMLU-Pro: 14 categories, up to 10 options, 5-shot chain-of-thought examples per category.

The hub dataset (`TIGER-Lab/MMLU-Pro`) is one table; each row's `category` is its subset, as in
EvalScope 1.14.1, and the few-shot examples are the first rows of the same category in
`validation`, their `cot_content` ending in 'ANSWER: X'.

Reading one table per category needs the engine to ask `data_subset` (which config holds a subset)
and `keep_record` (which rows belong to it). An engine that does not ask them reads one folder
per category (`<root>/<category>/{test,validation}.jsonl`); a row of another category then fails
with a message naming that layout instead of being scored twice.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark, format_choices, letters

PROMPT = (
    "Answer the following multiple choice question. The last line of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. "
    "Think step by step before answering.\n\nQuestion:\n{question}\nOptions:\n{choices}\n"
)
EXAMPLES_PREFIX = (
    "The following are multiple choice questions (with answers) about {subject}. Think step by step and "
    "then finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct "
    "letter choice.\n\n{examples}\n"
)
HUB_CONFIG = "default"


def category(record: dict[str, Any]) -> str:
    return str(record["category"]).lower()


def cot_with_answer_marker(cot: str) -> str:
    """'... The answer is (B).' → '... ANSWER: B.', the form the prompt asks for (as EvalScope)."""
    cot = cot.replace("The answer is", "ANSWER:")
    label = cot.split("ANSWER:")[-1].split(".")[0].strip().strip("(").strip(")")
    return cot.replace(f"ANSWER: ({label})", f"ANSWER: {label}")


class MMLUPro(MultipleChoiceBenchmark):
    prompt_template = PROMPT

    def data_subset(self, subset: str) -> str:
        """Every category lives in the hub's one config."""
        return HUB_CONFIG

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return category(record) == subset

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        row_category = category(record)  # equals `subset`: keep_record picked the row
        return Sample(
            id=str(record.get("question_id", f"{subset}/{index}")),
            input=str(record["question"]),
            choices=[str(option) for option in record["options"]],
            target=str(record["answer"]).strip(),
            subset=row_category,
            metadata={
                "cot_content": record.get("cot_content") or "",
                "subject": row_category,
                "question_id": record.get("question_id"),
            },
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        options = "\n".join(f"{chr(65 + i)} {option}" for i, option in enumerate(sample.choices or []))
        cot = cot_with_answer_marker(str(sample.metadata.get("cot_content", "")))
        return f"Question:\n{sample.input}\nOptions:\n{options}\n{cot}"

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        choices = sample.choices or []
        fields: dict[str, Any] = {
            "question": sample.input,
            "choices": format_choices(choices),
            "letters": letters(len(choices)),
            "subject": sample.metadata.get("subject", sample.subset),
        }
        if not fewshot:
            return self.prompt_template.format(**fields)
        if self.args.few_shot_prompt_template:  # a user's whole template: examples and question
            return self.args.few_shot_prompt_template.format(fewshot=fewshot, examples=fewshot, **fields)
        head = EXAMPLES_PREFIX.format(subject=fields["subject"], examples=fewshot)
        return head + "\n" + self.prompt_template.format(**fields)
