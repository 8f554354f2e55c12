"""Declarative specs of the built-in benchmarks: cheap to build, imported by `evalscope list`."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.mmlu import SUBJECTS as MMLU_SUBJECTS


def builtin_benchmarks() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="gsm8k",
            pretty_name="GSM8K",
            impl="evalscope_native.benchmarks.gsm8k:GSM8K",
            description="Grade-school math word problems; chain-of-thought, answer in \\boxed{}.",
            tags=("math", "reasoning"),
            dataset_id="openai/gsm8k",
            subsets=("main",),
            eval_split="test",
            few_shot_split="train",
            few_shot_num=4,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2110.14168",
        ),
        BenchmarkSpec(
            name="arc",
            pretty_name="ARC",
            impl="evalscope_native.benchmarks.arc:ARC",
            description="AI2 Reasoning Challenge: grade-school science multiple choice (Easy and Challenge).",
            tags=("reasoning", "multiple_choice"),
            aliases=("ai2_arc",),
            dataset_id="allenai/ai2_arc",
            subsets=("ARC-Easy", "ARC-Challenge"),
            eval_split="test",
            few_shot_split="train",
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/1803.05457",
        ),
        BenchmarkSpec(
            name="mmlu",
            pretty_name="MMLU",
            impl="evalscope_native.benchmarks.mmlu:MMLU",
            description="57-subject knowledge multiple choice; 5-shot from each subject's dev split.",
            tags=("knowledge", "multiple_choice"),
            dataset_id="cais/mmlu",
            subsets=MMLU_SUBJECTS,
            eval_split="test",
            few_shot_split="dev",
            few_shot_num=5,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2009.03300",
        ),
    ]
