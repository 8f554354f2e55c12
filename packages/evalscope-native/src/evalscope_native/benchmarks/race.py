"""RACE: English reading comprehension from Chinese middle/high-school exams, 3-shot CoT.

The article and question form the question text (`Article:\\n…\\nQuestion:\\n…`); few-shot examples
are the first rows of the subset's `train` split, at most 3 (long articles), as in EvalScope 1.14.1.
"""

from __future__ import annotations

from typing import Any

from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.multiple_choice import SINGLE_ANSWER_COT, MultipleChoiceBenchmark

MAX_FEW_SHOT = 3


class RACE(MultipleChoiceBenchmark):
    prompt_template = SINGLE_ANSWER_COT

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None) -> None:
        super().__init__(spec, args)
        if self.few_shot_num > MAX_FEW_SHOT:
            raise ConfigError(
                f"race allows at most {MAX_FEW_SHOT} few-shot examples (its articles are long), "
                f"{self.few_shot_num} requested.",
                hint='--dataset-args \'{"race": {"few_shot_num": 3}}\'',
            )

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=f"{subset}/{index}",
            input=f"Article:\n{record['article']}\nQuestion:\n{record['question']}",
            choices=[str(option) for option in record["options"]],
            target=str(record["answer"]).strip(),
            subset=subset,
            metadata={"example_id": record.get("example_id", "unknown")},
        )
