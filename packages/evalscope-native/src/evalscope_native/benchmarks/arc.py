"""ARC (AI2 Reasoning Challenge): ARC-Easy and ARC-Challenge science questions, 0-shot by default."""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark


class ARC(MultipleChoiceBenchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        key = str(record["answerKey"]).strip()
        if key.isdigit():  # a few ARC rows label choices 1-4 instead of A-D
            key = chr(ord("A") + int(key) - 1)
        return Sample(
            id=str(record.get("id") or f"{subset}/{index}"),
            input=record["question"],
            choices=list(record["choices"]["text"]),
            target=key,
            subset=subset,
        )
