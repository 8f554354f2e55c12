"""Bradley-Terry on synthetic truth: known strengths, a simulated judge, hundreds of seeded worlds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from evalscope_native.arena.bradley_terry import Battle, BattleTable, bootstrap, elo, fit

MODELS = [f"model-{i}" for i in range(10)]


def _simulate(rng: np.random.Generator, truth: np.ndarray, prompts: int = 500) -> BattleTable:
    """Every pair on every prompt, both orders; a judge that picks by the Bradley-Terry probability,
    says `>>` (weight 3) for a fifth of its verdicts whatever the answers; no ties (a tie is half a
    win each way, which the Bradley-Terry model has no probability for: ties are counted by the
    strong-verdict test and the logistic-regression test below)."""
    m = len(truth)
    pairs = np.array([(i, j) for i in range(m) for j in range(m) if i != j])  # both orders
    a = np.repeat(pairs[:, 0], prompts)
    b = np.repeat(pairs[:, 1], prompts)
    p_a = 1.0 / (1.0 + 10 ** ((truth[b] - truth[a]) / 400))
    outcome = np.where(rng.random(len(a)) < p_a, 0, 1)
    weight = np.where(rng.random(len(a)) < 0.2, 3.0, 1.0)
    return BattleTable.from_arrays(MODELS, a, b, outcome, weight)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


@pytest.mark.slow
def test_ratings_and_intervals_recover_the_truth_over_600_worlds() -> None:
    """600 seeded worlds (the issue asks for at least 200): with 9 intervals per world sharing one
    baseline, 200 worlds pin the coverage only to about ±1.5 points; 600 to about ±0.8."""
    spearman, covered, intervals = [], 0, 0
    for world in range(600):
        rng = np.random.default_rng(world)
        truth = np.sort(rng.normal(1000, 60, len(MODELS)))
        truth += 1000 - truth[0]  # model-0, the weakest, is the baseline at 1000
        table = _simulate(rng, truth)
        ratings = bootstrap(table, MODELS[0], rounds=500, seed=world)
        got = np.array([ratings.rating[m] for m in MODELS])
        spearman.append(_spearman(got, truth))
        true_rate = 1.0 / (1.0 + 10 ** ((truth[0] - truth) / 400))
        for i, name in enumerate(MODELS[1:], start=1):
            lo, hi = ratings.ci[name]
            covered += lo <= true_rate[i] <= hi
            intervals += 1
    coverage = covered / intervals
    assert float(np.mean(spearman)) >= 0.98, np.mean(spearman)
    assert 0.93 <= coverage <= 0.97, coverage


def test_strong_verdicts_and_ties_count_as_arena_hard_counts() -> None:
    # a beats b once strongly (3 wins), b beats a once (1 win), one tie (half each): 3.5 vs 1.5
    battles = [Battle("a", "b", "a", 3.0), Battle("a", "b", "b", 1.0), Battle("b", "a", "tie", 1.0)]
    ratings = fit(BattleTable.from_battles(battles), baseline="b", prior=0.0)
    assert ratings.win_rate["a"] == pytest.approx(3.5 / 5.0, abs=1e-6)
    assert ratings.rating["b"] == 1000.0
    assert ratings.rating["a"] == pytest.approx(1000 + 400 * math.log10(3.5 / 1.5), abs=1e-3)


def test_a_clean_sweep_stays_finite_and_seeded_intervals_repeat() -> None:
    battles = [Battle("x", "base", "a")] * 20
    swept = bootstrap(BattleTable.from_battles(battles), "base", rounds=50, seed=3)
    assert math.isfinite(swept.rating["x"]) and swept.win_rate["x"] > 0.999
    rng = np.random.default_rng(7)
    table = _simulate(rng, np.linspace(1000, 1300, 10), prompts=20)
    first, second = (
        bootstrap(table, MODELS[0], rounds=200, seed=11),
        bootstrap(table, MODELS[0], rounds=200, seed=11),
    )
    assert first.ci == second.ci and first.rating == second.rating


def test_elo_orders_models_like_bradley_terry() -> None:
    rng = np.random.default_rng(5)
    truth = np.linspace(1000, 1300, 10)
    table = _simulate(rng, truth, prompts=30)
    battles = [
        Battle(MODELS[int(a)], MODELS[int(b)], ("a", "b", "tie")[int(o)], float(w))
        for (a, b, o), w, c in zip(table.cells, table.weights, table.counts, strict=True)
        for _ in range(int(c))
    ]
    online = elo(battles, MODELS[0])
    assert online[MODELS[0]] == 1000.0
    assert _spearman(np.array([online[m] for m in MODELS]), truth) > 0.9


def _logistic_regression_ratings(table: BattleTable, baseline: int) -> np.ndarray:
    """Arena-Hard's estimator written out: a logistic regression over battle rows (win = 1, loss = 0,
    a tie half a row each way; a row's weight its verdict's), no regularisation, no intercept,
    fitted by Newton's method; the baseline's coefficient is the zero point."""
    m = len(table.models)
    rows, ys, ws = [], [], []
    for (a, b, o), w, c in zip(table.cells, table.weights, table.counts, strict=True):
        x = np.zeros(m)
        x[a], x[b] = 1.0, -1.0
        for y, share in ((1.0, {0: 1.0, 1: 0.0, 2: 0.5}[int(o)]), (0.0, {0: 0.0, 1: 1.0, 2: 0.5}[int(o)])):
            if share:
                rows.append(x)
                ys.append(y)
                ws.append(w * c * share)
    keep = [i for i in range(m) if i != baseline]
    x, y, w = np.array(rows)[:, keep], np.array(ys), np.array(ws)
    beta = np.zeros(m - 1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        step = np.linalg.solve((x * (w * p * (1 - p))[:, None]).T @ x, x.T @ (w * (y - p)))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    coef = np.zeros(m)
    coef[keep] = beta
    return 1000.0 + 400.0 / math.log(10) * coef


def test_the_fit_is_the_unregularised_logistic_regression_maximum() -> None:
    """The MM fit on win counts lands on the same maximum as Arena-Hard's logistic regression over
    rows, with its default pseudo-count (negligible here) and without it, ties and `>>` included."""
    rng = np.random.default_rng(23)
    n = 20_000
    a = rng.integers(0, 6, n)
    b = (a + rng.integers(1, 6, n)) % 6
    truth = np.array([1000, 1040, 980, 1110, 1200, 1060])
    p = 1.0 / (1.0 + 10 ** ((truth[b] - truth[a]) / 400))
    outcome = np.where(rng.random(n) < 0.1, 2, np.where(rng.random(n) < p, 0, 1))
    weight = np.where((rng.random(n) < 0.2) & (outcome != 2), 3.0, 1.0)
    table = BattleTable.from_arrays(MODELS[:6], a, b, outcome, weight)
    expected = _logistic_regression_ratings(table, baseline=2)
    for prior in (0.0, 1e-3):
        got = fit(table, MODELS[2], prior=prior)
        assert [got.rating[m] for m in MODELS[:6]] == pytest.approx(list(expected), abs=0.01)
        assert got.rating[MODELS[2]] == 1000.0


def test_length_control_takes_out_a_judge_taste_for_long_answers() -> None:
    """A judge that likes long answers: `verbose` is no better than the baseline but writes longer,
    `better` writes like the baseline but is 100 points stronger. Length control brings `verbose`
    back to an even win rate and leaves `better` where it was."""
    from types import SimpleNamespace

    from evalscope_native.arena.results import leaderboard

    rng = np.random.default_rng(31)
    strength = {"verbose": 0.0, "better": 100.0, "base": 0.0}
    records = []
    for q in range(1500):
        for model in ("verbose", "better"):
            la = int(rng.integers(300, 900)) if model == "verbose" else int(rng.integers(100, 400))
            lb = int(rng.integers(100, 400))
            gap = (la - lb) / (la + lb)
            logit = (strength[model] - strength["base"]) * math.log(10) / 400 + 3.0 * gap
            games = [{"result": "win" if rng.random() < 1 / (1 + math.exp(-logit)) else "loss", "strong": False}
                     for _ in range(2)]  # fmt: skip
            meta = {"model_1": model, "model_2": "base", "answer_1": "x" * la, "answer_2": "y" * lb,
                    "dataset": "qa", "subset": "default", "question_id": str(q), "baseline": "base",
                    "bootstrap_rounds": 20, "judge": {"games": games}}  # fmt: skip
            records.append(SimpleNamespace(metadata=meta, unscored=None, error=None))
    board = leaderboard(records, seed=0)
    rows = {r["model"]: r for r in board["overall"]}
    assert board["length_coefficient"] > 0.5
    assert rows["verbose"]["win_rate"] > 0.6  # the raw figure credits the length
    assert rows["verbose"]["length_controlled_win_rate"] == pytest.approx(0.5, abs=0.04)
    true_better = 1 / (1 + 10 ** (-100 / 400))
    assert rows["better"]["win_rate"] == pytest.approx(true_better, abs=0.04)
    assert rows["better"]["length_controlled_win_rate"] == pytest.approx(true_better, abs=0.04)
    assert rows["base"]["length_controlled_rating"] == 1000.0
