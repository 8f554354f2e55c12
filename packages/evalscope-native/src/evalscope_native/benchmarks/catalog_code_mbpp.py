"""MBPP (full and sanitized), run in the sandbox."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="mbpp",
            pretty_name="MBPP",
            impl="evalscope_native.benchmarks.mbpp:MBPP",
            description="Mostly Basic Python Problems: write a function that passes three asserts, run in the sandbox.",
            tags=("coding",),
            dataset_id="google-research-datasets/mbpp",
            subsets=("full", "sanitized"),
            default_subsets=("full",),
            eval_split="test",
            few_shot_split="prompt",
            few_shot_num=3,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2108.07732",
            sample_counts={"full": 500, "sanitized": 257},
        )
    ]
