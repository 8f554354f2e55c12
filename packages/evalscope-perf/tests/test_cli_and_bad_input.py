"""The `perf` command: registered through the core's hook, lazy `--help`, bad input, Ctrl-C, crashes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("aiohttp", "numpy", "rich", "matplotlib", "tokenizers", "uvloop", "httpx", "orjson", "sqlite3")


def _perf(*args: str) -> list[str]:
    return [sys.executable, "-m", "evalscope.cli.main", "perf", *args]


def test_plugin_registers_the_perf_command() -> None:
    from evalscope import registry

    (spec,) = [s for s in registry.commands().all() if s.name == "perf"]
    assert spec.impl == "evalscope_perf.cli:app" and spec.plugin == "perf"


def test_without_the_plugin_the_core_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core's message when `perf` is missing still works (the plugin's table entry removed):
    it names the install that works (this checkout's package folder, not PyPI's unrelated project)."""
    import re

    from evalscope.cli.main import LazyGroup, app
    from evalscope.distributions import install_hint
    from typer.main import get_command

    monkeypatch.setattr(LazyGroup, "_plugin_table", {})
    group = get_command(app)
    hint = install_hint("evalscope-perf")
    assert "evalscope-perf" in hint
    with pytest.raises(Exception, match=re.escape(hint)):
        group.get_command(None, "perf")  # type: ignore[attr-defined]


def test_help_lists_evalscope_flags_and_imports_nothing_heavy(cli_env: dict[str, str]) -> None:
    probe = (
        "import sys, json\nfrom evalscope.cli.main import main\n"
        "try:\n    main(['perf', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('MODULES=' + json.dumps(sorted(sys.modules)))"
    )
    subprocess.run(
        [sys.executable, "-c", probe], env=cli_env, capture_output=True, timeout=60
    )  # warm the command cache
    res = subprocess.run(
        [sys.executable, "-c", probe], env=cli_env, capture_output=True, text=True, timeout=60
    )
    for flag in ("--url", "--model", "--api", "--api-key", "--parallel", "--number", "--rate", "--dataset",
                 "--dataset-path", "--stream", "--max-tokens", "--min-tokens", "--extra-args", "--headers",
                 "--connect-timeout", "--read-timeout", "--warmup", "--seed", "--name", "--outputs-dir",
                 "--workers", "--tokenizer-path", "--sla-auto-tune", "--goodput"):  # fmt: skip
        assert flag in res.stdout, flag
    line = next(x for x in res.stdout.splitlines() if x.startswith("MODULES="))
    loaded = json.loads(line.removeprefix("MODULES="))
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == [], f"`evalscope perf --help` imported {heavy}"
    assert not any(m.startswith("evalscope_perf.") and m != "evalscope_perf.cli" for m in loaded)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--api", "opnai"], "Unknown --api 'opnai'. Did you mean: 'openai'"),
        (["--dataset", "radnom"], "Unknown --dataset 'radnom'. Did you mean: 'random'"),
        (["--dataset", "line_by_lines"], "Did you mean: 'line_by_line'"),
        (["--parallel", "1", "2", "--number", "1", "2", "3"], "must have the same length"),
        (["--sla-auto-tune", "--sla-params", '[{"p99_tft": "<=2s"}]'], "Did you mean: 'p99_ttft'"),
        (["--goodput", "ttf:100"], "Unknown --goodput metric 'ttf'. Did you mean: 'ttft'"),
        (["--dataset", "random"], "--dataset random needs --tokenizer-path"),
        (["--dataset", "custom"], "--dataset custom needs --dataset-path"),
    ],
)
def test_bad_input_names_the_fix(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evalscope.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(
            [
                "perf",
                "--model",
                "m",
                "--url",
                "http://127.0.0.1:9/v1",
                "--outputs-dir",
                str(tmp_path / "out"),
                *args,
            ]
        )
    assert exc.value.code == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written before the input is valid


def test_unreachable_url_fails_at_once_with_a_clear_message(cli_env: dict[str, str], tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = subprocess.run(
        _perf("--model", "m", "--url", f"http://127.0.0.1:{port}/v1", "--prompt", "hi", "--number", "100000",
              "--parallel", "64", "--outputs-dir", str(tmp_path / "out")),
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2  # as `evalscope eval`: a usage problem found before the run
    assert f"cannot connect to 127.0.0.1:{port}" in res.stderr and "is the model server running" in res.stderr
    assert not (tmp_path / "out").exists()  # failed before any load or output


def test_malformed_dataset_line_names_file_and_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "data.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": "broken"\n', encoding="utf-8")
    res = subprocess.run(
        _perf("--model", "m", "--dataset", "custom", "--dataset-path", str(bad), "--outputs-dir", str(tmp_path / "o")),
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2 and f"{bad}:2: invalid JSON" in res.stderr


def _wait_rows(out: Path, at_least: int, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        for db in out.glob("*/*/*/benchmark_data.db"):
            try:
                with sqlite3.connect(db) as con:
                    if con.execute("SELECT count(*) FROM requests WHERE warmup=0").fetchone()[0] >= at_least:
                        return db
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    raise AssertionError(f"no rows appeared under {out} (exit code {proc.poll()})")


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_ctrl_c_keeps_the_measured_results(
    server: Any, make_cfg: Any, cli_env: dict[str, str], tmp_path: Path, workers: str
) -> None:
    server.configure(ttft=0.01, itl=0.005, tokens=4)
    cfg = make_cfg()
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        _perf("--url", cfg["url"], "--model", "m", "--dataset", "line_by_line", "--dataset-path", cfg["dataset_path"],
              "--parallel", "4", "--number", "1000000", "--outputs-dir", str(out), "--workers", workers, "--no-live"),
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        db = _wait_rows(out, 40, proc)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Interrupted: partial results saved" in stderr and "INTERRUPTED (partial)" in stdout
    summary = json.loads((db.parent / "benchmark_summary.json").read_text())
    assert summary["interrupted"] is True and summary["number"] == 1000000
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT count(*), sum(success) FROM requests WHERE warmup=0").fetchone()
    assert rows[0] == summary["total_requests"] >= 40 and rows[1] == summary["succeeded"]
    assert summary["failed"] == 0  # requests cut off in flight are abandoned, not failures
    assert 0 <= summary["abandoned"] <= 4


def test_a_killed_run_keeps_what_was_committed(
    server: Any, make_cfg: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    server.configure(ttft=0.01, itl=0.005, tokens=4)
    cfg = make_cfg()
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        _perf("--url", cfg["url"], "--model", "m", "--dataset", "line_by_line", "--dataset-path", cfg["dataset_path"],
              "--parallel", "4", "--number", "1000000", "--outputs-dir", str(out), "--no-live"),
        env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        db = _wait_rows(out, 20, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(db) as con:
        n, ok = con.execute("SELECT count(*), sum(success) FROM requests").fetchone()
        ttft = con.execute("SELECT min(ttft) FROM requests WHERE success=1").fetchone()[0]
    assert n >= 20 and ok == n and ttft >= 0.01 - 0.0015
