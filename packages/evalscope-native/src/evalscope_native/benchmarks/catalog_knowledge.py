"""Knowledge multiple choice: cmmlu, ceval, mmlu_pro, mmlu_redux, gpqa_diamond, race."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
