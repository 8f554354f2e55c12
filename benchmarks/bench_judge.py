"""Wall time of a judged run: `evalscope eval` of SimpleQA with an LLM judge, cold and warm, vs EvalScope 1.x.

N synthetic SimpleQA rows (a throw-away `default/test.jsonl`; a third answered correctly, a third
wrongly, a third "I don't know"), the model and the judge each a zero-latency scripted server
(`evalscope.testing`; the judge answers EvalScope's grader prompt by the rules of
`evalscope_native.testing.judge_rules`), the whole CLI command timed as a subprocess,
`--eval-batch-size 64`, after an untimed warm-up run of 64 samples per tool (file cache; byte-code
written to a temporary PYTHONPYCACHEPREFIX):

1. cold: a fresh `EVALSCOPE_CACHE_DIR`, so every verdict is asked for;
2. rerun, same command: the model is asked again, the verdicts come from the cross-run judge cache
   (`$EVALSCOPE_CACHE_DIR/judge`); the judge server must count 0 requests;
3. rerun with `--use-cache <cold run folder>`: predictions reused too; 0 requests to either server.

The same three commands of the public EvalScope (`--baseline-venv`, default /tmp/evalscope-baseline;
skipped with the reason when missing) run offline in the same call, with its typed `--judge` object.
It has no cross-run verdict cache, so its plain rerun asks the judge again. Each run's report must
show N samples, no errors and the expected share of correct answers. Goals: cold <= 30 s, the
warm-cache rerun (3.) <= 5 s; the plain rerun (2.) asks the model everything again and has none.

    .venv/bin/python benchmarks/bench_judge.py --samples 500          # a quick check
    .venv/bin/python benchmarks/bench_judge.py --json /tmp/judge.json  # 10,000 samples, ~minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import DEFAULT_VENV, table
from evalscope_native.testing.judge_rules import judge_config
from fidelity.baseline import offline_env

COLD_GOAL_S, WARM_GOAL_S = 30.0, 5.0
RUNS = ("cold", "rerun, same command", "rerun, --use-cache")
MODEL_SERVER: dict[str, Any] = {
    "model": "scripted",
    "entries": [
        {"contains": "(group 0)", "reply": "The answer is Paris."},  # judged CORRECT
        {"contains": "(group 1)", "reply": "I believe it is Lyon."},  # INCORRECT
    ],
    "default_reply": "I don't know.",  # NOT_ATTEMPTED
}
JUDGE_SERVER: dict[str, Any] = judge_config({"seed": 1})


@dataclass
class Run:
    tool: str
    run: str
    samples: int
    seconds: float
    model_requests: int
    judge_requests: int
    folder: str

    @property
    def rate(self) -> float:
        return self.samples / self.seconds


def write_fixture(root: Path, n: int) -> Path:
    """`<root>/default/test.jsonl`: the hub's fields, `metadata` a Python literal as on the hub."""
    (root / "default").mkdir(parents=True, exist_ok=True)
    with (root / "default" / "test.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            problem = f"Question {i}: in which city does landmark number {i} stand? (group {i % 3})"
            meta = "{'topic': 'Geography', 'answer_type': 'Place', 'urls': []}"
            fh.write(json.dumps({"problem": problem, "answer": "Paris", "metadata": meta}) + "\n")
    return root


def command(
    exe: Path, model_url: str, judge_url: str, data: Path, work: Path, batch: int, ours: bool
) -> list[str]:
    judge_model = {"model_id": "judge", "api_url": judge_url, "api_key": "EMPTY"}
    cmd = [str(exe), "eval", "--model", "scripted", "--api-url", model_url, "--datasets", "simple_qa",
           "--dataset-args", json.dumps({"simple_qa": {"dataset_id": str(data)}}),
           "--eval-batch-size", str(batch), "--work-dir", str(work)]  # fmt: skip
    if ours:  # EvalScope 1.x's flat spelling, which we accept
        return [*cmd, "--judge-model-args", json.dumps(judge_model)]
    judge = {"strategy": "auto", "models": [judge_model]}
    return [*cmd, "--api-key", "EMPTY", "--eval-type", "openai_api", "--judge", json.dumps(judge)]


def check_report(folder: Path, n: int) -> None:
    """N samples, no errors, and the scripted share of correct answers (ceil(N/3)), in either schema."""
    (path,) = folder.glob("reports/*/simple_qa.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    for metric in report["metrics"]:
        name = metric.get("identity", {}).get("name") or metric["name"]
        if name.endswith("is_correct"):
            correct = round(metric["score"] * metric["num"])
            if metric["num"] != n or correct != (n + 2) // 3 or report.get("num_errors", 0):
                raise RuntimeError(
                    f"{path}: {metric['num']} samples, {correct} correct, {report.get('num_errors')} errors; "
                    f"expected {n} samples, {(n + 2) // 3} correct"
                )
            return
    raise RuntimeError(f"{path}: no is_correct metric")


def timed(
    cmd: list[str], env: dict[str, str], work: Path, log: Path, servers: tuple[Any, Any]
) -> tuple[float, int, int, Path]:
    """Seconds, model and judge requests (server-counted) and the run folder of one command."""
    for srv in servers:
        srv.reset_stats()
    before = set(work.iterdir()) if work.is_dir() else set()
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, timeout=3600
        )
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:2])} exited {proc.returncode}:\n{tail}")
    made = sorted(set(work.iterdir()) - before)
    folder = made[-1] if made else Path(cmd[cmd.index("--use-cache") + 1])
    model, judge = (srv.stats()["requests"] for srv in servers)
    return seconds, model, judge, folder


