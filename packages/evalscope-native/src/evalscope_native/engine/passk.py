"""n completions per sample: mean-of-n for every metric, pass@k for the first one.

pass@k is the unbiased estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k), where c of the n
completions are correct (score 1.0 on the benchmark's first metric). pass@1 equals the mean of n.
"""

from __future__ import annotations

from math import comb


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


def score_completions(per_completion: list[dict[str, float]], metrics: list[str]) -> dict[str, float]:
    """Mean over completions for each metric, plus pass@k on the first metric when n > 1."""
    n = len(per_completion)
    scores = {m: sum(s.get(m, 0.0) for s in per_completion) / n for m in metrics}
    if n > 1 and metrics:
        correct = sum(1 for s in per_completion if s.get(metrics[0], 0.0) >= 1.0)
        for name in passk_names(n):
            scores[name] = pass_at_k(n, correct, int(name.removeprefix("pass@")))
    return scores
