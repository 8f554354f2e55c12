"""Shared parts of the math benchmarks: Math-Verify scoring, and subsets read from a `level` field.

MATH-500 and Competition-MATH keep every row in one hub subset (`default`); EvalScope 1.14.1 splits
them into `Level 1` … `Level 5` by each row's level (its `reformat_subset`), applying `--limit` and
the few-shot examples per level. `LevelSubsets` tells the engine so: `data_subset` names the stored
subset behind every level, `keep_record` picks a level's rows from it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from evalscope.benchmark import Benchmark
from evalscope.contracts import Sample

from evalscope_native.benchmarks.math_equivalence import extract, scoring_processes, warm_up


class MathBenchmark(Benchmark):
    """Answers extracted and compared by Math-Verify, as EvalScope 1.14.1's `acc` with `numeric`."""

    #: AIME: both the reference and the answer must be integer literals (EvalScope's `integer_only`)
    integer_only: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One scoring thread per Math-Verify process the pool may start: against a fast server the
        # answers arrive faster than one process scores them.
        self.scoring_workers = scoring_processes()
        warm_up()  # the scoring process starts while data loads and the first requests are out

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return extract(prediction)


class LevelSubsets(MathBenchmark):
    """Reported subsets `Level 1`…`Level 5`, all stored in one hub subset."""

    stored_subset: ClassVar[str] = "default"

    def level_of(self, record: dict[str, Any]) -> str:
        raise NotImplementedError

    def data_subset(self, subset: str) -> str:
        return self.stored_subset

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return self.level_of(record) == subset
