"""Where the run went: printed at start and end, and on Ctrl-C with the command that resumes it.

Also the run-folder mistakes (`--use-cache` typo, a file given as a folder), unknown `--dataset-args`
keys, EvalScope keys this edition lacks, and progress lines when stderr is not a terminal.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
from evalscope.testing import ScriptedServer
from evalscope_native.models.scripted import DEMO_TABLE
from native_helpers import evalscope_cmd

SCRIPTED = json.loads(DEMO_TABLE.read_text(encoding="utf-8"))
GSM8K = ["--datasets", "gsm8k", "--dataset-args", '{"gsm8k": {"few_shot_num": 0}}']


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(evalscope_cmd(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=180)


def test_the_run_folder_is_printed_at_start_and_end(tmp_path: Path, cli_env: dict[str, str]) -> None:
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--limit", "2"], cli_env, tmp_path)
    assert res.returncode == 0, res.stderr
    (run_dir,) = (tmp_path / "outputs").iterdir()
    rel = f"outputs/{run_dir.name}"
    lines = res.stderr.splitlines()
    assert lines[0] == f"evalscope: run folder: {rel}"
    assert lines[-1] == f"evalscope: results in {rel} (reports/, reviews/, predictions/, logs/)"


def test_ctrl_c_prints_the_resume_command_and_it_resumes(tmp_path: Path, cli_env: dict[str, str]) -> None:
    key = "sk-PLANTED-resume-0123456789"
    with ScriptedServer({**SCRIPTED, "delay_s": 0.05}) as srv:
        args = ["eval", "--model", "scripted", "--api-url", srv.base_url, "--api-key", key, *GSM8K]
        args += ["--limit", "300", "--eval-batch-size", "2"]
        env = {**cli_env, "EVALSCOPE_PROGRESS_INTERVAL": "0.05"}  # progress lines tell us how far it got
        proc = subprocess.Popen(
            evalscope_cmd(*args), env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("evalscope: run folder: outputs/"), first
        run_dir = tmp_path / first.split("run folder: ")[1].strip()
        predictions = run_dir / "predictions" / "scripted" / "gsm8k.jsonl"
        for line in proc.stderr:
            done = re.match(r"^\S+: (\d+)/300 ", line)
            if done and int(done.group(1)) >= 5:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted; the answers received so far are kept in" in err
        (resume,) = re.findall(r"resume with: (evalscope .*?)(?:   \(put your key|$)", err, re.M)
        assert key not in err and "--api-key '***'" in resume
        answered = predictions.read_text().count("\n")
        assert 5 <= answered < 300
        # An interrupted run is a failure mode too: the key is in none of the files it left.
        leaked = [p for p in run_dir.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
        assert leaked == [], leaked

        srv.reset_stats()
        words = shlex.split(resume)
        words[words.index("--api-key") + 1] = key  # the user puts the key back, as the message says
        res = _run(words[1:], cli_env, tmp_path)
        assert res.returncode == 0, res.stderr
        assert srv.stats()["requests"] == 300 - answered, "answered samples must not be asked again"
    assert f"--use-cache {run_dir.relative_to(tmp_path)}" in resume


def test_a_mistyped_use_cache_folder_fails_with_the_run_folders_nearby(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--limit", "1"], cli_env, tmp_path)
    assert res.returncode == 0, res.stderr
    (run_dir,) = (tmp_path / "outputs").iterdir()
    typo = f"outputs/{run_dir.name[:-1]}"
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--use-cache", typo], cli_env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert f"--use-cache {typo}: no such run folder. Did you mean: outputs/{run_dir.name}?" in res.stderr
    assert len(list((tmp_path / "outputs").iterdir())) == 1, "nothing new may be created"


def test_a_file_given_as_a_folder_is_a_clear_error(tmp_path: Path, cli_env: dict[str, str]) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0\n")
    for flag, expected in (("--work-dir", "is a file; it must be a folder"), ("--use-cache", "is a file")):
        res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", flag, str(a_file)], cli_env, tmp_path)
        assert res.returncode == 2, res.stderr
        assert f"{flag} {a_file} {expected}" in res.stderr and "Traceback" not in res.stderr
    assert a_file.read_text() == "root:x:0:0\n"


def test_a_work_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """`/proc` passes every check made beforehand (it exists, and root may write there), yet no folder can be
    made in it: the mkdir's failure is an input error too, not a traceback."""
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc")
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--limit", "1", "--work-dir", "/proc/nope/x"],
               cli_env, tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "--work-dir" in res.stderr and "/proc/nope" in res.stderr


def test_dataset_args_for_an_unknown_benchmark_fail(tmp_path: Path, cli_env: dict[str, str]) -> None:
    args = ["eval", "--model", "mock_llm", "--datasets", "arc", "--limit", "1"]
    res = _run([*args, "--dataset-args", '{"arcc": {"subset_list": ["ARC-Easy"]}}'], cli_env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert (
        "--dataset-args has settings for 'arcc', which is not a benchmark. Did you mean 'arc'?" in res.stderr
    )
    assert not (tmp_path / "outputs").exists()
    # Settings for a real benchmark this run does not select are kept for other runs: a warning, not fatal.
    res = _run([*args, "--dataset-args", '{"gsm8k": {"few_shot_num": 0}}'], cli_env, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "--dataset-args has settings for gsm8k, which is not in --datasets (arc)" in res.stderr


def test_an_evalscope_key_not_built_here_says_so(tmp_path: Path, cli_env: dict[str, str]) -> None:
    cfg = tmp_path / "task.yaml"
    cfg.write_text("model: mock_llm\ndatasets: [arc]\nanalysis_report: true\n")
    res = _run(["eval", "--config", str(cfg)], cli_env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert "unknown key 'analysis_report': EvalScope's model-written analysis" in res.stderr
    assert "not supported by this edition" in res.stderr


def test_progress_lines_without_a_terminal(tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "EVALSCOPE_PROGRESS_INTERVAL": "0.2"}
    with ScriptedServer({**SCRIPTED, "delay_s": 0.05}) as srv:
        args = ["eval", "--model", "scripted", "--api-url", srv.base_url, *GSM8K, "--limit", "40"]
        res = _run([*args, "--eval-batch-size", "2"], env, tmp_path)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("GSM8K: ") or ln.startswith("gsm8k: ")]
    assert len(lines) >= 2, res.stderr
    pattern = re.compile(r"^\S+: (\d+)/40 \(\d+%\), [\d.]+ samples/s, 0 failed, \d+:\d\d elapsed")
    counts = [int(m.group(1)) for ln in lines if (m := pattern.match(ln))]
    assert len(counts) == len(lines), lines
    assert counts == sorted(counts) and counts[-1] == 40
