"""DROP's exact match and F1, as the official evaluator (`drop_eval.py`, Dua et al. 2019) defines them.

An answer is a bag of spans. Each span is normalised token by token (split on spaces and hyphens):
lower-cased, punctuation dropped unless the token is a number, numbers rewritten as floats (`"1"` →
`"1.0"`), articles removed. Then:

* **exact match** — the normalised spans of prediction and gold are equal as sets (and as many);
* **F1** — every span becomes a bag of words; prediction and gold spans are paired one-to-one by a
  maximum-weight assignment on their bag-of-words F1 (a pair scores 0 when the gold span holds
  numbers and the predicted one none of them); the F1 is the mean over max(#gold, #predicted) spans,
  rounded to two decimals;
* the score of a question is the maximum over its gold answers (the answer and the validated answers),
  skipping a gold answer whose first span is blank.

Everything here is our own code; `numpy`/`scipy` are not needed (the assignment is solved exactly by
the Hungarian method below, and the rounding reproduces numpy's `round(x, 2)`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)
_TOKEN_SPLIT = re.compile(" |-")

Bag = frozenset[str]


def _is_number(text: str) -> bool:
    # Python's float() decides, as in the official script ("1_000", "inf" and " 5" count as numbers).
    try:
        float(text)
    except ValueError:
        return False
    return True


def _normalize_token(token: str) -> str:
    token = token.lower()
    if not _is_number(token):
        token = "".join(ch for ch in token if ch not in _PUNCTUATION)
    if _is_number(token):
        token = str(float(token))
    token = _ARTICLES.sub(" ", token)
    return " ".join(token.split())


def normalize_span(span: str) -> str:
    """One span in DROP's normal form: "The 3-yard run." → "3.0 yard run"."""
    tokens = (_normalize_token(t) for t in _TOKEN_SPLIT.split(span))
    return " ".join(t for t in tokens if t.strip()).strip()


def answer_to_bags(answer: str | Sequence[str]) -> tuple[list[str], list[Bag]]:
    """Normalised spans and their bags of words; a plain string is one span."""
    spans = [answer] if isinstance(answer, str) else list(answer)
    normalized = [normalize_span(s) for s in spans]
    return normalized, [frozenset(n.split()) for n in normalized]


def bag_f1(predicted: Bag, gold: Bag) -> float:
    common = len(gold & predicted)
    precision = common / len(predicted) if predicted else 1.0
    recall = common / len(gold) if gold else 1.0
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _numbers_agree(gold: Bag, predicted: Bag) -> bool:
    """A gold span that holds numbers only matches a prediction sharing at least one of them."""
    gold_numbers = {w for w in gold if _is_number(w)}
    return not gold_numbers or bool(gold_numbers & {w for w in predicted if _is_number(w)})


def max_assignment(weights: list[list[float]]) -> list[tuple[int, int]]:
    """Row/column pairs of a maximum-weight one-to-one assignment (rectangular matrices allowed).

    The Hungarian method with potentials (O(n²m)); rows are transposed to be the shorter side. Any
    optimal assignment gives the same F1, since F1 only uses the total of the paired scores.
    """
    if not weights or not weights[0]:
        return []
    transpose = len(weights) > len(weights[0])
    matrix = [list(col) for col in zip(*weights, strict=True)] if transpose else weights
    n, m = len(matrix), len(matrix[0])
    big = max(max(row) for row in matrix)
    cost = [[big - w for w in row] for row in matrix]  # minimise cost = maximise weight
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner = [0] * (m + 1)  # owner[j]: row (1-based) assigned to column j, 0 for none
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], inf, 0
            for j in range(1, m + 1):
                if used[j]:
                    continue
                cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = [(owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return [(c, r) for r, c in pairs] if transpose else pairs


def align_bags(predicted: list[Bag], gold: list[Bag]) -> list[float]:
    """Per-gold-span F1 under the best one-to-one pairing, padded to max(#gold, #predicted) entries."""
    scores = [[bag_f1(p, g) if _numbers_agree(g, p) else 0.0 for p in predicted] for g in gold]
    best = [0.0] * max(len(gold), len(predicted))
    for row, col in max_assignment(scores):
        best[row] = max(best[row], scores[row][col])
    return best


def _numpy_round2(x: float) -> float:
    # numpy's round(x, 2): scale, round half to even, unscale — not Python's decimal-exact round(x, 2).
    return round(x * 100) / 100


def drop_scores(prediction: str | Sequence[str], golds: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(exact match, F1) of a prediction against a question's gold answers (each a tuple of spans)."""
    pred_spans, pred_bags = answer_to_bags(prediction)
    best_em = best_f1 = 0.0
    for gold in golds:
        gold_spans, gold_bags = answer_to_bags(gold)
        em = float(set(pred_spans) == set(gold_spans) and len(pred_spans) == len(gold_spans))
        per_span = align_bags(pred_bags, gold_bags)
        total = 0.0
        for value in per_span:  # sequential sum, as numpy's mean does for these short rows
            total += value
        f1 = _numpy_round2(total / len(per_span)) if per_span else 0.0
        if gold and gold[0].strip():
            best_em, best_f1 = max(best_em, em), max(best_f1, f1)
    return best_em, best_f1
