"""From judged battles to figures: per-subset win rates (metrics), the leaderboard, the battles file.

The judge's games of a record (`metadata.judge.games`, one per order it was asked in) become
`Battle`s of `model_1` against `model_2`; `bradley_terry.py` rates them. Three metrics give the
report rows EvalScope users know — `winrate`, `winrate_lower`, `winrate_upper` — for any set of
records: the candidate's Bradley-Terry win rate against the arena's baseline, fitted over all the
models that play in those records, with a seeded bootstrap interval (`bootstrap_rounds`, default
100 as EvalScope). They declare `pools = True`: a category's or the overall figure is fitted on the
pooled battles, not averaged from subsets.

`leaderboard` is the run-level view (`reports/<model>/leaderboard.txt`, `Report.extra["arena"]`):
every model's rating, win rate with its interval, online Elo, and the length-controlled rating —
Arena-Hard's style control: the same fit with the answers' normalised length difference as a
covariate, so a judge's taste for long answers is not credited to the model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from evalscope.scoring import MetricValue
from evalscope_native.arena.bradley_terry import Battle, BattleTable, bootstrap, elo

__all__ = ["battles_file", "battles_of", "leaderboard", "leaderboard_text", "winrate", "winrate_lower",
           "winrate_upper"]  # fmt: skip


def battles_of(records: Sequence[Any]) -> list[Battle]:
    out = []
    for r in records:
        meta = r.metadata
        for game in (meta.get("judge") or {}).get("games") or []:
            winner = {"win": "a", "loss": "b", "tie": "tie"}[game["result"]]
            out.append(Battle(meta["model_1"], meta["model_2"], winner, 3.0 if game["strong"] else 1.0))
    return out


def _fit(records: Sequence[Any], seed: int) -> tuple[Any, list[str]]:
    battles = battles_of(records)
    if not battles:
        return None, []
    meta = records[0].metadata
    baseline = meta.get("baseline") or meta["model_2"]
    table = BattleTable.from_battles(battles)
    if baseline not in table.models:
        baseline = meta["model_2"]
    rounds = int(meta.get("bootstrap_rounds", 100))
    candidates = sorted({r.metadata["model_1"] for r in records} - {baseline})
    return bootstrap(table, baseline, rounds=rounds, seed=seed), candidates


def _figure(records: Sequence[Any], seed: int, pick: str) -> MetricValue:
    ratings, candidates = _fit(records, seed)
    if ratings is None or not candidates:
        return MetricValue(score=math.nan, num=len(records))
    values = []
    for c in candidates:
        lo, hi = ratings.ci.get(c, (math.nan, math.nan))
        values.append({"point": ratings.win_rate[c], "lower": lo, "upper": hi}[pick])
    score = sum(values) / len(values)
    if pick != "point":
        return MetricValue(score=score, num=len(records))
    los = [ratings.ci.get(c, (math.nan, math.nan))[0] for c in candidates]
    his = [ratings.ci.get(c, (math.nan, math.nan))[1] for c in candidates]
    one = len(candidates) == 1
    return MetricValue(
        score=score, num=len(records), ci_low=los[0] if one else None, ci_high=his[0] if one else None
    )


def winrate(values: Sequence[float], weights: Sequence[float] = (), *, seed: int = 0, records: Sequence[Any] = (),
            **_: Any) -> MetricValue:  # fmt: skip
    return _figure(records, seed, "point")


def winrate_lower(values: Sequence[float], weights: Sequence[float] = (), *, seed: int = 0,
                  records: Sequence[Any] = (), **_: Any) -> MetricValue:  # fmt: skip
    return _figure(records, seed, "lower")


def winrate_upper(values: Sequence[float], weights: Sequence[float] = (), *, seed: int = 0,
                  records: Sequence[Any] = (), **_: Any) -> MetricValue:  # fmt: skip
    return _figure(records, seed, "upper")


for _metric in (winrate, winrate_lower, winrate_upper):
    _metric.pools = True  # type: ignore[attr-defined]


def leaderboard(records: Sequence[Any], seed: int) -> dict[str, Any]:
    """The arena's figures over all its battles, overall and per dataset and subset."""
    scored = [r for r in records if r.unscored is None and r.error is None]
    if not scored:
        return {"overall": [], "skipped_questions": _skipped(records)}
    baseline = scored[0].metadata.get("baseline") or scored[0].metadata["model_2"]
    battles = battles_of(scored)
    table = BattleTable.from_battles(battles)
    rounds = int(scored[0].metadata.get("bootstrap_rounds", 100))
    ratings = bootstrap(table, baseline, rounds=rounds, seed=seed)
    online = elo(battles, baseline)
    controlled = _style_controlled(scored, table.models, baseline)
    overall = []
    for row in ratings.leaderboard():
        row["elo"] = online.get(row["model"])
        row["length_controlled_rating"] = controlled["rating"].get(row["model"])
        row["length_controlled_win_rate"] = controlled["win_rate"].get(row["model"])
        overall.append(row)
    by_dataset: dict[str, list[Any]] = {}
    by_subset: dict[str, list[Any]] = {}
    for r in scored:
        by_dataset.setdefault(r.metadata["dataset"], []).append(r)
        by_subset.setdefault(f"{r.metadata['dataset']}&{r.metadata['subset']}", []).append(r)
    return {
        "baseline": baseline,
        "bootstrap_rounds": rounds,
        "battles": len(battles),
        "length_coefficient": controlled["coefficient"],
        "overall": overall,
        "datasets": {k: _board(v, baseline, rounds, seed) for k, v in sorted(by_dataset.items())},
        "subsets": {k: _board(v, baseline, rounds, seed) for k, v in sorted(by_subset.items())},
        "skipped_questions": _skipped(records),
    }


