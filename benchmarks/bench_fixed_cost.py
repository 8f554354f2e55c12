"""The fixed cost of a run: whole `eval` commands of ours, EvalScope 1.14.1 and lm-evaluation-harness 0.4.13.

Each tool runs as a subprocess (its own console script, offline, byte-code in a temporary
PYTHONPYCACHEPREFIX, every cache in a temporary folder) against the same scripted OpenAI-compatible
server (`evalscope.testing`) and the same reply table, in `--rounds` interleaved
rounds (the tools' order rotates each round) after one untimed warm-up run each; each command runs in
its own session, and whatever it leaves running after it exits is stopped (and reported) before the
next is timed. Three figures:

1. a 1-sample `eval` of GSM8K (zero-shot): the whole command, next to `python -c pass` of the same
   interpreter (our goal: within 0.5 s of it);
2. all 1,319 GSM8K test questions, zero-latency server, concurrency 64: the whole command, split by the
   server's wall clock into start-up (process start -> first completion request received), request
   phase (first request -> last reply written) and tail (last reply -> process exit). Goals: whole
   <= 2 s; request phase <= lm-eval's;
3. the same 1,319 against a server answering in 200 ms, concurrency 32: the whole command as a ratio
   to the ideal ceil(1319/32) x 0.2 s (our goal <= 1.05), and the start-up.

The reply table answers every question with a short reasoning, "#### N" and "\\boxed{N}", so each tool's
default GSM8K scoring (EvalScope's boxed-answer parser, ours, lm-eval's strict "#### N" regex) extracts
the same number; N is right for the 1,013 questions with the lowest sha256 of their text and off by one
for the others, so every run must score exactly that (1013/1319) -- a RuntimeError with the log tail
otherwise. lm-eval's gsm8k task reads the hub, so its own task config is rewritten into a temporary
`--include_path` task that reads the local test file (`dataset_path: json`), zero-shot, and it runs as
`local-chat-completions --apply_chat_template` (no tokenizer needed). A baseline whose venv is missing is
skipped with the reason; one that fails is reported (log tail) and dropped, and the exit status is 1.

    .venv/bin/python benchmarks/bench_fixed_cost.py --only ours                 # our column, ~1 min
    .venv/bin/python benchmarks/bench_fixed_cost.py --rounds 2
    .venv/bin/python benchmarks/bench_fixed_cost.py --json /tmp/fixed_cost.json  # 5 rounds

EvalScope 1.14.1 dominates the running time: it scores each GSM8K answer in a process forked for
each Math-Verify call (`evalscope/metrics/math/isolation.py`, forks serialized by a lock), a few
samples/s on 2 cores, so each of its 1,319-question runs takes minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import DEFAULT_VENV, Figure, data_dir, median_min, summary, table
from fidelity.baseline import offline_env
from fidelity.entries import Entry
from fidelity.layout import build_their_folder

CORRECT_SHARE = 1013 / 1319  # what the issue reported for all three tools on the real test split
REPLY = "Let me work through the problem step by step.\n#### {n}\nThe answer is \\boxed{{{n}}}."
DELAY_S = 0.2
PASS_GOAL_S, WHOLE_GOAL_S, RATIO_GOAL = 0.5, 2.0, 1.05
LM_TASK = "gsm8k_local"


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    venv: Path
    script: str

    @property
    def exe(self) -> Path:
        return self.venv / "bin" / self.script


@dataclass(frozen=True)
class Scenario:
    key: str
    limit: int | None  # None: every question
    slow: bool  # the 200 ms server
    concurrency: int


SCENARIOS = (
    Scenario("one", 1, False, 64),
    Scenario("all", None, False, 64),
    Scenario("slow", None, True, 32),
)


@dataclass
class Run:
    tool: str
    scenario: str
    round: int
    seconds: float
    startup: float
    requests_phase: float
    tail: float
    requests: int
    correct: int
    samples: int
    note: str = ""


# -- data and replies --------------------------------------------------------------------------------


def load_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise SystemExit(f"no {path}: set EVALSCOPE_DATA_DIR to the folder holding gsm8k/main/test.jsonl")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def reply_table(rows: Sequence[dict[str, str]]) -> tuple[list[dict[str, str]], list[bool]]:
    """One entry per question (its text as the key) and whether its reply is right."""
    k = round(len(rows) * CORRECT_SHARE)
    by_hash = sorted(range(len(rows)), key=lambda i: hashlib.sha256(rows[i]["question"].encode()).hexdigest())
    right = [False] * len(rows)
    for i in by_hash[:k]:
        right[i] = True
    entries = []
    for row, ok in zip(rows, right, strict=True):
        value = int(row["answer"].rsplit("####", 1)[1].strip().replace(",", ""))
        entries.append({"contains": row["question"], "reply": REPLY.format(n=value if ok else value + 1)})
    return entries, right


def lm_eval_task(venv: Path, test_file: Path, folder: Path) -> Path:
    """lm-eval's own gsm8k task config, reading `test_file` instead of the hub, zero-shot."""
    import yaml

    found = sorted(venv.glob("lib/python*/site-packages/lm_eval/tasks/gsm8k/gsm8k.yaml"))
    if not found:
        raise RuntimeError(f"no lm_eval/tasks/gsm8k/gsm8k.yaml in {venv}")
    task = yaml.safe_load(found[0].read_text(encoding="utf-8"))
    for key in ("tag", "dataset_name", "training_split", "fewshot_split"):  # no train split here
        task.pop(key, None)
    task.update(
        task=LM_TASK,
        dataset_path="json",
        dataset_kwargs={"data_files": {"test": str(test_file)}},
        num_fewshot=0,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{LM_TASK}.yaml").write_text(json.dumps(task, indent=2), encoding="utf-8")  # JSON is YAML
    return folder


# -- the commands --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    ours_data: Path  # <data>/gsm8k
    their_data: Path  # the hub-style folder EvalScope 1.x reads
    lm_tasks: Path | None  # the --include_path folder


def command(tool: Tool, sc: Scenario, base_url: str, out: Path, setup: Setup) -> list[str]:
    limit = [] if sc.limit is None else ["--limit", str(sc.limit)]
    if tool.key == "lmeval":
        assert setup.lm_tasks is not None
        model_args = (f"model=scripted,base_url={base_url}/chat/completions,num_concurrent={sc.concurrency},"
                      "max_retries=1,tokenized_requests=False")  # fmt: skip
        return [str(tool.exe), "--include_path", str(setup.lm_tasks), "--tasks", LM_TASK,
                "--model", "local-chat-completions", "--model_args", model_args, "--apply_chat_template",
                "--output_path", str(out), *limit]  # fmt: skip
    data = setup.ours_data if tool.key == "ours" else setup.their_data
    args = {"gsm8k": {"dataset_id": str(data), "few_shot_num": 0}}
    cmd = [str(tool.exe), "eval", "--model", "scripted", "--api-url", base_url, "--datasets", "gsm8k",
           "--dataset-args", json.dumps(args), "--eval-batch-size", str(sc.concurrency),
           "--work-dir", str(out), *limit]  # fmt: skip
    if tool.key == "evalscope":
        cmd += ["--api-key", "EMPTY", "--eval-type", "openai_api"]
    return cmd


def read_score(tool: Tool, out: Path) -> tuple[int, int, str]:
    """(correct, samples, note) from the run's own report."""
    if tool.key == "lmeval":
        (path,) = out.glob("**/results_*.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        res, n = data["results"][LM_TASK], data["n-samples"][LM_TASK]["effective"]
        strict, flexible = (round(res[f"exact_match,{f}"] * n) for f in ("strict-match", "flexible-extract"))
        return strict, n, "" if flexible == strict else f"flexible-extract gives {flexible}/{n}"
    (path,) = out.glob("**/reports/*/gsm8k.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    for metric in report["metrics"]:
        name = metric.get("identity", {}).get("name") or metric.get("name")
        if name in ("mean_acc", "accuracy", "acc"):
            return round(metric["score"] * metric["num"]), metric["num"], ""
    raise RuntimeError(f"{path}: no accuracy metric")


def tool_env(tool: Tool, tmp: Path) -> dict[str, str]:
    env = offline_env(tmp / f"{tool.key}-caches")
    env.pop("PYTHONPATH", None)
    # Installed packages have byte-code; PYTHONDONTWRITEBYTECODE (set on our dev machines) would make
    # every command compile its modules again. The warm-up fills a private prefix, the same for all.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env.update(
        HOME=str(tmp / f"{tool.key}-home"), EVALSCOPE_CACHE_DIR=str(tmp / f"{tool.key}-caches" / "evalscope")
    )
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def run_once(
    tool: Tool,
    sc: Scenario,
    rnd: int,
    server: Any,
    env: dict[str, str],
    setup: Setup,
    work: Path,
    expected: tuple[int, int],
) -> Run:
    """One timed command; its score and request count are checked against the reply table."""
    out = work / f"{tool.key}-{sc.key}-{rnd}"
    log = out.with_suffix(".log")
    cmd = command(tool, sc, server.base_url, out, setup)
    server.reset_stats()
    with log.open("w", encoding="utf-8") as fh:
        started = time.time()
        t0 = time.perf_counter()
        # Its own session: whatever the command leaves running after it exits (a tool's helper
        # processes) is found and stopped before the next tool is timed, so no run pays for another's.
        proc = subprocess.Popen(
            cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=work, start_new_session=True
        )
        proc.wait(timeout=900)
        seconds = time.perf_counter() - t0
        ended = time.time()
        leftovers = stop_session(proc.pid)
    if leftovers:
        print(f"    ({tool.label} left {leftovers} process(es) running after it exited: stopped)", flush=True)

    def fail(why: str) -> RuntimeError:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        return RuntimeError(f"{tool.label}, {sc.key}, round {rnd}: {why}\n$ {' '.join(cmd)}\n{tail}")

    if proc.returncode != 0:
        raise fail(f"exited {proc.returncode}")
    stats = server.stats()
    try:
        correct, samples, note = read_score(tool, out)
    except (ValueError, KeyError) as exc:  # no report, or two
        raise fail(f"cannot read its score: {exc!r}") from exc
    right, n = expected
    if samples != n or correct != right:
        raise fail(f"scored {correct}/{samples}; the reply table gives {right}/{n}")
    if stats["requests"] < n or stats["first_request_at"] is None:
        raise fail(f"the server counted {stats['requests']} completion requests for {n} samples")
    first, last = stats["first_request_at"], stats["last_reply_at"]
    return Run(tool.key, sc.key, rnd, seconds, first - started, last - first, ended - last,
               stats["requests"], correct, samples, note)  # fmt: skip


def stop_session(sid: int, settle_s: float = 5.0) -> int:
    """Kill the processes still in session `sid` and wait until they are gone; how many there were."""
    import signal

    def members() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # fields[3]: the session id
                found.append(int(entry))
        return found

    left = members()
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + settle_s
    while members() and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(left)


def python_pass(tool: Tool, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(tool.venv / "bin" / "python"), "-c", "pass"], env=env, check=True)
    return time.perf_counter() - t0


# -- the tables ----------------------------------------------------------------------------------------


def cell(values: Sequence[float], unit: str = "s") -> str:
    if not values:
        return "-"
    med, low = median_min(values)
    return f"{med:.3f} {unit} (min {low:.3f})".replace("  ", " ")


def ratio(ours: Sequence[float], theirs: Sequence[float]) -> str:
    if not ours or not theirs:
        return "-"
    return f"{med(ours) / med(theirs):.2f} x"


def med(values: Sequence[float]) -> float:
    return median_min(values)[0]


def report(
    runs: Sequence[Run],
    passes: dict[str, list[float]],
    tools: Sequence[Tool],
    n: int,
    ideal: float,
    rounds: int,
) -> list[Figure]:
    """Print the three tables (median and min per tool, ratios of medians); return our goal figures."""
    keys = [t.key for t in tools]

    def per_tool(sc: str, attr: str, scale: float = 1.0) -> dict[str, list[float]]:
        return {k: [getattr(r, attr) / scale for r in runs if r.tool == k and r.scenario == sc] for k in keys}

    def text_row(name: str, sc: str, what: Any) -> list[str]:
        cells = []
        for k in keys:
            got = sorted({what(r) for r in runs if r.tool == k and r.scenario == sc})
            cells.append(", ".join(got) or "-")
        return [name, *cells, "", "", "", ""]

    def row(name: str, values: dict[str, list[float]], goal: str = "", met: bool | None = None, unit: str = "s") -> list[str]:  # fmt: skip
        verdict = "" if met is None else ("yes" if met else "NO")
        return [name, *(cell(values[k], unit) for k in keys), ratio(values["ours"], values["evalscope"]),
                ratio(values["ours"], values["lmeval"]), goal, verdict]  # fmt: skip

    headers = ["", *(t.label for t in tools), "ours/EvalScope", "ours/lm-eval", "goal (ours)", "met"]
    figures: list[Figure] = []

    def goal(name: str, values: list[float], unit: str, text: str, limit: float) -> bool | None:
        if not values:
            return None
        ok = med(values) <= limit
        figures.append(Figure("fixed_cost", name, med(values), unit, text, ok))
        return ok

    # 1. one sample
    whole = per_tool("one", "seconds")
    over = {k: [w - p for w, p in zip(whole[k], passes[k], strict=False)] for k in keys}
    ok = goal("1-sample eval - python -c pass", over["ours"], "s", f"<= {PASS_GOAL_S} s", PASS_GOAL_S)
    print(f"\n1. 1-sample `eval` of GSM8K (zero-shot), whole command; median (min) over {rounds} rounds")
    print(table(headers, [
        row("whole command", whole),
        row("python -c pass, same interpreter", passes),
        row("command - python -c pass", over, f"<= {PASS_GOAL_S} s", ok),
        text_row("score (correct/samples)", "one", lambda r: f"{r.correct}/{r.samples}"),
    ]))  # fmt: skip
    # 2. every question, zero latency
    whole, phase = per_tool("all", "seconds"), per_tool("all", "requests_phase")
    ok = goal(
        f"GSM8K {n}, zero latency: whole command", whole["ours"], "s", f"<= {WHOLE_GOAL_S} s", WHOLE_GOAL_S
    )
    ok_phase = None  # no goal to check without lm-eval's column
    if phase["lmeval"]:
        name = f"GSM8K {n}, zero latency: request phase"
        ok_phase = goal(name, phase["ours"], "s", "<= lm-eval's", med(phase["lmeval"]))
    print(f"\n2. GSM8K, {n} questions, zero-latency server, concurrency 64; median (min)")
    print(table(headers, [
        row("whole command", whole, f"<= {WHOLE_GOAL_S} s", ok),
        row("start-up (start -> first request)", per_tool("all", "startup")),
        row("request phase (first request -> last reply)", phase, "<= lm-eval's", ok_phase),
        row("tail (last reply -> exit)", per_tool("all", "tail")),
        text_row("completion requests (server)", "all", lambda r: str(r.requests)),
        text_row("score (correct/samples)", "all", lambda r: f"{r.correct}/{r.samples}"),
    ]))  # fmt: skip
    # 3. every question, 200 ms
    to_ideal = per_tool("slow", "seconds", ideal)
    ok = goal(
        f"GSM8K {n}, {DELAY_S * 1000:.0f} ms: whole / ideal",
        to_ideal["ours"],
        "x",
        f"<= {RATIO_GOAL}",
        RATIO_GOAL,
    )
    print(f"\n3. GSM8K, {n} questions, server answering in {DELAY_S * 1000:.0f} ms, concurrency 32; "
          f"ideal ceil({n}/32) x {DELAY_S} s = {ideal:.1f} s; median (min)")  # fmt: skip
    print(table(headers, [
        row("whole command", per_tool("slow", "seconds")),
        row("whole / ideal", to_ideal, f"<= {RATIO_GOAL}", ok, unit="x"),
        row("start-up (start -> first request)", per_tool("slow", "startup")),
        row("request phase / ideal", per_tool("slow", "requests_phase", ideal), unit="x"),
        row("tail (last reply -> exit)", per_tool("slow", "tail")),
        text_row("score (correct/samples)", "slow", lambda r: f"{r.correct}/{r.samples}"),
    ]))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--baseline-venv", type=Path, default=Path("/tmp/evalscope-baseline"))
    ap.add_argument("--lmeval-venv", type=Path, default=Path("/tmp/lmeval-baseline"))
    ap.add_argument("--only", nargs="+", choices=("ours", "evalscope", "lmeval"), help="run only these tools")
    ap.add_argument("--json", type=Path, help="also write the figures and every run here")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal of ours is missed")
    args = ap.parse_args(argv)
    from evalscope.testing import ScriptedServer

    tools = [
        Tool("ours", "ours", args.venv, "evalscope"),
        Tool("evalscope", "EvalScope 1.14.1", args.baseline_venv, "evalscope"),
        Tool("lmeval", "lm-eval 0.4.13", args.lmeval_venv, "lm_eval"),
    ]
    skipped: dict[str, str] = {}
    for tool in tools:
        if args.only and tool.key not in args.only:
            skipped[tool.key] = "not in --only"
        elif not tool.exe.is_file():
            skipped[tool.key] = f"no {tool.exe}"
    active = [t for t in tools if t.key not in skipped]

    test_file = data_dir() / "gsm8k" / "main" / "test.jsonl"
    rows = load_rows(test_file)
    entries, right = reply_table(rows)
    expected = {sc.key: (sum(right[: sc.limit or len(rows)]), sc.limit or len(rows)) for sc in SCENARIOS}
    ideal = math.ceil(len(rows) / 32) * DELAY_S
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {len(rows)} GSM8K "
          f"questions, {sum(right)} scripted right; {args.rounds} rounds", flush=True)  # fmt: skip

    runs: list[Run] = []
    passes: dict[str, list[float]] = {t.key: [] for t in tools}
    failed = False
    config = {"model": "scripted", "entries": entries}
    with (
        tempfile.TemporaryDirectory(prefix="bench-fixed-cost-") as tmp_name,
        ScriptedServer(config) as fast,
        ScriptedServer({**config, "delay_s": DELAY_S}) as slow,
    ):
        tmp = Path(tmp_name)
        lm_tasks = None
        if "lmeval" not in skipped:
            lm_tasks = lm_eval_task(args.lmeval_venv, test_file, tmp / "lm-tasks")
        their = Entry("gsm8k", args={"few_shot_num": 0})
        their_data = tmp / "their-gsm8k"
        if "evalscope" not in skipped:
            build_their_folder(their, test_file.parents[1], their_data)
        setup = Setup(test_file.parents[1], their_data, lm_tasks)
        envs = {t.key: tool_env(t, tmp) for t in active}
        work = tmp / "runs"
        work.mkdir()

        def attempt(tool: Tool, sc: Scenario, rnd: int) -> Run | None:
            nonlocal failed
            if tool.key in skipped:
                return None
            server = slow if sc.slow else fast
            try:
                return run_once(tool, sc, rnd, server, envs[tool.key], setup, work, expected[sc.key])
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                if tool.key == "ours":
                    raise
                print(f"ERROR: {exc}", flush=True)  # a baseline's failure is a finding; keep our figures
                skipped[tool.key] = f"failed ({str(exc).splitlines()[0]})"
                failed = True
                return None

        for tool in active:  # untimed: the file cache, byte-code, lm-eval's datasets cache
            attempt(tool, SCENARIOS[0], 0)
        for rnd in range(1, args.rounds + 1):
            order = active[rnd % len(active) :] + active[: rnd % len(active)]
            for tool in order:
                if tool.key not in skipped:
                    passes[tool.key].append(python_pass(tool, envs[tool.key]))
            for sc in SCENARIOS:
                for tool in order:
                    run = attempt(tool, sc, rnd)
                    if run is not None:
                        runs.append(run)
                        print(f"  round {rnd} {sc.key:4} {tool.key:9} {run.seconds:7.3f} s  start-up "
                              f"{run.startup:6.3f}  requests {run.requests_phase:6.3f}  tail {run.tail:6.3f}  "
                              f"{run.correct}/{run.samples}", flush=True)  # fmt: skip

    figures = report(runs, passes, tools, len(rows), ideal, args.rounds)
    for tool in tools:
        if tool.key in skipped:
            print(f"({tool.label}: skipped, {skipped[tool.key]})")
    if any(r.tool == "lmeval" for r in runs):
        notes = sorted({f"{r.scenario}: {r.note}" for r in runs if r.tool == "lmeval" and r.note})
        print(
            f"(lm-eval's score is its strict-match exact_match; flexible-extract {'; '.join(notes) or 'agrees'})"
        )
    print("\n" + summary(figures))
    if args.json:
        doc = {"rounds": args.rounds, "cpus": os.cpu_count(), "questions": len(rows), "ideal_slow_s": ideal,
               "skipped": skipped, "python_pass_s": passes, "figures": [asdict(f) for f in figures],
               "runs": [asdict(r) for r in runs]}  # fmt: skip
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    missed = any(f.ok is False for f in figures)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
