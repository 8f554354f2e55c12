"""Math and reasoning: math_500, competition_math, aime24, aime25, bbh."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
