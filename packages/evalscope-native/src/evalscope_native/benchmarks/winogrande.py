"""WinoGrande: fill the blank `_` of a sentence with one of two names or things (A or B).

Matches EvalScope 1.14.1: the validation set `liyucheng/winogrande_val` (ModelScope:
`AI-ModelScope/winogrande_val`), 0-shot, the sentence as the question and `option1`/`option2` as
choices A/B in the single-answer multiple-choice template; `answer` '1'/'2' becomes A/B.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark


class Winogrande(MultipleChoiceBenchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        answer = int(record["answer"])
        if answer not in (1, 2):
            raise ValueError(f"WinoGrande 'answer' must be 1 or 2, got {record['answer']!r}")
        return Sample(
            id=str(record.get("id") or f"{subset}/{index}"),
            input=record["sentence"],
            choices=[record["option1"], record["option2"]],
            target="AB"[answer - 1],
            subset=subset,
            metadata={"id": record.get("id", "unknown")},
        )
