"""Metrics: per-sample values → a figure with its uncertainty; and the n-completions reducers.

Two levels, as in lm-evaluation-harness and Inspect AI:

* **across completions of one sample** (`--generation-config n=N`): every value is the mean of its
  n completions (mean-of-n), and the first value also gets the unbiased pass@k of Chen et al.
  (2021), `1 - C(n-c, k) / C(n, k)` where c completions scored 1.0 (`reduce_completions`); a
  benchmark that asks for it (`Benchmark.pass_hat_k`, τ-bench) also gets pass^k of Yao et al. (2024),
  `C(c, k) / C(n, k)`: the chance that k trials drawn from the n all succeed. Each is a per-sample
  value, so the report's figure is its mean over the samples with the metric's uncertainty;
* **across samples** (`mean`, `bootstrap`): a figure and its uncertainty. `mean` gives the standard
  error of the (weighted) mean; with unit weights that is the sample standard deviation over √n,
  lm-evaluation-harness's `stderr`. `bootstrap` resamples the samples (seeded) for a 95 % percentile
  interval, for figures whose error is not well described by a normal approximation.

Both metrics are registered by the core's own plugin (`builtin_plugin.py`) as `MetricSpec`s, so a
benchmark or a user's `aggregation` names them like any plugin's metric.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from math import comb
from typing import Any

from evalscope.scoring import MetricValue

__all__ = [
    "bootstrap",
    "macro_f1",
    "mean",
    "pass_at_k",
    "pass_hat_k",
    "passhatk_names",
    "passk_names",
    "reduce_completions",
    "BOOTSTRAP_ROUNDS",
]

BOOTSTRAP_ROUNDS = 1000


def mean(values: Sequence[float], weights: Sequence[float] = (), *, seed: int = 0, **_: Any) -> MetricValue:
    """The (weighted) mean and its standard error.

    With weights w the standard error is the ratio estimator's, sqrt(n/(n-1) · Σ w²(x-μ)²) / Σw,
    which with unit weights is the sample standard deviation over √n. One sample has no error (None).
    """
    n = len(values)
    if n == 0:
        return MetricValue(score=math.nan, num=0)
    w = list(weights) if weights else [1.0] * n
    total = sum(w)
    if total == 0:
        return MetricValue(score=math.nan, num=n)
    mu = sum(x * wi for x, wi in zip(values, w, strict=True)) / total
    if n < 2:
        return MetricValue(score=mu, num=n)
    spread = sum(wi * wi * (x - mu) ** 2 for x, wi in zip(values, w, strict=True))
    return MetricValue(score=mu, num=n, stderr=math.sqrt(n / (n - 1) * spread) / total)


def bootstrap(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    rounds: int = BOOTSTRAP_ROUNDS,
    **_: Any,
) -> MetricValue:
    """The (weighted) mean with a seeded 95 % percentile bootstrap interval and its bootstrap stderr."""
    point = mean(values, weights)
    n = len(values)
    if n < 2:
        return point
    w = list(weights) if weights else [1.0] * n
    rng = random.Random(seed)
    stats: list[float] = []
    for _round in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        total = sum(w[i] for i in idx)
        if total:
            stats.append(sum(values[i] * w[i] for i in idx) / total)
    stats.sort()
    avg = sum(stats) / len(stats)
    sd = math.sqrt(sum((s - avg) ** 2 for s in stats) / (len(stats) - 1))
    return MetricValue(
        score=point.score,
        num=n,
        stderr=sd,
        ci_low=_percentile(stats, 2.5),
        ci_high=_percentile(stats, 97.5),
    )


def macro_f1(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    rounds: int = BOOTSTRAP_ROUNDS,
    **_: Any,
) -> MetricValue:
    """F1 over a set of labels: each label's F1 (answer vs target), averaged over the labels.

    For classification-like benchmarks where accuracy hides a neglected class. Needs the records
    (their `extracted` answer and `target`); the interval is a seeded bootstrap over samples.
    """
    pairs = [(_label(r.extracted), _label(r.target)) for r in records if r.error is None]
    if not pairs:
        return MetricValue(score=math.nan, num=0)
    point = _macro_f1(pairs)
    rng = random.Random(seed)
    boots = sorted(_macro_f1([pairs[rng.randrange(len(pairs))] for _ in pairs]) for _round in range(rounds))
    avg = sum(boots) / len(boots)
    sd = math.sqrt(sum((b - avg) ** 2 for b in boots) / max(len(boots) - 1, 1))
    return MetricValue(
        score=point,
        num=len(pairs),
        stderr=sd,
        ci_low=_percentile(boots, 2.5),
        ci_high=_percentile(boots, 97.5),
    )


def _label(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip().lower()


def _macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    labels = sorted({t for _, t in pairs} | {p for p, _ in pairs if p})
    scores = []
    for label in labels:
        tp = sum(1 for p, t in pairs if p == label and t == label)
        fp = sum(1 for p, t in pairs if p == label and t != label)
        fn = sum(1 for p, t in pairs if p != label and t == label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(scores) / len(scores) if scores else math.nan


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def passk_names(n: int) -> list[str]:
    """The pass@k reported for n completions: k = 1, 2, 4, ... below n, and n itself."""
    if n <= 1:
        return []
    ks = sorted({k for k in (2**i for i in range(n.bit_length())) if k < n} | {n})
    return [f"pass@{k}" for k in ks]


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def passhatk_names(n: int) -> list[str]:
    """The pass^k reported for n trials: the same k as pass@k (`passk_names`: 1, 2, 4, ... and n)."""
    return [name.replace("@", "^") for name in passk_names(n)]


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k (τ-bench, Yao et al. 2024): `C(c, k) / C(n, k)`, all of k trials drawn from n succeed."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return comb(c, k) / comb(n, k)


def reduce_completions(
    per_completion: list[dict[str, float]], names: list[str], *, pass_hat: bool = False
) -> dict[str, float]:
    """Mean over completions for each value, plus pass@k on the first value when n > 1 (and pass^k
    when `pass_hat`)."""
    n = len(per_completion)
    scores = {m: sum(s.get(m, 0.0) for s in per_completion) / n for m in names}
    if n > 1 and names:
        correct = sum(1 for s in per_completion if s.get(names[0], 0.0) >= 1.0)
        for name in passk_names(n):
            scores[name] = pass_at_k(n, correct, int(name.removeprefix("pass@")))
        if pass_hat:
            for name in passhatk_names(n):
                scores[name] = pass_hat_k(n, correct, int(name.removeprefix("pass^")))
    return scores
