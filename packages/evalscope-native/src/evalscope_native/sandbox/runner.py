"""Run one untrusted Python program: ``run_untrusted``.

The host side starts ``bwrap ... python -I -c <launcher> <fd>`` (or, in the weak mode, the launcher
directly), feeds the code and a fresh random nonce on stdin, and reads three pipes at once with a
deadline: stdout and stderr (kept up to a bound, the rest counted and dropped) and the result
descriptor, on which only the trusted launcher writes the nonce, and only after the whole code
(program, then tests) ran to its end. A pass needs exit code 0 AND that nonce.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import marshal
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

_HERE = Path(__file__).parent
# The -c text: read the launcher's bytecode (length, then marshal data) from stdin and run it; the
# rest of stdin is the launcher's JSON configuration.
_BOOTSTRAP = "import marshal,sys;exec(marshal.loads(sys.stdin.buffer.read(int(sys.stdin.buffer.read(10)))))"


@functools.lru_cache(maxsize=2)
def launcher_code(checked: bool) -> bytes:
    """The trusted launcher, compiled here once and sent as bytecode (the sandbox runs our own
    interpreter, so the marshal format matches): compiling the checked launcher in every sandbox
    would cost more than the rest of its start-up. A checked run's launcher is the codec, the
    candidate's loop and the checker, then the launcher, as one module (see _wire.py)."""
    names = ("_wire.py", "_candidate.py", "_checker.py", "_launcher.py") if checked else ("_launcher.py",)
    future = "from __future__ import annotations\n"
    texts = [(_HERE / name).read_text(encoding="utf-8").replace(future, "", 1) for name in names]
    code = compile(future + "\n".join(texts), "<sandbox-launcher>", "exec", dont_inherit=True)
    return marshal.dumps(code)


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
    checker: dict[str, object] | None = None,
) -> SandboxResult:
    """One sandboxed run. ``stdout_cap`` (default ``max_output_bytes``) is how much stdout is kept:
    stdin/stdout cases raise it so an expected output larger than the default still compares.

    With ``checker`` (set-up code, tests and names, see ``checked.py``) ``code`` is only the
    candidate's program: a checked run, whose tests and nonce go to the checker on their own pipe."""
    nonce = secrets.token_hex(16)
    config: dict[str, object] = {"code": code, "nonce": nonce, "limits": lim.as_dict(), "env": SANDBOX_ENV}
    if stdin is not None:
        config["stdin"] = stdin
    secret: bytes | None = None
    if checker is not None:
        # The nonce and the tests never go where the candidate's process could read them.
        del config["nonce"]
        config["checked"] = True
        secret = json.dumps({**checker, "nonce": nonce}).encode("utf-8")
    python = [sys.executable, "-I", "-B", "-c", _BOOTSTRAP]
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if mode == "bwrap":
        cmd = bwrap.build_command(python, lim.tmpfs_mb)
        cwd = None
        config["workdir"] = bwrap.WORKDIR
        # In a user namespace bwrap's own init process counts against the limit; as root it does
        # not (it stays uid 0 while the sample runs as the fresh uid below); nor does a checker.
        config["nproc"] = lim.max_processes + (0 if bwrap.is_root() else 1 + (checker is not None))
        if bwrap.is_root():
            # A fresh uid per run: RLIMIT_NPROC counts this sample's processes and nothing else.
            config["uid"] = 1_000_000 + secrets.randbelow(1_000_000_000)
            if checker is not None:  # and another for the checker: no signal, trace or /proc between them
                config["checker_uid"] = 1_000_000_000 + secrets.randbelow(1_000_000_000)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="evalscope-sandbox-")
        cmd, cwd = python, tmp.name
        config["workdir"] = tmp.name
        # Without a user namespace RLIMIT_NPROC would count every process of the user: unusable.
        config["nproc"] = None
    try:
        launcher = launcher_code(checker is not None)
        payload = b"%010d" % len(launcher) + launcher + json.dumps(config).encode("utf-8")
        return _drive(cmd, cwd, payload, nonce, lim, mode, stdout_cap or lim.max_output_bytes, secret)
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
    secret: bytes | None = None,
) -> SandboxResult:
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    cmd = [*cmd, str(write_fd)]  # the launcher's result descriptor, inherited through bwrap
    passed_fds = [write_fd]
    secret_fds: tuple[int, int] | None = None
    if secret is not None:
        secret_fds = os.pipe()  # the checker's input: tests and nonce (argv[2])
        cmd.append(str(secret_fds[0]))
        passed_fds.append(secret_fds[0])
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(SANDBOX_ENV),
            start_new_session=True,  # its own process group: killpg reaches the weak mode's tree
            pass_fds=passed_fds,
        )
    except OSError as exc:
        for fd in (read_fd, write_fd, *(secret_fds or ())):
            os.close(fd)
        return SandboxResult("error", None, "", "", time.monotonic() - started, mode, f"cannot start: {exc}")
    os.close(write_fd)
    if secret_fds is not None:
        os.close(secret_fds[0])
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(stdin_data)
        proc.stdin.close()
    except OSError:
        pass  # it died before reading: the result says why
    streams = _Streams(proc, read_fd, lim, stdout_cap)
    if secret_fds is not None and secret is not None:
        streams.feed(secret_fds[1], secret)
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
        self.pending: memoryview | None = None  # what is left to write on the feed descriptor
        self.feed_fd = -1

    def feed(self, fd: int, data: bytes) -> None:
        """Write ``data`` to ``fd`` (then close it) while pumping: a large payload never blocks us."""
        os.set_blocking(fd, False)
        self.feed_fd, self.pending = fd, memoryview(data)
        self.sel.register(fd, selectors.EVENT_WRITE)

    def _write(self) -> None:
        assert self.pending is not None
        try:
            self.pending = self.pending[os.write(self.feed_fd, self.pending[: 1 << 16]) :]
        except BlockingIOError:
            return
        except OSError:  # the reader is gone: it ended before reading, the result says why
            self.pending = self.pending[:0]
        if not self.pending:
            self._close_feed()

    def _close_feed(self) -> None:
        if self.feed_fd >= 0:
            self.sel.unregister(self.feed_fd)
            os.close(self.feed_fd)
            self.feed_fd = -1

    def pump(self, deadline: float) -> tuple[bool, bool]:
        """(timed_out, flooded). Returns when every pipe hit EOF or a limit was reached."""
        while self.sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return True, False
            for key, _ in self.sel.select(timeout=left):
                if key.fd == self.feed_fd:
                    self._write()
                else:
                    self._read(int(key.fd))
            if self.total[1] + self.total[2] > self.lim.flood_output_bytes:
                return False, True
        return False, False

    def drain(self) -> None:
        """After the process is gone: read what is left (bounded wait: a leaked writer may linger)."""
        self._close_feed()
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
    fate = next((line[2:] for line in lines if line.startswith("C:")), "")
    if fate.startswith("signal:") and fate[7:].isdigit():
        # A checked run's candidate process died of a signal (reported by the checker).
        csig = int(fate[7:])
        if csig == signal.SIGXCPU or (csig == signal.SIGKILL and wall_s >= cpu_s):
            return "timeout", f"CPU limit reached in the candidate's process (signal {csig})"
        return "killed", f"the candidate's process was killed by signal {csig}"
    if fate.startswith("exit:"):
        return "failed", f"the candidate's process ended before the tests finished (exit code {fate[5:]})"
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
