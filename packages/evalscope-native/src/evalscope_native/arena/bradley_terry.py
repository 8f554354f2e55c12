"""Ratings from pairwise battles: Bradley-Terry by maximum likelihood, bootstrap intervals, Elo.

Arena-Hard's definitions throughout: a strong verdict (`A>>B`) counts as three wins, a tie as half a
win each way; ratings on the Elo scale (scale 400, base 10) with the baseline anchored at 1000; the
win rate against the baseline is the Bradley-Terry probability `1 / (1 + 10 ** ((R_base - R) / 400))`.

Why not a logistic regression over battle rows (Arena-Hard, EvalScope): the likelihood depends on the
battles only through the weighted win counts of each ordered pair, so the fit runs on an m×m matrix
— Hunter's (2004) MM iteration, which converges to the same maximum — and a bootstrap round is a
multinomial redraw of those counts instead of a resample of a million rows. 1,000 rounds over
1,000,000 battles take about a second, and all rounds are fitted at once as one array.

A model that won (or lost) every one of its battles has no finite maximum-likelihood rating; a
pseudo-count of `prior` wins each way on every observed pair (default 1e-3, negligible otherwise)
keeps it finite and large, instead of the arbitrary +400 that EvalScope 1.14.1 gives a clean sweep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Battle", "BattleTable", "Ratings", "elo", "fit", "bootstrap"]

SCALE, BASE, ANCHOR = 400.0, 10.0, 1000.0


@dataclass(frozen=True)
class Battle:
    """One judgment of `a` against `b`: `winner` is "a", "b" or "tie"; `weight` 3 for a strong verdict."""

    a: str
    b: str
    winner: str
    weight: float = 1.0


@dataclass
class BattleTable:
    """Battles aggregated into cells (a, b, outcome, weight) with their counts — all a fit needs."""

    models: list[str]
    cells: Any  # int array (k, 3): index of a, index of b, outcome (0 a wins, 1 b wins, 2 tie)
    weights: Any  # float array (k,): the weight of a battle in that cell
    counts: Any  # int array (k,): how many battles fell in the cell

    @classmethod
    def from_battles(cls, battles: Sequence[Battle], models: Sequence[str] | None = None) -> BattleTable:
        import numpy as np

        names = list(models) if models is not None else sorted({m for b in battles for m in (b.a, b.b)})
        index = {m: i for i, m in enumerate(names)}
        tally: dict[tuple[int, int, int, float], int] = {}
        outcome = {"a": 0, "b": 1, "tie": 2}
        for b in battles:
            key = (index[b.a], index[b.b], outcome[b.winner], float(b.weight))
            tally[key] = tally.get(key, 0) + 1
        keys = list(tally)
        cells = np.array([k[:3] for k in keys], dtype=np.int64).reshape(-1, 3)
        return cls(
            names, cells, np.array([k[3] for k in keys]), np.array([tally[k] for k in keys], dtype=np.int64)
        )

    @classmethod
    def from_arrays(cls, models: Sequence[str], a: Any, b: Any, outcome: Any, weight: Any) -> BattleTable:
        """From parallel arrays (model indexes, outcome 0/1/2, weight): for simulations and big logs."""
        import numpy as np

        stacked = np.stack(
            [np.asarray(a), np.asarray(b), np.asarray(outcome), np.asarray(weight) * 1000], axis=1
        )
        keys, counts = np.unique(stacked.astype(np.int64), axis=0, return_counts=True)
        return cls(list(models), keys[:, :3], keys[:, 3] / 1000.0, counts)

    @property
    def n_battles(self) -> int:
        return int(self.counts.sum())

    def wins(self, counts: Any) -> Any:
        """W[r, i, j]: weighted wins of i over j for each row of `counts` (shape (rounds, k))."""
        import numpy as np

        m = len(self.models)
        a, b, o = self.cells[:, 0], self.cells[:, 1], self.cells[:, 2]
        # Each cell adds its weight to W[a, b] (a won; half for a tie) and to W[b, a]: one matrix
        # product turns every round's cell counts into its win matrix.
        spread = np.zeros((len(self.weights), m * m))
        rows = np.arange(len(self.weights))
        np.add.at(spread, (rows, a * m + b), self.weights * np.where(o == 0, 1.0, np.where(o == 2, 0.5, 0.0)))
        np.add.at(spread, (rows, b * m + a), self.weights * np.where(o == 1, 1.0, np.where(o == 2, 0.5, 0.0)))
        return (np.asarray(counts, dtype=float) @ spread).reshape(-1, m, m)


@dataclass
class Ratings:
    models: list[str]
    rating: dict[str, float]
    win_rate: dict[str, float]  # against the baseline
    baseline: str
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # win rate 95 % interval
    rating_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    rounds: int = 0

    def leaderboard(self) -> list[dict[str, Any]]:
        rows = []
        for m in sorted(self.models, key=lambda x: -self.rating[x]):
            lo, hi = self.ci.get(m, (math.nan, math.nan))
            rows.append({"model": m, "rating": self.rating[m], "win_rate": self.win_rate[m],
                         "win_rate_lower": lo, "win_rate_upper": hi})  # fmt: skip
        return rows


def _mm(wins: Any, prior: float, iterations: int = 5_000, tol: float = 1e-9) -> Any:
    """Bradley-Terry strengths for each round: wins (R, m, m) → log10-strengths (R, m), mean 0."""
    import numpy as np

    played = (wins + wins.transpose(0, 2, 1)) > 0
    w = wins + prior * played  # a pseudo-count on observed pairs only: a sweep stays finite
    games = w + w.transpose(0, 2, 1)
    total_wins = w.sum(axis=2)
    p = np.ones(w.shape[:2])
    for _ in range(iterations):
        denom = (games / (p[:, :, None] + p[:, None, :])).sum(axis=2)
        new = np.where(denom > 0, total_wins / np.maximum(denom, 1e-300), p)
        new = np.maximum(new, 1e-300)
        new /= np.exp(np.log(new).mean(axis=1, keepdims=True))  # fix the scale: geometric mean 1
        done = np.max(np.abs(np.log(new) - np.log(p))) < tol
        p = new
        if done:
            break
    return np.log10(p)


def _to_ratings(log_strength: Any, anchor_index: int) -> Any:
    return SCALE * (log_strength - log_strength[..., anchor_index : anchor_index + 1]) + ANCHOR


def _win_rate(ratings: Any, anchor_index: int) -> Any:
    import numpy as np

    base = ratings[..., anchor_index : anchor_index + 1]
    return 1.0 / (1.0 + np.power(BASE, (base - ratings) / SCALE))


def fit(table: BattleTable, baseline: str, prior: float = 1e-3) -> Ratings:
    """The maximum-likelihood ratings, the baseline at 1000, and every model's win rate against it."""
    import numpy as np

    if baseline not in table.models:
        raise ValueError(f"baseline {baseline!r} played no battle")
    anchor = table.models.index(baseline)
    strengths = _mm(table.wins(table.counts[None, :].astype(float)), prior)[0]
    ratings = _to_ratings(strengths, anchor)
    rates = _win_rate(ratings, anchor)
    return Ratings(
        models=list(table.models),
        rating={m: float(ratings[i]) for i, m in enumerate(table.models)},
        win_rate={m: float(rates[i]) for i, m in enumerate(table.models)},
        baseline=baseline,
    ) if np.all(np.isfinite(ratings)) else _undefined(table, baseline)  # fmt: skip


