"""AIME 2024 and 2025: 30 problems each, integer answers 0-999, zero-shot (EvalScope 1.14.1).

Scoring is Math-Verify equality with EvalScope's `integer_only`: the reference and the extracted
answer must both be integer literals, so `\\boxed{\\frac{408}{2}}` is wrong where `\\boxed{204}` is
right. EvalScope's optional LLM-judge re-check is `--judge-strategy llm_recall`: the judge
(`aime_equivalence`, EvalScope's prompt) looks again only at the answers this rule marked wrong.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_problems import MathBenchmark

# EvalScope's template starts with a newline (it is not stripped there), so the prompt does too.
PROMPT = (
    "\nSolve the following math problem step by step. Put your answer inside \\boxed{{}}.\n\n"
    "{question}\n\nRemember to put your answer inside \\boxed{{}}."
)


class AIME(MathBenchmark):
    prompt_template = PROMPT
    integer_only = True

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        # math-ai/aime25 has `answer`; math-ai/aime24 keeps the answer in `solution` (e.g. '\boxed{204}').
        target = record.get("answer") or record.get("solution")
        if target is None or str(target).strip() == "":
            raise KeyError("answer")
        return Sample(
            id=str(record.get("id", f"{subset}/{index}")),
            input=record["problem"],
            target=str(target),
            subset=subset,
        )
