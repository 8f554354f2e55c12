"""Benchmarks only a judge can score: SimpleQA, Chinese SimpleQA, AlpacaEval 2.0, Arena-Hard v0.1.

Records and prompts as EvalScope 1.14.1's adapters read them (hub field names, so a local copy and
a hub download are the same records); the judging is in `judge/builtin.py`. The target of the two
pairwise benchmarks is the baseline's answer (AlpacaEval's gpt-4-1106-preview reference output,
Arena-Hard's gpt-4-0314 answer), which the judge compares the model's answer with.
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from evalscope.benchmark import Benchmark
from evalscope.contracts import Sample

__all__ = ["AlpacaEval", "ArenaHard", "ChineseSimpleQA", "SimpleQA"]


class SimpleQA(Benchmark):
    prompt_template = "Answer the question:\n\n{question}"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        meta = record.get("metadata")
        if isinstance(meta, str):  # the hub column is a Python literal, e.g. "{'topic': 'Art', ...}"
            try:
                meta = ast.literal_eval(meta)
            except (ValueError, SyntaxError):
                meta = {"raw": meta}
        return Sample(
            id=str(record.get("id", f"{subset}/{index}")),
            input=record["problem"],
            target=record["answer"],
            subset=subset,
            metadata=dict(meta or {}),
        )


class ChineseSimpleQA(Benchmark):
    """One stored table; the reported subsets are its `primary_category` values (as EvalScope)."""

    prompt_template = "请回答问题：\n\n{question}"
    stored_subset: ClassVar[str] = "default"

    def data_subset(self, subset: str) -> str:
        return self.stored_subset

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return str(record.get("primary_category", "default")) == subset

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=str(record.get("id", f"{subset}/{index}")),
            input=record["question"],
            target=record["answer"],
            subset=subset,
            metadata={k: record.get(k) for k in ("id", "primary_category", "secondary_category")},
        )


class AlpacaEval(Benchmark):
    prompt_template = "{question}"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=f"{subset}/{index}",
            input=record["instruction"],
            target=record["output"],  # the baseline's answer
            subset=subset,
            metadata={
                "generator": record.get("generator", "unknown"),
                "dataset": record.get("dataset", "unknown"),
            },
        )


class ArenaHard(Benchmark):
    prompt_template = "{question}"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=str(record.get("question_id") or f"{subset}/{index}"),
            input=record["question"],
            target=record["prediction"],  # gpt-4-0314's answer, the baseline
            subset=subset,
            metadata={"capability": record.get("capability", "unknown")},
        )
