"""Open QA and custom datasets: trivia_qa, drop, general_mcq, general_qa."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
