"""Code benchmarks run in the sandbox: humaneval, mbpp, code_tests."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="humaneval",
            pretty_name="HumanEval",
            impl="evalscope_native.benchmarks.humaneval:HumanEval",
            description="164 hand-written Python functions; the completion must pass the tests in the sandbox.",
            tags=("coding",),
            dataset_id="openai/openai_humaneval",
            subsets=("openai_humaneval",),
            sample_counts={"openai_humaneval": 164},
            eval_split="test",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2107.03374",
        ),
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
        ),
        BenchmarkSpec(
            name="code_tests",
            pretty_name="Code-Tests",
            impl="evalscope_native.benchmarks.code_tests:CodeTests",
            description="Your own code problems: prompt + tests (+ entry_point, setup) rows, run in the sandbox.",
            tags=("coding", "custom"),
            dataset_id="code_tests",
            local_only=True,
            subsets=("default",),
            eval_split="test",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
        ),
    ]
