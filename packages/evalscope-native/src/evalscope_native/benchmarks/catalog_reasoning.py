"""Commonsense/truthfulness multiple choice: hellaswag, truthful_qa, boolq, winogrande."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return []
