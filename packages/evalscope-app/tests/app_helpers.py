"""Helpers of the app's tests (importable: pytest's `pythonpath` names this folder): the run folders the
real engines write for them, and `evalscope app` started as a process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR") or REPO.parent / "shared" / "data")
CHROMIUM = Path("/usr/bin/chromium")
SECRET = "sk-apptest-9f8e7d6c5b4a39281706"
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
GSM8K_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


@dataclass
class Runs:
    root: Path
    ids: dict[str, str] = field(default_factory=dict)  # name -> run id (path under root)
    gsm8k_rows: list[dict[str, Any]] = field(default_factory=list)
    flip: dict[str, str] = field(default_factory=dict)  # which sample flips which way

    def folder(self, name: str) -> Path:
        return self.root / self.ids[name]

    def review(self, name: str, model: str, bench: str) -> list[dict[str, Any]]:
        path = self.folder(name) / "reviews" / model / f"{bench}.jsonl"
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _only_run(folder: Path) -> Path:
    (run,) = [p for p in folder.iterdir() if p.is_dir()]
    return run


def _gsm8k_runs(runs: Runs, work: Path) -> None:
    """alpha and beta answer 4 GSM8K questions: 0 both right (beta's reply carries an XSS payload),
    1 alpha right / beta wrong, 2 alpha wrong / beta right, 3 both wrong."""
    from evalscope import run_task
    from evalscope.testing import ScriptedServer

    rows = [json.loads(x) for x in (DATA_DIR / "gsm8k" / "main" / "test.jsonl").read_text().splitlines()[:4]]
    runs.gsm8k_rows = rows
    right = {"alpha": {0, 1}, "beta": {0, 2}}
    for model in ("alpha", "beta"):
        entries = []
        for i, row in enumerate(rows):
            target = row["answer"].split("####")[-1].strip()
            answer = target if i in right[model] else str(int(target.replace(",", "")) * 2 + 7)
            quality = 8 if model == "alpha" else 4  # what the scripted judge compares in the arena
            reply = f"{model} works it out step by step (QUALITY:{quality}).\n\\boxed{{{answer}}}"
            if model == "beta" and i == 0:
                reply = f"{XSS} so \\boxed{{{answer}}}"
            entries.append({"contains": row["question"] + GSM8K_SUFFIX, "reply": reply})
        with ScriptedServer({"model": model, "entries": entries}) as server:
            run_task({"model": model, "api_url": server.base_url, "api_key": SECRET, "datasets": ["gsm8k"],
                      "limit": 4, "dataset_args": {"gsm8k": {"few_shot_num": 0}},
                      "work_dir": str(work / "gsm8k" / model)})  # fmt: skip
        runs.ids[model] = _only_run(work / "gsm8k" / model).relative_to(work).as_posix()
    runs.flip = {"alpha_only": "main/1", "beta_only": "main/2"}


def _judged_run(runs: Runs, work: Path) -> None:
    from evalscope import run_task
    from evalscope.testing import ScriptedServer
    from evalscope_native.testing.judge_rules import judge_config

    data = work.parent / "simple_qa_data" / "default"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text("".join(json.dumps(
        {"problem": f"What is the capital of country {i}?", "answer": f"City{i}", "metadata": "{'topic': 'Geo'}"}) + "\n"
        for i in range(3)), encoding="utf-8")  # fmt: skip
    entries = [
        {"contains": f"country {i}?", "reply": ["It is City0.", "I don't know.", "It is Atlantis."][i]}
        for i in range(3)
    ]
    with ScriptedServer({"model": "quizzer", "entries": entries}) as model, \
            ScriptedServer(judge_config({"seed": 1})) as judge:  # fmt: skip
        run_task({"model": "quizzer", "api_url": model.base_url, "datasets": ["simple_qa"],
                  "dataset_args": {"simple_qa": {"local_path": str(data.parent)}},
                  "judge_model_args": {"model_id": "judge", "api_url": judge.base_url, "api_key": SECRET},
                  "work_dir": str(work / "judged")})  # fmt: skip
    runs.ids["judged"] = _only_run(work / "judged").relative_to(work).as_posix()


def _code_run(runs: Runs, work: Path) -> None:
    from evalscope import run_task
    from evalscope.testing import ScriptedServer

    rows = [
        json.loads(x)
        for x in (DATA_DIR / "humaneval" / "openai_humaneval" / "test.jsonl").read_text().splitlines()[:2]
    ]
    entries = [
        {"contains": rows[0]["prompt"][:200], "reply": "```python\n" + rows[0]["prompt"] + rows[0]["canonical_solution"] + "```"},
        {"contains": rows[1]["prompt"][:200], "reply": "```python\nimport sys\nprint('model wrote this', file=sys.stderr)\nraise SystemExit(3)\n```"},
    ]  # fmt: skip
    with ScriptedServer({"model": "coder", "entries": entries}) as server:
        run_task({"model": "coder", "api_url": server.base_url, "datasets": ["humaneval"], "limit": 2,
                  "work_dir": str(work / "code")})  # fmt: skip
    runs.ids["code"] = _only_run(work / "code").relative_to(work).as_posix()


def _arena_run(runs: Runs, work: Path) -> None:
    """The arena pairs alpha's and beta's GSM8K answers (any benchmark both answered works)."""
    from evalscope import run_task
    from evalscope.testing import ScriptedServer
    from evalscope_native.testing.judge_rules import judge_config

    models = [{"name": m, "report_path": str(runs.folder(m) / "reports" / m)} for m in ("alpha", "beta")]
    with ScriptedServer(judge_config({"seed": 3})) as judge:
        run_task({"model_id": "Arena", "datasets": ["general_arena"],
                  "dataset_args": {"general_arena": {"extra_params": {"models": models, "baseline": "beta"}}},
                  "judge_model_args": {"model_id": "judge", "api_url": judge.base_url},
                  "work_dir": str(work / "arena")})  # fmt: skip
    runs.ids["arena"] = _only_run(work / "arena").relative_to(work).as_posix()


def _collection_run(runs: Runs, work: Path) -> None:
    from evalscope import run_task
    from evalscope.collections import CollectionSchema, DatasetInfo, WeightedSampler, dump_jsonl_data
    from evalscope.testing import ScriptedServer

    schema = CollectionSchema(name="mix", datasets=[
        DatasetInfo(name="gsm8k", task_type="math", tags=["en", "math"], args={"few_shot_num": 0}),
        DatasetInfo(name="arc", task_type="reasoning", tags=["en", "mcq"], args={"subset_list": ["ARC-Easy"]}),
    ])  # fmt: skip
    mix = work.parent / "mix.jsonl"
    dump_jsonl_data(WeightedSampler(schema, seed=1, data_dir=DATA_DIR).sample(6), str(mix))
    # Every other sample answered right (a letter for multiple choice, a boxed number for GSM8K).
    entries = []
    for i, line in enumerate(mix.read_text(encoding="utf-8").splitlines()):
        prompt = json.loads(line)["prompt"]
        target = prompt["target"] if i % 2 == 0 else "999999"
        reply = f"ANSWER: {target}" if prompt.get("choices") else f"\\boxed{{{target}}}"
        entries.append({"contains": prompt["input"][-1]["content"], "reply": reply})
    with ScriptedServer({"model": "mixer", "entries": entries}) as server:
        run_task({"model": "mixer", "api_url": server.base_url, "datasets": ["data_collection"],
                  "dataset_args": {"data_collection": {"local_path": str(mix)}},
                  "work_dir": str(work / "collection")})  # fmt: skip
    runs.ids["collection"] = _only_run(work / "collection").relative_to(work).as_posix()


def _perf_run(runs: Runs, work: Path) -> None:
    from evalscope.testing import ScriptedServer
    from evalscope_perf import run_perf_benchmark

    prompts = work.parent / "prompts.txt"
    prompts.write_text("".join(f"question {i}\n" for i in range(8)), encoding="utf-8")
    with ScriptedServer({"model": "fake-model", "ttft": 0.002, "itl": 0.001, "tokens": 8}) as server:
        run_perf_benchmark({"url": server.base_url, "model": "fake-model", "dataset": "line_by_line",
                            "dataset_path": str(prompts), "parallel": [1, 2], "number": [4, 4], "max_tokens": 8,
                            "sleep_interval": 0, "api_key": SECRET, "outputs_dir": str(work / "perf"),
                            "live": False})  # fmt: skip
    (stamp,) = list((work / "perf").iterdir())
    runs.ids["perf"] = (stamp / "fake-model").relative_to(work).as_posix()


def _broken_run(runs: Runs, work: Path) -> None:
    """A run folder with a report cut short, a foreign JSON file and a review with a torn line."""
    src = runs.folder("alpha")
    dst = work / "broken" / "20260101_000000"
    shutil.copytree(src, dst)
    report = dst / "reports" / "alpha" / "gsm8k.json"
    report.write_text(report.read_text()[:150], encoding="utf-8")
    (dst / "reports" / "alpha" / "notes.json").write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    reviews = dst / "reviews" / "alpha" / "gsm8k.jsonl"
    reviews.write_text(
        reviews.read_text() + '{"schema_version": 2, "benchmark": "gsm8k", "subs', encoding="utf-8"
    )
    runs.ids["broken"] = dst.relative_to(work).as_posix()


@dataclass
class App:
    url: str
    proc: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)  # what it printed before serving


def start_app(*args: str, env: dict[str, str] | None = None) -> App:
    """`evalscope app ... --server-port 0` in a subprocess; returns once it prints its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "evalscope.cli.main", "app", *args, "--server-port", "0"],
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        m = re.search(r"serving at (\S+)", line)
        if m:
            return App(m.group(1), proc, lines)
    proc.wait(timeout=10)
    raise AssertionError("evalscope app did not start:\n" + "".join(lines))


def stop_app(app: App) -> None:
    app.proc.terminate()
    try:
        app.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait()
    if app.proc.stderr is not None:
        app.proc.stderr.close()


def make_runs(work: Path) -> Runs:
    """Every kind of run folder, written by the real engines under `work`."""
    result = Runs(root=work)
    for make in (_gsm8k_runs, _judged_run, _code_run, _arena_run, _collection_run, _perf_run, _broken_run):
        make(result, work)
    # A symlink inside --outputs that points outside it: the server must refuse to follow it.
    (work / "escape").symlink_to("/etc", target_is_directory=True)
    return result