def _board(records: Sequence[Any], baseline: str, rounds: int, seed: int) -> list[dict[str, Any]]:
    table = BattleTable.from_battles(battles_of(records))
    if baseline not in table.models:
        return []
    return bootstrap(table, baseline, rounds=rounds, seed=seed).leaderboard()


def _skipped(records: Sequence[Any]) -> list[str]:
    for r in records:
        if "skipped_questions" in r.metadata:
            return list(r.metadata["skipped_questions"])
    return []


def _style_controlled(records: Sequence[Any], models: list[str], baseline: str) -> dict[str, Any]:
    """Bradley-Terry with a length covariate (logistic regression, IRLS): ratings at equal length."""
    import numpy as np

    index = {m: i for i, m in enumerate(models)}
    rows, ys, ws = [], [], []
    for r in records:
        meta = r.metadata
        la, lb = len(meta.get("answer_1") or ""), len(meta.get("answer_2") or "")
        gap = (la - lb) / (la + lb) if la + lb else 0.0
        for game in (meta.get("judge") or {}).get("games") or []:
            weight = 3.0 if game["strong"] else 1.0
            rows.append((index[meta["model_1"]], index[meta["model_2"]], gap))
            ys.append({"win": 1.0, "loss": 0.0, "tie": 0.5}[game["result"]])
            ws.append(weight)
    if not rows:
        return {"rating": {}, "win_rate": {}, "coefficient": None}
    m = len(models)
    x = np.zeros((len(rows), m + 1))
    for k, (a, b, gap) in enumerate(rows):
        x[k, a] += 1.0
        x[k, b] -= 1.0
        x[k, m] = gap
    spread = float(x[:, m].std()) or 1.0
    x[:, m] /= spread
    keep = [i for i in range(m + 1) if i != index[baseline]]  # the baseline's strength is the zero point
    x = x[:, keep]
    y, w = np.array(ys), np.array(ws)
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (y - p))
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    strengths = dict.fromkeys(models, 0.0)
    for col, i in enumerate(keep[:-1]):
        strengths[models[i]] = float(beta[col])
    scale = 400.0 / math.log(10)
    rating = {mod: 1000.0 + scale * s for mod, s in strengths.items()}
    rate = {mod: 1.0 / (1.0 + 10 ** ((rating[baseline] - r) / 400)) for mod, r in rating.items()}
    return {"rating": rating, "win_rate": rate, "coefficient": float(beta[-1])}


def leaderboard_text(board: dict[str, Any]) -> str:
    """EvalScope's `leaderboard.txt`: overall, per-dataset and per-subset tables (win rate %, CI)."""

    def table(title: str, rows: list[dict[str, Any]]) -> str:
        lines = [f"=== {title} ===", f"{'Model':<32} {'WinRate (%)':>11}  CI (%)"]
        for row in rows:
            wr, lo, hi = row["win_rate"] * 100, row["win_rate_lower"] * 100, row["win_rate_upper"] * 100
            ci = "" if math.isnan(lo) else f"({lo - wr:+.1f} / {hi - wr:+.1f})"
            lines.append(f"{row['model']:<32} {wr:>11.1f}  {ci}")
        return "\n".join(lines)

    parts = [table("OVERALL", board.get("overall") or [])]
    parts += [table(f"DATASET: {k}", v) for k, v in (board.get("datasets") or {}).items()]
    parts += [table(f"SUBSET: {k}", v) for k, v in (board.get("subsets") or {}).items()]
    return "\n\n".join(parts) + "\n"


def battles_file(records: Sequence[Any]) -> str:
    """Every judgment, both orders, one JSON line each: enough to recompute every figure."""
    lines = []
    for r in records:
        meta = r.metadata
        for attempt in (meta.get("judge") or {}).get("attempts") or []:
            lines.append(json.dumps({
                "dataset": meta["dataset"], "subset": meta["subset"], "question_id": meta["question_id"],
                "model_a": meta["model_1"], "model_b": meta["model_2"], "judge": attempt["judge"],
                "repeat": attempt["repeat"], "placement": attempt["placement"],
                "verdict": (attempt.get("parsed") or {}).get("verdict"), "error": attempt.get("error"),
            }, ensure_ascii=False))  # fmt: skip
    return "".join(line + "\n" for line in lines)
