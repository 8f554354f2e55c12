"""The native plugin's scorers: every built-in benchmark scores through one of these.

Each `ScorerSpec.impl` below names a factory `(benchmark, **kwargs) -> Scorer`. The factories read
the few per-benchmark facts they need from the adapter (AIME's `integer_only`, general_mcq's
`multiple_correct`, IFEval's checkers, a code benchmark's `execute`), so one scorer serves a family
and the adapters keep only what is theirs: records, prompts and answer extraction.

Every per-sample value equals EvalScope 1.14.1's (`benchmarks/fidelity`): the comparisons are the
ones the adapters used before the seam existed, moved here unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evalscope.contracts import Sample
from evalscope.scoring import Score

__all__ = [
    "accuracy",
    "code_execution",
    "drop_f1_em",
    "ifeval_levels",
    "math_verify",
    "mcq_letters",
    "multi_choice_acc",
    "text_overlap",
]

Compute = Callable[[Sample, str, str], dict[str, float] | None]  # None: nothing to score against


@dataclass
class RuleScorer:
    """A synchronous scorer from a function `(sample, completion, extracted) -> {value: float}`.

    `values` are the names reported. A one-value rule (`single`) gives its value to every reported
    name, as the adapters did for a `metric_list` that renames the value (TriviaQA's `acc`/`em`).
    """

    values: Sequence[str]
    compute: Compute
    single: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        got = self.compute(sample, completion, extracted)
        if got is None:
            return Score(answer=extracted, unscored="no reference answer: the answer is recorded, not scored")
        if self.single:
            (value,) = got.values()
            got = dict.fromkeys(self.values, value)
        else:
            got = {k: got[k] for k in self.values}
        return Score(values=got, answer=extracted)


def _targets(sample: Sample) -> list[str]:
    return [sample.target] if isinstance(sample.target, str) else list(sample.target)


def _names(benchmark: Any, default: Sequence[str]) -> list[str]:
    return list(getattr(benchmark, "metrics", None) or default)


# --- text and letters ---------------------------------------------------------------------------


def accuracy(benchmark: Any, *, numeric: bool = False, nonempty: bool = False) -> RuleScorer:
    """EvalScope's `acc`: equal after stripping and lower-casing (punctuation counts: BBH's
    dyck_languages answers are brackets); `numeric` compares with Math-Verify; `nonempty` (TriviaQA)
    never credits an empty answer, whatever the targets."""

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        if numeric:
            from evalscope_native.benchmarks.math_equivalence import compare

            return {"acc": float(any(compare(extracted, t).matched for t in _targets(sample)))}
        got = extracted.strip().lower()
        hit = any(got == t.strip().lower() for t in _targets(sample))
        return {"acc": float(hit and (bool(got) or not nonempty))}

    return RuleScorer(_names(benchmark, ["acc"]), compute, single=True)


def mcq_letters(benchmark: Any) -> RuleScorer:
    """general_mcq: the letter (case-insensitive); with several correct letters, EvalScope's partial
    credit — 0 if any chosen letter is wrong, else the share of the right letters chosen."""
    several = bool(getattr(benchmark, "multiple_correct", False))

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        if several:
            return {"acc": _partial_credit(extracted, _targets(sample))}
        return {"acc": float(extracted.strip().lower() == _targets(sample)[0].strip().lower())}

    return RuleScorer(_names(benchmark, ["acc"]), compute, single=True)


def multi_choice_acc(benchmark: Any) -> RuleScorer:
    """TruthfulQA MC2-style: EvalScope's `multi_choice_acc` (partial credit, 0 on any wrong letter)."""

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        return {"multi_choice_acc": _partial_credit(extracted, _targets(sample))}

    return RuleScorer(_names(benchmark, ["multi_choice_acc"]), compute, single=True)


def _partial_credit(extracted: str, targets: list[str]) -> float:
    chosen, true = set(extracted.strip().upper()), set("".join(targets).strip().upper())
    if not true or not chosen <= true:
        return 0.0
    return len(chosen & true) / len(true)


# --- maths --------------------------------------------------------------------------------------


def math_verify(benchmark: Any) -> RuleScorer:
    """Math-Verify equivalence with any target, as EvalScope 1.14.1's numeric `acc`; AIME's
    `integer_only` demands integer literals on both sides."""
    from evalscope_native.benchmarks.math_equivalence import compare

    integer_only = bool(getattr(benchmark, "integer_only", False))

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        hit = any(compare(extracted, t, integer_only=integer_only).matched for t in _targets(sample))
        return {"acc": float(hit)}

    return RuleScorer(_names(benchmark, ["acc"]), compute, single=True)


# --- open answers -------------------------------------------------------------------------------


def drop_f1_em(benchmark: Any) -> RuleScorer:
    """DROP's bag-of-answers F1 and exact match over the gold answer sets."""
    from evalscope_native.benchmarks.drop_metric import drop_scores

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        em, f1 = drop_scores(extracted, [tuple(g) for g in sample.metadata["golds"]])
        return {"f1": f1, "em": em}

    return RuleScorer(_names(benchmark, ["f1", "em"]), compute)


def text_overlap(benchmark: Any) -> RuleScorer:
    """BLEU-1…4 and ROUGE-1/2/L recall/precision/F against the first reference (general_qa)."""
    from evalscope_native.benchmarks.text_overlap import BLEU_KEYS, ROUGE_KEYS, bleu_scores, rouge_scores

    names = _names(benchmark, ["Rouge-L-R"])

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float] | None:
        reference = _targets(sample)[0] if _targets(sample) else ""
        if not reference:  # a query-only file (answers for an arena): record, do not score against ""
            return None
        scores: dict[str, float] = {}
        if any(k in BLEU_KEYS for k in names):
            scores |= bleu_scores(extracted, reference)
        if any(k in ROUGE_KEYS for k in names):
            scores |= rouge_scores(extracted, reference)
        return scores

    return RuleScorer(names, compute)


def ifeval_levels(benchmark: Any) -> RuleScorer:
    """IFEval's four figures: prompt- and instruction-level accuracy, strict and loose."""
    from evalscope_native.benchmarks.ifeval.evaluate import evaluate

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        scores: dict[str, float] = evaluate(benchmark.checkers(sample), extracted).scores()
        return scores

    return RuleScorer(_names(benchmark, ()), compute)


# --- code ---------------------------------------------------------------------------------------


def code_execution(benchmark: Any) -> RuleScorer:
    """The code sandbox's verdict: 1.0 when the program passes every test (the benchmark's
    `execute(code, sample) -> bool` runs it and records the execution in the sample's metadata)."""

    def compute(sample: Sample, completion: str, extracted: str) -> dict[str, float]:
        return {"acc": 1.0 if benchmark.execute(extracted, sample) else 0.0}

    return RuleScorer(_names(benchmark, ["acc"]), compute, single=True)
