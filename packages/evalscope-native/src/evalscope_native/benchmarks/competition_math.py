"""Competition-MATH: the 5,000 MATH test problems by level, 4-shot from `train` (EvalScope 1.14.1).

The reference is the answer Math-Verify extracts from the worked solution (its last `\\boxed{}`),
as EvalScope does; a few-shot example shows that answer only, not the solution — EvalScope's
`sample_to_fewshot` prints the target, and the prompt is kept byte for byte.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_equivalence import extract
from evalscope_native.benchmarks.math_problems import LevelSubsets

PROMPT = "Problem:\n{question}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}.\n"
FEW_SHOT_PROMPT = "Here are some examples of how to solve similar problems:\n\n{fewshot}\n" + PROMPT


class CompetitionMath(LevelSubsets):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PROMPT

    def level_of(self, record: dict[str, Any]) -> str:
        return str(record["level"])  # already 'Level 3' on the hub

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        solution = record["solution"]
        return Sample(
            id=f"{subset}/{index}",
            input=record["problem"],
            target=extract(solution),
            subset=self.level_of(record),
            metadata={"reasoning": solution, "type": record.get("type", "")},
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        return f"Problem:\n{sample.input}\nSolution:\n{sample.target}"
