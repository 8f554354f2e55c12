"""Instruction following: ifeval."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="ifeval",
            pretty_name="IFEval",
            impl="evalscope_native.benchmarks.ifeval.adapter:IFEval",
            scorer="ifeval",
            description="Verifiable instructions (length, format, keywords, case…) checked by rule; strict and loose.",
            tags=("instruction_following",),
            dataset_id="google/IFEval",
            subsets=("default",),
            sample_counts={"default": 541},
            eval_split="train",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose"),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2311.07911",
        )
    ]
