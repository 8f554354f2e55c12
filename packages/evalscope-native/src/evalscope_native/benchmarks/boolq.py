"""BoolQ: yes/no questions about a Wikipedia passage, asked as a two-choice question (A Yes, B No).

Matches EvalScope 1.14.1: validation split, 0-shot (few-shot examples come from `train` when
asked), the passage and question shown as `Passage:\\n…\\n\\nQuestion: …` inside the single-answer
multiple-choice template.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark


def _as_bool(value: Any) -> bool:
    """The hub stores a real bool; CSV copies say 'True'/'False'. Anything else is a data error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"BoolQ needs a boolean 'answer', got {value!r}")


class BoolQ(MultipleChoiceBenchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        answer = _as_bool(record["answer"])
        return Sample(
            id=f"{subset}/{index}",
            input=f"Passage:\n{record['passage']}\n\nQuestion: {record['question']}",
            choices=["Yes", "No"],
            target="A" if answer else "B",
            subset=subset,
        )
