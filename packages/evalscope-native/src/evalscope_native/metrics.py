"""Per-sample metrics. Signature: `(extracted, sample, **kwargs) -> float`."""

from __future__ import annotations

import re
import string
from typing import Any

from evalscope.contracts import Sample


def _normalize_text(text: str) -> str:
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return re.sub(r"\s+", " ", text).strip()


def accuracy(extracted: str, sample: Sample, *, numeric: bool = False, **_: Any) -> float:
    """1.0 when the extracted answer equals a target (any of them if several).

    `numeric=True` compares numbers with tolerance (GSM8K); otherwise text is compared after
    lower-casing and dropping punctuation and extra spaces, as EvalScope's `acc` does.
    """
    targets = [sample.target] if isinstance(sample.target, str) else sample.target
    if numeric:
        from evalscope_native.benchmarks.math_answer import numeric_equal

        return float(any(numeric_equal(extracted, t) for t in targets))
    got = _normalize_text(extracted)
    return float(any(got == _normalize_text(t) for t in targets))


def exact_match(extracted: str, sample: Sample, **_: Any) -> float:
    """1.0 only for an identical string (no normalisation)."""
    targets = [sample.target] if isinstance(sample.target, str) else sample.target
    return float(extracted in targets)
