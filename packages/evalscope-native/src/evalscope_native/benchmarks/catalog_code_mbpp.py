"""MBPP (full and sanitized), run in the sandbox."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
