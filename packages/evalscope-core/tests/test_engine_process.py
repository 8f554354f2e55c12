"""The engine runner against real child processes: logs, exit codes, time limits, secrets, stragglers."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from evalscope.engines.process import EngineFailed, run_engine


def _run(tmp_path: Path, code: str, **kw: object) -> Path:
    log = tmp_path / "engine.log"
    run_engine(
        [sys.executable, "-c", code],
        log_path=log,
        env=dict(os.environ),
        cwd=tmp_path,
        timeout_s=kw.get("timeout_s", 60.0),  # type: ignore[arg-type]
        idle_timeout_s=kw.get("idle_timeout_s", 60.0),  # type: ignore[arg-type]
        secrets=kw.get("secrets", ()),  # type: ignore[arg-type]
        what="test engine",
    )
    return log


def test_output_goes_to_the_log_with_secrets_hidden(tmp_path: Path) -> None:
    log = _run(tmp_path, "import sys; print('key sk-very-secret'); print('on stderr', file=sys.stderr)",
               secrets=["sk-very-secret"])  # fmt: skip
    text = log.read_text()
    assert "key ***" in text and "on stderr" in text
    assert "sk-very-secret" not in text.split("\n", 1)[1], "only the command line (first line) may hold argv"


def test_nonzero_exit_names_the_log(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed) as err:
        _run(tmp_path, "print('boom'); raise SystemExit(7)")
    assert err.value.returncode == 7
    assert str(tmp_path / "engine.log") in str(err.value)
    assert "boom" in (tmp_path / "engine.log").read_text()


def test_silent_child_and_its_workers_are_killed(tmp_path: Path) -> None:
    """An engine stuck on a silent server: killed after idle_timeout_s, with the worker it forked."""
    pid_file = tmp_path / "worker.pid"
    code = (
        "import subprocess, sys, time\n"
        "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(w.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    with pytest.raises(EngineFailed) as err:
        _run(tmp_path, code, idle_timeout_s=2.0)
    assert "printed nothing for 2 s" in str(err.value)
    worker = int(pid_file.read_text())
    assert _dies_within(worker, 30.0), "the forked worker must go with the engine's process group"
    assert "process group was killed" in (tmp_path / "engine.log").read_text()


def _dies_within(pid: int, seconds: float) -> bool:
    """True once `pid` is gone or a zombie (SIGKILL is delivered at once, the exit is asynchronous)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_time_limit(tmp_path: Path) -> None:
    code = "import time\nwhile True:\n    print('busy', flush=True); time.sleep(0.2)\n"
    with pytest.raises(EngineFailed) as err:
        _run(tmp_path, code, timeout_s=2.0, idle_timeout_s=60.0)
    assert "time limit (2 s)" in str(err.value)


def test_scrub_secrets_in_files_the_engine_wrote(tmp_path: Path) -> None:
    from evalscope.engines.process import scrub_secrets

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "run.log").write_text("API Key: sk-abcdef\n")
    (tmp_path / "status.json").write_text('{"ok": true}')
    (tmp_path / "image.png").write_bytes(b"sk-abcdef")  # not a text file the engine logs to: left alone
    assert scrub_secrets(tmp_path, ["sk-abcdef", ""]) == 1
    assert (tmp_path / "logs" / "run.log").read_text() == "API Key: ***\n"
    assert (tmp_path / "image.png").read_bytes() == b"sk-abcdef"
