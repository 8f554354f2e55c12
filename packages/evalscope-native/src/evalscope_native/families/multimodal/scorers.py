"""The multimodal family's scorers (registered by the native plugin's `evalscope_register_scorers`).

Each dispatches on the sample's `question_type`, as EvalScope 1.14.1's adapters' `match_score` do.
"""

from __future__ import annotations

import ast
from typing import Any

from evalscope.contracts import Sample

from evalscope_native.scorers import RuleScorer

__all__ = ["math_vista_acc", "mmmu_acc"]


def mmmu_acc(benchmark: Any) -> RuleScorer:
    """Multiple choice: the letter equals `answer`; open: the official MMMU open-answer match."""
    from evalscope_native.families.multimodal.mmmu_open import eval_open, parse_open_response

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        target = str(sample.target)
        if sample.metadata["question_type"] != "open":
            return {"acc": float(extracted.strip().lower() == target.strip().lower())}  # EvalScope's `acc`
        # a list-valued answer is stored as its string repr (EvalScope's literal_eval of it)
        gold = ast.literal_eval(target) if target.startswith("[") else target
        return {"acc": float(eval_open(gold, parse_open_response(extracted)))}

    return RuleScorer(["acc"], compute)


def math_vista_acc(benchmark: Any) -> RuleScorer:
    """Multiple choice: a non-empty letter equal to the target's; free form: Math-Verify equivalence."""
    from evalscope_native.benchmarks.math_equivalence import compare

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        target = str(sample.target)
        if sample.metadata["question_type"] == "multi_choice":
            return {"acc": float(bool(extracted) and extracted == target)}
        return {"acc": float(compare(extracted, target).matched)}

    return RuleScorer(["acc"], compute)