def measure(exe: Path, tool: str, n: int, tmp: Path, batch: int, servers: tuple[Any, Any]) -> list[Run]:
    ours = tool == "ours"
    data = write_fixture(tmp / f"{tool}-data", n)
    env = offline_env(tmp / f"{tool}-caches")
    env.pop("PYTHONPATH", None)
    # An installed package has byte-code; where PYTHONDONTWRITEBYTECODE is set (as on our dev machines)
    # every command would compile ~1,200 modules first (~0.8 s). The warm-up fills a private prefix.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env.update(HOME=str(tmp / f"{tool}-home"), EVALSCOPE_CACHE_DIR=str(tmp / f"{tool}-caches" / "evalscope"))
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    model_url, judge_url = servers[0].base_url, servers[1].base_url
    # Untimed warm-up of a few samples in its own cache and work folder: the file cache and .pyc files.
    warm = tmp / f"{tool}-warmup"
    small = write_fixture(warm / "data", min(n, 64))
    timed(command(exe, model_url, judge_url, small, warm / "out", batch, ours),
          {**env, "EVALSCOPE_CACHE_DIR": str(warm / "cache")}, warm / "out", warm / "log.txt", servers)  # fmt: skip
    work = tmp / f"{tool}-out"
    cmd = command(exe, model_url, judge_url, data, work, batch, ours)
    runs: list[Run] = []
    for label in RUNS:
        extra = ["--use-cache", runs[0].folder] if label.endswith("--use-cache") else []
        seconds, model, judge, folder = timed(
            [*cmd, *extra], env, work, tmp / f"{tool}-{len(runs)}.log", servers
        )
        check_report(folder, n)
        runs.append(Run(tool, label, n, seconds, model, judge, str(folder)))
        print(f"  {tool:9} {label:20} {seconds:7.2f} s  model requests {model:6}  judge requests {judge:6}",
              flush=True)  # fmt: skip
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=10_000, help="rows of the SimpleQA fixture")
    ap.add_argument("--baseline-samples", type=int, help="cap EvalScope's runs (times are then extrapolated)")
    ap.add_argument("--baseline-venv", type=Path, default=Path("/tmp/evalscope-baseline"))
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--eval-batch-size", type=int, default=64)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    from evalscope.testing import ScriptedServer

    n, n_base = args.samples, min(args.baseline_samples or args.samples, args.samples)
    baseline = args.baseline_venv / "bin" / "evalscope"
    skipped = "" if baseline.is_file() else f"no {baseline}: EvalScope's column is skipped"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {n} samples, "
          f"--eval-batch-size {args.eval_batch_size}, zero-latency model and judge", flush=True)  # fmt: skip
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-judge-") as tmp_name,
        ScriptedServer(MODEL_SERVER) as model,
        ScriptedServer(JUDGE_SERVER) as judge,
    ):
        tmp = Path(tmp_name)
        runs += measure(args.venv / "bin" / "evalscope", "ours", n, tmp, args.eval_batch_size, (model, judge))
        if not skipped:
            try:  # a failure of theirs is a finding to print, not a reason to lose our figures
                runs += measure(baseline, "evalscope", n_base, tmp, args.eval_batch_size, (model, judge))
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                skipped = f"EvalScope failed: {exc}"

    ours = {r.run: r for r in runs if r.tool == "ours"}
    theirs = {r.run: r for r in runs if r.tool == "evalscope"}
    scale = n / n_base  # 1.0 unless EvalScope was capped
    rows, missed = [], []
    mark = "*" if scale != 1 else ""
    for label in RUNS:
        o, t = ours[label], theirs.get(label)
        # The goals are the issue's: the cold run, and the warm-cache rerun (`--use-cache`: every cache
        # warm). The plain rerun asks the model all N questions again, so it has no goal of its own.
        goal = {RUNS[0]: COLD_GOAL_S, RUNS[2]: WARM_GOAL_S}.get(label)
        if goal is not None and o.seconds > goal:
            missed.append(label)
        t_s = t.seconds * scale if t else None
        met = "-" if goal is None else "NO" if o.seconds > goal else "yes"
        rows.append([label, f"{o.seconds:.2f} s", f"{o.rate:.0f}", f"{o.judge_requests}",
                     f"{t_s:.2f} s{mark}" if t_s else "-", f"{t.rate:.0f}" if t else "-", f"{t.judge_requests}" if t else "-",
                     f"{o.seconds / t_s:.2f} x" if t_s else "-", "-" if goal is None else f"<= {goal:.0f} s", met])  # fmt: skip
    print(
        f"\nJudged SimpleQA, whole `evalscope eval` command, {n} samples, --eval-batch-size {args.eval_batch_size}"
    )
    print(table(["run", "ours", "samples/s", "judge reqs", "EvalScope 1.x", "samples/s", "judge reqs",
                 "ours/theirs", "goal (ours)", "met"], rows))  # fmt: skip
    if skipped:
        print(f"({skipped})")
    elif scale != 1:
        print(
            f"(* EvalScope ran {n_base} samples; its seconds are EXTRAPOLATED linearly x{scale:.2f} to {n})"
        )
    rerun, reuse = ours[RUNS[1]], ours[RUNS[2]]
    cache_missed = rerun.judge_requests + reuse.judge_requests + reuse.model_requests > 0
    if cache_missed:
        print("ERROR: a rerun sent requests its caches should have answered (judge requests on a rerun, "
              "or model requests with --use-cache)")  # fmt: skip
    if args.json:
        figures = {"samples": n, "baseline_samples": n_base, "eval_batch_size": args.eval_batch_size,
                   "cpus": os.cpu_count(), "baseline_skipped": skipped, "runs": [
                       {k: v for k, v in asdict(r).items() if k != "folder"} | {"samples_per_s": r.rate}
                       for r in runs]}  # the run folders were temporary  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if cache_missed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