def bootstrap(
    table: BattleTable, baseline: str, rounds: int = 100, seed: int = 0, prior: float = 1e-3
) -> Ratings:
    """`fit` plus seeded bootstrap 95 % percentile intervals (battles redrawn with replacement)."""
    import numpy as np

    point = fit(table, baseline, prior)
    if rounds <= 0 or table.n_battles == 0:
        return point
    rng = np.random.default_rng(seed)
    shares = table.counts / table.counts.sum()
    draws = rng.multinomial(table.n_battles, shares, size=rounds).astype(float)
    anchor = table.models.index(baseline)
    ratings = _to_ratings(_mm(table.wins(draws), prior), anchor)
    rates = _win_rate(ratings, anchor)
    point.ci = {m: (float(np.percentile(rates[:, i], 2.5)), float(np.percentile(rates[:, i], 97.5)))
                for i, m in enumerate(table.models)}  # fmt: skip
    point.rating_ci = {m: (float(np.percentile(ratings[:, i], 2.5)), float(np.percentile(ratings[:, i], 97.5)))
                       for i, m in enumerate(table.models)}  # fmt: skip
    point.rounds = rounds
    return point


def _undefined(table: BattleTable, baseline: str) -> Ratings:
    nan = {m: math.nan for m in table.models}
    return Ratings(list(table.models), dict(nan), dict(nan), baseline)


def elo(battles: Sequence[Battle], baseline: str, k: float = 4.0) -> dict[str, float]:
    """Online Elo in battle order (Chatbot Arena's `compute_elo`, K=4), shifted so the baseline is 1000."""
    rating: dict[str, float] = {}
    for b in battles:
        ra, rb = rating.setdefault(b.a, ANCHOR), rating.setdefault(b.b, ANCHOR)
        expected = 1.0 / (1.0 + BASE ** ((rb - ra) / SCALE))
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[b.winner]
        for _ in range(int(round(b.weight))):
            delta = k * (score - expected)
            rating[b.a] += delta
            rating[b.b] -= delta
            ra, rb = rating[b.a], rating[b.b]
            expected = 1.0 / (1.0 + BASE ** ((rb - ra) / SCALE))
    shift = ANCHOR - rating.get(baseline, ANCHOR)
    return {m: r + shift for m, r in rating.items()}
