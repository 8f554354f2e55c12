"""Figures over judged samples: Bradley-Terry and length-controlled win rates, and the judge report.

* `bradley_terry` (metric): Arena-Hard's win rate against the baseline. Every game the judge played
  counts: a strong verdict (`>>`) three times, a tie half a win each way, as Arena-Hard and EvalScope
  1.14.1 count them. With one model against its baseline the Bradley-Terry maximum-likelihood win
  probability is the weighted share of wins (the logistic fit of EvalScope has this closed form), so
  no solver is needed; the 95 % interval comes from a seeded bootstrap over samples (a sample's two
  games stay together), which EvalScope 1.14.1 does not give. Unlike its fit, a clean sweep gives
  1.0, not the 0.9091 its degenerate-data fallback reports.
* `length_controlled` (metric): AlpacaEval 2's idea — fit the preference on a length term,
  `P(win) = σ(θ + φ·tanh(Δ/σ_Δ))` with Δ the candidate's length minus the baseline's, and report
  σ(θ), the win rate at equal length. (AlpacaEval 2 also has an instruction-difficulty term fitted
  across many models; with one model it is not identifiable and is left out.) Interval: bootstrap.
* `judge_report`: coverage, failures by reason, requests sent and cache hits, panel agreement
  (Fleiss' kappa on verdict labels), position flips, agreement with a human label column, and the
  correlation of the judged score with answer length.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from evalscope.aggregation import BOOTSTRAP_ROUNDS
from evalscope.scoring import MetricValue

__all__ = ["bradley_terry", "fleiss_kappa", "judge_report", "length_controlled"]


def _games(record: Any) -> list[tuple[float, float]]:
    """(wins, losses) weights of each game the judge played for this sample's candidate."""
    out = []
    for game in (record.metadata.get("judge") or {}).get("games") or []:
        weight = 3.0 if game["strong"] else 1.0
        out.append({"win": (weight, 0.0), "loss": (0.0, weight), "tie": (0.5, 0.5)}[game["result"]])
    return out


def _win_share(groups: Sequence[list[tuple[float, float]]]) -> float:
    wins = sum(w for g in groups for w, _ in g)
    losses = sum(loss for g in groups for _, loss in g)
    return wins / (wins + losses) if wins + losses else math.nan


def bradley_terry(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    **_: Any,
) -> MetricValue:
    groups = [g for g in (_games(r) for r in records) if g]
    point = _win_share(groups)
    if len(groups) < 2:
        return MetricValue(score=point, num=len(groups))
    rng = random.Random(seed)
    boots = sorted(
        _win_share([groups[rng.randrange(len(groups))] for _ in groups]) for _round in range(BOOTSTRAP_ROUNDS)
    )
    return _with_interval(point, len(groups), boots)


def length_controlled(
    values: Sequence[float],
    weights: Sequence[float] = (),
    *,
    seed: int = 0,
    records: Sequence[Any] = (),
    **_: Any,
) -> MetricValue:
    gaps = [(v, _length_gap(r)) for v, r in zip(values, records, strict=False)]
    pairs = [(v, d) for v, d in gaps if d is not None]
    if len(pairs) < 3:
        return MetricValue(score=math.nan, num=len(pairs))
    point = _lc_fit(pairs)
    rng = random.Random(seed)
    boots = sorted(_lc_fit([pairs[rng.randrange(len(pairs))] for _ in pairs]) for _round in range(200))
    return _with_interval(point, len(pairs), boots)


def _length_gap(record: Any) -> float | None:
    target = record.target if isinstance(record.target, str) else (record.target[0] if record.target else "")
    if record.extracted is None:
        return None
    return float(len(record.extracted) - len(target))


def _lc_fit(pairs: Sequence[tuple[float, float]]) -> float:
    """σ(θ) of the logistic fit y ~ θ + φ·tanh(Δ/sd(Δ)) with soft labels y (Newton's method)."""
    gaps = [d for _, d in pairs]
    mu = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((d - mu) ** 2 for d in gaps) / len(gaps)) or 1.0
    xs = [(y, math.tanh(d / sd)) for y, d in pairs]
    theta = phi = 0.0
    for _step in range(50):
        g0 = g1 = h00 = h01 = h11 = 0.0
        for y, x in xs:
            p = _sigmoid(theta + phi * x)
            r, w = y - p, p * (1 - p)
            g0, g1 = g0 + r, g1 + r * x
            h00, h01, h11 = h00 + w, h01 + w * x, h11 + w * x * x
        h00 += 1e-6  # a tiny ridge: all-win or all-loss data stays finite
        h11 += 1e-6
        det = h00 * h11 - h01 * h01
        if det <= 0:
            break
        d0, d1 = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        theta, phi = max(-30.0, min(30.0, theta + d0)), max(-30.0, min(30.0, phi + d1))
        if abs(d0) + abs(d1) < 1e-10:
            break
    return _sigmoid(theta)


