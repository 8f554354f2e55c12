"""Run one untrusted Python program: ``run_untrusted``.

The host side starts ``bwrap ... python -I -c <launcher> <fd>`` (or, in the weak mode, the launcher
directly), feeds the code and a fresh random nonce on stdin, and reads three pipes at once with a
deadline: stdout and stderr (kept up to a bound, the rest counted and dropped) and the result
descriptor, on which only the trusted launcher writes the nonce, and only after the whole code
(program, then tests) ran to its end. A pass needs exit code 0 AND that nonce.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evalscope_native.sandbox import bwrap
from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult, Status

_LAUNCHER = (Path(__file__).with_name("_launcher.py")).read_text(encoding="utf-8")
# What the sample's Python gets as environment: nothing of ours (no API keys, no HOME).
SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": bwrap.WORKDIR, "TMPDIR": bwrap.WORKDIR}
_KILL_GRACE_S = 2.0


def choose_isolation(allow_weak: bool | None = None) -> Isolation:
    """``bwrap`` when it works; ``weak`` only when the caller (or EVALSCOPE_SANDBOX=weak) allows it.

    EVALSCOPE_SANDBOX=weak forces the weak mode even where bubblewrap works (for debugging).
    """
    env = os.environ.get("EVALSCOPE_SANDBOX", "").strip().lower()
    if env == "weak":
        return "weak"
    problem = bwrap.probe()
    if problem is None:
        return "bwrap"
    if allow_weak:
        return "weak"
    raise bwrap.SandboxUnavailable(problem)


def run_untrusted(
    program: str,
    *,
    tests: str = "",
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    max_processes: int | None = None,
    cpu_s: int | None = None,
    limits: SandboxLimits | None = None,
    allow_weak: bool | None = None,
    isolation: Isolation | None = None,
    stdin: str | None = None,
) -> SandboxResult:
    """Run ``program`` followed by ``tests`` (trusted test code, e.g. ``check(candidate)``) once.

    ``stdin`` (default: empty, ``/dev/null``) is the program's standard input. The status is still
    the nonce protocol's (the code must run to its end); to judge a program by what it prints for a
    given input, use ``run_io_case``. Never raises for anything the program does; raises
    ``SandboxUnavailable`` only when no acceptable isolation exists (message names the fix).
    """
    lim = _limits(limits, timeout_s=timeout_s, memory_mb=memory_mb, max_processes=max_processes, cpu_s=cpu_s)
    mode = isolation or choose_isolation(allow_weak)
    return _execute(program + ("\n\n" + tests if tests else ""), lim, mode, stdin=stdin)


def _limits(base: SandboxLimits | None, **overrides: float | int | None) -> SandboxLimits:
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base or SandboxLimits(), **given)  # type: ignore[arg-type]


def _execute(
    code: str,
    lim: SandboxLimits,
    mode: Isolation,
    *,
    stdin: str | None = None,
    stdout_cap: int | None = None,
) -> SandboxResult:
    """One sandboxed run. ``stdout_cap`` (default ``max_output_bytes``) is how much stdout is kept:
    stdin/stdout cases raise it so an expected output larger than the default still compares."""
    nonce = secrets.token_hex(16)
    config: dict[str, object] = {"code": code, "nonce": nonce, "limits": lim.as_dict(), "env": SANDBOX_ENV}
    if stdin is not None:
        config["stdin"] = stdin
    python = [sys.executable, "-I", "-B", "-c", _LAUNCHER]
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if mode == "bwrap":
        cmd = bwrap.build_command(python, lim.tmpfs_mb)
        cwd = None
        config["workdir"] = bwrap.WORKDIR
        # In a user namespace bwrap's own init process counts against the limit; as root it does
        # not (it stays uid 0 while the sample runs as the fresh uid below).
        config["nproc"] = lim.max_processes + (0 if bwrap.is_root() else 1)
        if bwrap.is_root():
            # A fresh uid per run: RLIMIT_NPROC counts this sample's processes and nothing else.
            config["uid"] = 1_000_000 + secrets.randbelow(1_000_000_000)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="evalscope-sandbox-")
        cmd, cwd = python, tmp.name
        config["workdir"] = tmp.name
        # Without a user namespace RLIMIT_NPROC would count every process of the user: unusable.
        config["nproc"] = None
    try:
        payload = json.dumps(config).encode("utf-8")
        return _drive(cmd, cwd, payload, nonce, lim, mode, stdout_cap or lim.max_output_bytes)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _drive(
    cmd: list[str],
    cwd: str | None,
    stdin_data: bytes,
    nonce: str,
    lim: SandboxLimits,
    mode: Isolation,
    stdout_cap: int,
) -> SandboxResult:
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    cmd = [*cmd, str(write_fd)]  # the launcher's result descriptor, inherited through bwrap
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(SANDBOX_ENV),
            start_new_session=True,  # its own process group: killpg reaches the weak mode's tree
            pass_fds=(write_fd,),
        )
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        return SandboxResult("error", None, "", "", time.monotonic() - started, mode, f"cannot start: {exc}")
    os.close(write_fd)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(stdin_data)
        proc.stdin.close()
    except OSError:
        pass  # it died before reading: the result says why
    streams = _Streams(proc, read_fd, lim, stdout_cap)
    timed_out, flooded = streams.pump(started + lim.timeout_s)
    if timed_out or flooded:
        _kill(proc)
    try:
        rc = proc.wait(timeout=_KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        _kill(proc)
        rc = proc.wait()
    if mode == "weak":
        _kill_group(proc.pid)  # leftovers that outlived the launcher
    streams.drain()
    proc.stdout.close()
    proc.stderr.close()
    wall = time.monotonic() - started
    status, detail = _classify(rc, streams.result_text(), nonce, timed_out, flooded, mode, wall, lim.cpu_s)
    return SandboxResult(
        status=status,
        exit_code=rc,
        stdout=streams.text(1),
        stderr=streams.text(2),
        wall_s=round(wall, 4),
        isolation=mode,
        detail=detail,
        stdout_truncated=streams.total[1] > stdout_cap,
        stderr_truncated=streams.total[2] > lim.max_output_bytes,
    )


class _Streams:
    """Reads stdout, stderr and the result pipe together, bounded, until EOF or a deadline."""

    def __init__(
        self, proc: subprocess.Popen[bytes], result_fd: int, lim: SandboxLimits, stdout_cap: int
    ) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self.lim = lim
        self.caps = {1: stdout_cap, 2: lim.max_output_bytes, 3: 4096}
        self.fds = {proc.stdout.fileno(): 1, proc.stderr.fileno(): 2, result_fd: 3}
        self.kept: dict[int, bytearray] = {1: bytearray(), 2: bytearray(), 3: bytearray()}
        self.total = {1: 0, 2: 0, 3: 0}
        self.sel = selectors.DefaultSelector()
        for fd in self.fds:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ)
        self.result_fd = result_fd

    def pump(self, deadline: float) -> tuple[bool, bool]:
        """(timed_out, flooded). Returns when every pipe hit EOF or a limit was reached."""
        while self.sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return True, False
            for key, _ in self.sel.select(timeout=left):
                self._read(int(key.fd))
            if self.total[1] + self.total[2] > self.lim.flood_output_bytes:
                return False, True
        return False, False

    def drain(self) -> None:
        """After the process is gone: read what is left (bounded wait: a leaked writer may linger)."""
        end = time.monotonic() + 0.5
        while self.sel.get_map() and time.monotonic() < end:
            for key, _ in self.sel.select(timeout=0.1):
                self._read(int(key.fd))
        for fd in list(self.sel.get_map()):
            self.sel.unregister(fd)
        self.sel.close()
        os.close(self.result_fd)

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.sel.unregister(fd)
            return
        which = self.fds[fd]
        self.total[which] += len(chunk)
        room = self.caps[which] - len(self.kept[which])
        if room > 0:
            self.kept[which] += chunk[:room]

    def text(self, which: int) -> str:
        return bytes(self.kept[which]).decode("utf-8", "replace")

    def result_text(self) -> str:
        return self.text(3)


def _classify(
    rc: int,
    result: str,
    nonce: str,
    timed_out: bool,
    flooded: bool,
    mode: Isolation,
    wall_s: float,
    cpu_s: int,
) -> tuple[Status, str]:
    lines = result.splitlines()
    started = bool(lines) and lines[0] == "S"
    if timed_out:
        return "timeout", "wall-clock limit reached; process tree killed"
    if flooded:
        return "killed", "output flood: killed"
    if not started:
        # The launcher never reported: bwrap (or the interpreter) failed before the sample ran.
        return "error", f"sandbox set-up failed (exit code {rc})"
    signum = -rc if rc < 0 else (rc - 128 if mode == "bwrap" and rc > 128 else 0)
    # SIGXCPU at the soft CPU limit; SIGKILL at the hard one (cpu_s + 1) if SIGXCPU was ignored.
    if signum == signal.SIGXCPU or (signum == signal.SIGKILL and wall_s >= cpu_s):
        return "timeout", f"CPU limit reached (signal {signum})"
    if signum:
        return "killed", f"killed by signal {signum}"
    if "X:MemoryError" in lines:
        return "memory", "memory limit reached (MemoryError)"
    if rc == 0 and nonce in lines:
        return "passed", ""
    exc = next((line[2:] for line in lines if line.startswith("X:")), "")
    if rc == 0:
        return "failed", "exited before the tests finished" + (f" ({exc})" if exc else "")
    return "failed", f"exit code {rc}" + (f" ({exc})" if exc else "")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """bwrap: killing it kills the sandbox's PID 1 (--die-with-parent), which ends the namespace."""
    _kill_group(proc.pid)
    try:
        proc.kill()
    except OSError:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
