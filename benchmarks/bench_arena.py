"""Bradley-Terry plus bootstrap on a million battles: ours against EvalScope 1.14.1's general_arena code.

    .venv/bin/python benchmarks/bench_arena.py                       # 1,000,000 battles, 1,000 rounds
    .venv/bin/python benchmarks/bench_arena.py --battles 100000 --baseline-rounds 3

Both fit the same battles (10 models, both orders of every pair, a fifth of the verdicts strong, a
few ties) with the baseline anchored at 1000. Ours: `evalscope_native.arena.bradley_terry.bootstrap`
(an MM fit on the m×m win counts; a bootstrap round redraws the counts). EvalScope's:
`compute_mle_elo` + `get_bootstrap_result` from its `general_arena` (a scikit-learn logistic
regression over every battle row, twice duplicated, refitted on each resampled data frame), run in
its own venv (`--baseline-venv`, scikit-learn added). Its rounds are few (`--baseline-rounds`) and
their time per round is multiplied up to `--rounds`: the table says so. The ratings of both are
printed side by side so the speed is compared at equal answers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages" / "evalscope-native" / "src"))

from evalscope_native.arena.bradley_terry import BattleTable, bootstrap  # noqa: E402

MODELS = [f"model-{i}" for i in range(10)]

_BASELINE_SCRIPT = r"""
import json, sys, time
import numpy as np, pandas as pd
from evalscope.benchmarks.general_arena.utils import compute_mle_elo, get_bootstrap_result
data = np.load(sys.argv[1])
models = json.loads(sys.argv[2]); rounds = int(sys.argv[3])
winner = np.array(["model_a", "model_b", "tie"])[data["outcome"]]
reps = data["weight"].astype(int)  # EvalScope's multiplier: a strong verdict is 3 rows
df = pd.DataFrame({"model_a": np.array(models)[data["a"]].repeat(reps),
                   "model_b": np.array(models)[data["b"]].repeat(reps), "winner": winner.repeat(reps)})
t = time.perf_counter(); point = compute_mle_elo(df, baseline_model=models[0]); fit_s = time.perf_counter() - t
t = time.perf_counter(); get_bootstrap_result(df, compute_mle_elo, rounds, baseline_model=models[0], seed=42)
boot_s = time.perf_counter() - t
print(json.dumps({"fit_s": fit_s, "boot_s": boot_s, "rounds": rounds, "rating": point.to_dict()}))
"""


def simulate(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.linspace(1000, 1300, len(MODELS))
    a = rng.integers(0, len(MODELS), n)
    b = (a + rng.integers(1, len(MODELS), n)) % len(MODELS)
    p = 1.0 / (1.0 + 10 ** ((truth[b] - truth[a]) / 400))
    u = rng.random(n)
    outcome = np.where(u < 0.03, 2, np.where(rng.random(n) < p, 0, 1))
    weight = np.where((rng.random(n) < 0.2) & (outcome != 2), 3, 1)
    return {"a": a, "b": b, "outcome": outcome, "weight": weight}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--baseline-rounds", type=int, default=5, help="EvalScope rounds actually run")
    parser.add_argument("--baseline-venv", type=Path, default=Path("/tmp/evalscope-baseline"))
    args = parser.parse_args()
    data = simulate(args.battles, seed=0)

    start = time.perf_counter()
    table = BattleTable.from_arrays(MODELS, data["a"], data["b"], data["outcome"], data["weight"])
    built = time.perf_counter() - start
    ours = bootstrap(table, MODELS[0], rounds=args.rounds, seed=42)
    total = time.perf_counter() - start
    print(f"ours: {args.battles:,} battles, {args.rounds:,} bootstrap rounds: {total:.2f} s "
          f"(table {built:.2f} s, fit + bootstrap {total - built:.2f} s); goal <= 10 s: "
          f"{'met' if total <= 10 else 'MISSED'}")  # fmt: skip

    python = args.baseline_venv / "bin" / "python"
    if not python.exists():
        print(f"EvalScope: skipped ({python} does not exist)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battles.npz"
        np.savez(path, **data)
        proc = subprocess.run(
            [str(python), "-c", _BASELINE_SCRIPT, str(path), json.dumps(MODELS), str(args.baseline_rounds)],
            capture_output=True, text=True,
        )  # fmt: skip
    if proc.returncode != 0:
        print(
            f"EvalScope: failed ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode})"
        )
        return 0
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    per_round = theirs["boot_s"] / theirs["rounds"]
    projected = theirs["fit_s"] + per_round * args.rounds
    print(f"EvalScope 1.14.1: fit {theirs['fit_s']:.2f} s, {theirs['rounds']} bootstrap rounds {theirs['boot_s']:.2f} s "
          f"({per_round:.2f} s a round) → {args.rounds:,} rounds projected {projected:.0f} s "
          f"(EXTRAPOLATED from {theirs['rounds']} rounds)")  # fmt: skip
    print(f"ratio ours / theirs (projected): {total / projected:.4f}")
    print(f"{'model':<10} {'ours':>9} {'EvalScope':>10}")
    for m in MODELS:
        print(f"{m:<10} {ours.rating[m]:>9.2f} {theirs['rating'][m]:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
