"""GSM8K: grade-school math word problems, chain-of-thought, answer in \\boxed{} (EvalScope 1.x prompt)."""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_answer import extract_answer

PROMPT = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
FEW_SHOT_PROMPT = "Here are some examples of how to solve similar problems:\n\n{fewshot}\n\n" + PROMPT


class GSM8K(Benchmark):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PROMPT
    metric_kwargs = {"acc": {"numeric": True}}

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

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return extract_answer(prediction)
