"""Code benchmarks run in the sandbox: humaneval, mbpp, live_code_bench, code_tests."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

# The release tags of livecodebench/code_generation_lite, in EvalScope's order (kept here, not
# imported from the adapter, so `evalscope list` imports no adapter).
LIVE_CODE_BENCH_SUBSETS = (
    "release_latest", "release_v1", "release_v2", "release_v3", "release_v4", "release_v5", "release_v6",
    "v1", "v1_v2", "v1_v3", "v1_v4", "v1_v5", "v1_v6", "v2", "v2_v3", "v2_v4", "v2_v5", "v2_v6",
    "v3", "v3_v4", "v3_v5", "v3_v6", "v4", "v4_v5", "v4_v6", "v5", "v5_v6", "v6",
)  # fmt: skip


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="humaneval",
            pretty_name="HumanEval",
            impl="evalscope_native.benchmarks.humaneval:HumanEval",
            scorer="code_execution",
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
            scorer="code_execution",
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
            name="live_code_bench",
            pretty_name="Live-Code-Bench",
            impl="evalscope_native.benchmarks.live_code_bench:LiveCodeBench",
            scorer="code_execution",
            description="Competitive-programming problems (LeetCode, AtCoder, Codeforces) judged on stdin/stdout "
            "and functional test cases in the sandbox; start_date/end_date filter by contest date.",
            tags=("coding",),
            dataset_id="livecodebench/code_generation_lite",
            subsets=LIVE_CODE_BENCH_SUBSETS,
            default_subsets=("release_latest",),
            eval_split="test",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2403.07974",
            sample_counts={"release_latest": 1055},
        ),
        BenchmarkSpec(
            name="code_tests",
            pretty_name="Code-Tests",
            impl="evalscope_native.benchmarks.code_tests:CodeTests",
            scorer="code_execution",
            description="Your own code problems: prompt + asserts and/or stdin/stdout test cases (+ fn_name, "
            "entry_point, setup) rows, run in the sandbox.",
            tags=("coding", "custom"),
            dataset_id="code_tests",
            local_only=True,
            subsets=("default",),
            eval_split="test",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.1.0",
        ),
    ]
