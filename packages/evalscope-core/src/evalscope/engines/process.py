"""Run an engine's interpreter as a child process: its output goes to a log file, it can never hang us.

The engine runs in its own virtual environment (its dependency pins clash with ours), so it is always a
subprocess. Three things make that safe to drive from a test suite or a CI job:

* **Output to a file, read by a thread.** stdout and stderr are merged and copied line by line into the
  engine log in our run folder, with secrets replaced by `***` on the way (engines log API keys); a pipe
  that nobody reads would block the child once its buffer fills.
* **Two clocks.** `timeout_s` bounds the whole run; `idle_timeout_s` kills a child that has printed
  nothing for that long (a request stuck on a silent server: OpenCompass's HTTP client has no timeout).
* **A process group.** The child starts a session of its own and is killed with its whole group, so the
  workers an engine forks do not outlive it.

A child that exits non-zero, or is killed, raises `EngineFailed` naming the log file.

It lives in the core so that each engine plugin installs alone on top of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evalscope.errors import EvalScopeError

__all__ = ["EngineFailed", "EngineResult", "run_engine", "scrub_secrets"]


class EngineFailed(EvalScopeError):
    """The engine process failed: exited non-zero, timed out, or went silent. Carries the log path."""

    def __init__(self, message: str, log_path: Path, returncode: int | None, hint: str | None = None) -> None:
        super().__init__(f"{message} (engine log: {log_path})", hint)
        self.reason = message  # the message without the log path
        self.log_path = log_path
        self.returncode = returncode


@dataclass(frozen=True)
class EngineResult:
    returncode: int
    log_path: Path
    elapsed_s: float


def run_engine(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float | None,
    idle_timeout_s: float | None,
    secrets: Sequence[str] = (),
    what: str = "engine",
) -> EngineResult:
    """Run `argv`; return on exit code 0, raise `EngineFailed` otherwise (after killing the group)."""
    from evalscope.secrets import redact_message, register_secrets

    log_path.parent.mkdir(parents=True, exist_ok=True)
    register_secrets(secrets)
    last_output = [time.monotonic()]
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        log.write(redact_message(f"$ {' '.join(argv)}\n"))
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        stdout = proc.stdout

        def copy() -> None:
            for raw in iter(stdout.readline, b""):
                log.write(redact_message(raw.decode("utf-8", errors="replace")))
                log.flush()
                last_output[0] = time.monotonic()

        reader = threading.Thread(target=copy, name=f"{what}-log", daemon=True)
        reader.start()
        why = _wait(proc, start, last_output, timeout_s, idle_timeout_s)
        # Also after a normal exit: workers the engine forked must not outlive it (or hold the pipe open).
        _kill_group(proc)
        reader.join(timeout=30)
        stdout.close()
        elapsed = time.monotonic() - start
        if why is not None:
            log.write(f"\n[evalscope] {why}: the {what} process group was killed\n")
            raise EngineFailed(f"{what} {why}", log_path, proc.returncode)
    if proc.returncode != 0:
        raise EngineFailed(f"{what} exited with code {proc.returncode}", log_path, proc.returncode)
    return EngineResult(returncode=0, log_path=log_path, elapsed_s=elapsed)


def _wait(
    proc: subprocess.Popen[bytes],
    start: float,
    last_output: list[float],
    timeout_s: float | None,
    idle_timeout_s: float | None,
) -> str | None:
    """Wait for the child; return why it must be killed, or None once it has exited by itself."""
    while True:
        try:
            proc.wait(timeout=0.5)
            return None
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if timeout_s is not None and now - start > timeout_s:
            return f"ran longer than its time limit ({timeout_s:g} s)"
        if idle_timeout_s is not None and now - last_output[0] > idle_timeout_s:
            return f"printed nothing for {idle_timeout_s:g} s (idle_timeout)"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the child's process group: SIGTERM while the child runs (a grace period), then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def scrub_secrets(
    folder: Path, secrets: Sequence[str], suffixes: tuple[str, ...] = (".log", ".txt", ".json")
) -> int:
    """Replace secrets by `***` in the text files an engine wrote itself (its own log files echo API keys).

    Our copy of the engine's output is redacted as it streams; files the engine writes directly are not, so
    they are cleaned after the run, whether it succeeded or not. Returns the number of files changed.
    """
    from evalscope.secrets import known_secrets, redact, register_secrets

    register_secrets(secrets)
    changed = 0
    if not known_secrets() or not folder.is_dir():
        return 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix not in suffixes:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        clean = redact(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed
