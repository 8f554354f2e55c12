"""Code benchmarks run in the sandbox: humaneval, mbpp, code_tests."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