def _sigmoid(z: float) -> float:
    z = max(-60.0, min(60.0, z))  # separable data drive the fit to infinity: keep exp() finite
    return 1.0 / (1.0 + math.exp(-z))


def _with_interval(point: float, num: int, boots: list[float]) -> MetricValue:
    boots = [b for b in boots if not math.isnan(b)]
    if len(boots) < 2:
        return MetricValue(score=point, num=num)
    avg = sum(boots) / len(boots)
    sd = math.sqrt(sum((b - avg) ** 2 for b in boots) / (len(boots) - 1))
    lo, hi = boots[int(0.025 * (len(boots) - 1))], boots[int(math.ceil(0.975 * (len(boots) - 1)))]
    return MetricValue(score=point, num=num, stderr=sd, ci_low=lo, ci_high=hi)


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa of items each rated by the same number (≥ 2) of raters; None if undefined."""
    items = [list(r) for r in ratings if len(r) >= 2]
    if not items or len({len(r) for r in items}) != 1:
        return None
    n = len(items[0])
    categories = sorted({c for r in items for c in r})
    counts = [Counter(r) for r in items]
    p_item = [(sum(c * c for c in cnt.values()) - n) / (n * (n - 1)) for cnt in counts]
    p_bar = sum(p_item) / len(items)
    shares = [sum(cnt[c] for cnt in counts) / (len(items) * n) for c in categories]
    p_e = sum(s * s for s in shares)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def judge_report(records: Sequence[Any], main: str, panel: Any) -> dict[str, Any]:
    """The report's `extra["judge"]`: how far the judges could be trusted on this benchmark."""
    judged = [r for r in records if "judge" in r.metadata and r.error is None]
    scored = [r for r in judged if r.unscored is None]
    failures: Counter[str] = Counter()
    for r in judged:
        for reason, count in (r.metadata["judge"].get("failures") or {}).items():
            failures[reason] += count
    out: dict[str, Any] = {
        "judges": [c.name for c in panel.clients] if panel is not None else [],
        "judged": len(judged),
        "scored": len(scored),
        "coverage": len(scored) / len(judged) if judged else None,
        "unscored": len(judged) - len(scored),
        "failed_attempts_by_reason": dict(sorted(failures.items())),
        "requests_sent": panel.calls if panel is not None else 0,
        "cache_hits": sum(c.hits for c in panel.clients) if panel is not None else 0,
    }
    flips = [r.metadata["judge"]["position_flip"] for r in judged if "position_flip" in r.metadata["judge"]]
    if flips:
        out["position_flip_rate"] = sum(flips) / len(flips)
        consistent = [r for r in scored if r.metadata["judge"].get("position_flip") == 0]
        if consistent:
            wins = [
                1.0 if s > 0.5 else 0.5 if s == 0.5 else 0.0
                for s in (r.scores.get(main, 0.0) for r in consistent)
            ]
            out["win_rate_position_consistent"] = sum(wins) / len(wins)
            out["position_consistent_pairs"] = len(wins)
    labels = []
    for r in judged:
        by_judge: dict[str, str] = {}
        for a in r.metadata["judge"].get("attempts") or []:
            parsed = a.get("parsed") or {}
            if a.get("repeat") == 0 and a.get("placement") == "original" and "verdict" in parsed:
                by_judge[a["judge"]] = str(parsed["verdict"])
        if len(by_judge) >= 2:
            labels.append(list(by_judge.values()))
    if labels:
        # Fleiss' kappa needs the same raters on every item: one judge failing on one answer must
        # not void the whole figure, so it is taken over the items every judging judge decided.
        raters = max(len(r) for r in labels)
        complete = [r for r in labels if len(r) == raters]
        out["panel_agreement"] = {
            "fleiss_kappa": fleiss_kappa(complete),
            "items": len(complete),
            "items_left_out": len(labels) - len(complete),
        }
    human = [
        (r.scores.get(main), float(r.metadata["human_label"]))
        for r in scored
        if _is_number(r.metadata.get("human_label"))
    ]
    if human:
        agree = sum(1 for j, h in human if j is not None and round(j) == round(h))
        out["human_agreement"] = {"items": len(human), "agreement": agree / len(human),
                                  "pearson": _pearson([j or 0.0 for j, _ in human], [h for _, h in human])}  # fmt: skip
    lengths = [(float(len(r.extracted or "")), r.scores.get(main, 0.0)) for r in scored]
    out["length_correlation"] = _pearson([x for x, _ in lengths], [y for _, y in lengths])
    return out


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return value is not None and not isinstance(value, bool)
