"""MATH-500: 500 MATH test problems (PRM800K's split), zero-shot, reported by level (EvalScope 1.14.1)."""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_problems import LevelSubsets

PROMPT = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


class Math500(LevelSubsets):
    prompt_template = PROMPT

    def level_of(self, record: dict[str, Any]) -> str:
        return f"Level {record['level']}"  # an integer on the hub

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=str(record["unique_id"]),
            input=record["problem"],
            target=str(record["answer"]),
            subset=self.level_of(record),
            metadata={
                "question_id": record["unique_id"],
                "solution": record["solution"],
                "subject": record.get("subject", ""),
            },
        )
