"""GSM8K: grade-school math word problems, chain-of-thought, answer in \\boxed{} (EvalScope 1.x prompt).

Scored like MATH-500, with Math-Verify's extraction and comparison, as EvalScope 1.14.1 does.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_problems import MathBenchmark

PROMPT = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
FEW_SHOT_PROMPT = "Here are some examples of how to solve similar problems:\n\n{fewshot}\n\n" + PROMPT


class GSM8K(MathBenchmark):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PROMPT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        *reasoning, target = record["answer"].split("####")
        return Sample(
            id=f"{subset}/{index}",
            input=record["question"],
            target=target.strip(),
            subset=subset,
            metadata={"reasoning": "####".join(reasoning).strip()},
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        return f"{sample.input}\n\nReasoning:\n{sample.metadata.get('reasoning', '')}\n\nANSWER: \\boxed{{{sample.target}}}"
