"""Per-sample metrics. Signature: `(extracted, sample, **kwargs) -> float`.

They follow EvalScope 1.14.1's `acc` / `exact_match`: text is compared after stripping and
lower-casing only (punctuation matters: BBH's `dyck_languages` answers are punctuation), numbers
with Math-Verify.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample


def _targets(sample: Sample) -> list[str]:
    return [sample.target] if isinstance(sample.target, str) else list(sample.target)


def _normalize(text: str) -> str:
    return text.strip().lower()


def accuracy(extracted: str, sample: Sample, *, numeric: bool = False, **_: Any) -> float:
    """1.0 when the extracted answer equals a target (any of them if several).

    `numeric=True` compares with Math-Verify, as EvalScope's `acc` with `numeric` does.
    """
    if numeric:
        from evalscope_native.benchmarks.math_equivalence import compare

        return float(any(compare(extracted, t).matched for t in _targets(sample)))
    got = _normalize(extracted)
    return float(any(got == _normalize(t) for t in _targets(sample)))


def exact_match(extracted: str, sample: Sample, **_: Any) -> float:
    """1.0 when the extracted answer equals a target after stripping and lower-casing."""
    return accuracy(extracted, sample)
