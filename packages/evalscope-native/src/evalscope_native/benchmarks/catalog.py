"""Declarative specs of the built-in benchmarks: cheap to build, imported by `evalscope list`."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks import (
    catalog_code,
    catalog_collection,
    catalog_ifeval,
    catalog_judged,
    catalog_knowledge,
    catalog_math,
    catalog_openqa,
    catalog_reasoning,
)
from evalscope_native.benchmarks.mmlu import SUBJECTS as MMLU_SUBJECTS
from evalscope_native.benchmarks.mmlu import TEST_COUNTS as MMLU_COUNTS
from evalscope_native.families.function_calling import catalog as catalog_function_calling
from evalscope_native.families.long_context import catalog as catalog_long_context
from evalscope_native.families.multimodal import catalog as catalog_multimodal

FAMILIES = (
    catalog_knowledge,
    catalog_reasoning,
    catalog_math,
    catalog_ifeval,
    catalog_openqa,
    catalog_code,
    catalog_judged,
    catalog_collection,
    catalog_multimodal,  # families/: added as a third party would (docs/benchmarks/multimodal.md)
    catalog_long_context,  # (docs/benchmarks/long-context.md)
    catalog_function_calling,  # families/ (docs/benchmarks/function-calling.md)
)


def builtin_benchmarks() -> list[BenchmarkSpec]:
    return _core() + [spec for family in FAMILIES for spec in family.specs()]


def _core() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="gsm8k",
            pretty_name="GSM8K",
            impl="evalscope_native.benchmarks.gsm8k:GSM8K",
            # the Math-Verify scoring process starts while the CLI imports and plans (cli/boot.py)
            prestart="evalscope_native.benchmarks.math_equivalence:warm_up",
            scorer="math_verify",
            description="Grade-school math word problems; chain-of-thought, answer in \\boxed{}.",
            tags=("math", "reasoning"),
            dataset_id="openai/gsm8k",
            subsets=("main",),
            sample_counts={"main": 1319},
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
            sample_counts={"ARC-Easy": 2376, "ARC-Challenge": 1172},
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
            sample_counts=MMLU_COUNTS,
            eval_split="test",
            few_shot_split="dev",
            few_shot_num=5,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2009.03300",
        ),
    ]
