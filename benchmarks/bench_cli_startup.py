"""Wall time of `evalscope --help` and `evalscope eval --help` against a bare `python -c pass`.

Each command runs `--runs` times (default 15) in a fresh process, the commands interleaved so that
a noisy moment hurts them all alike, after one untimed run each to warm the file cache. Printed:
median and min per command, and the ratio of medians to the interpreter's own start-up. The goal is
`evalscope --help` under 0.25 s. With `--baseline-venv DIR` the public EvalScope 1.x installed in
that virtual environment is timed too (see benchmarks/README.md for how to create one).

    .venv/bin/python benchmarks/bench_cli_startup.py
    .venv/bin/python benchmarks/bench_cli_startup.py --baseline-venv /tmp/evalscope-baseline
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import DEFAULT_VENV, Figure, median_min, table

GOAL_S = 0.25


def _commands(venv: Path, baseline: Path | None) -> dict[str, list[str]]:
    cmds = {
        "python -c pass": [str(venv / "bin" / "python"), "-c", "pass"],
        "evalscope --help": [str(venv / "bin" / "evalscope"), "--help"],
        "evalscope eval --help": [str(venv / "bin" / "evalscope"), "eval", "--help"],
    }
    if baseline is not None:
        cmds["baseline: python -c pass"] = [str(baseline / "bin" / "python"), "-c", "pass"]
        cmds["baseline: evalscope --help"] = [str(baseline / "bin" / "evalscope"), "--help"]
        cmds["baseline: evalscope eval --help"] = [str(baseline / "bin" / "evalscope"), "eval", "--help"]
    return cmds


def _time_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}: {' / '.join(err)}")
    return elapsed


def measure(runs: int = 15, venv: Path = DEFAULT_VENV, baseline: Path | None = None) -> list[Figure]:
    cmds = _commands(venv, baseline)
    for cmd in cmds.values():
        if not Path(cmd[0]).is_file():
            raise SystemExit(f"{cmd[0]} not found: is {Path(cmd[0]).parents[1]} a virtual environment?")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # measure the installed console scripts, nothing borrowed from here
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for cmd in cmds.values():  # warm the file cache (and any .pyc writing) outside the timing
        _time_once(cmd, env)
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(_time_once(cmd, env))

    figures = []
    rows = []
    for name, values in times.items():
        med, low = median_min(values)
        python = "baseline: python -c pass" if name.startswith("baseline:") else "python -c pass"
        ratio = med / statistics.median(times[python])
        rows.append([name, f"{med:.3f} s", f"{low:.3f} s", f"{ratio:.1f} x"])
        if name.endswith("--help"):
            is_goal = name == "evalscope --help"
            figures.append(
                Figure(
                    "cli startup",
                    f"{name} (median)",
                    med,
                    "s",
                    f"< {GOAL_S} s" if is_goal else "",
                    (med < GOAL_S) if is_goal else None,
                )
            )
    figures.append(
        Figure("cli startup", "python -c pass (median)", median_min(times["python -c pass"])[0], "s")
    )
    print(f"\nCLI start-up, {runs} fresh processes each (goal: evalscope --help < {GOAL_S} s)")
    print(table(["command", "median", "min", "vs python -c pass"], rows))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="the venv whose evalscope is timed")
    parser.add_argument("--baseline-venv", type=Path, help="a venv with the public evalscope 1.x installed")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    figures = measure(args.runs, args.venv, args.baseline_venv)
    return 1 if args.strict and any(f.ok is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
