"""Trusted launcher that runs INSIDE the sandbox (passed to ``python -I -c``; stdlib only).

Protocol: the host writes one JSON object to stdin (code, nonce, rlimits, optional uid to drop to)
and closes it; the launcher reports on the result descriptor (argv[1]): ``S`` once set up, then
either the nonce (the code ran to its end) or ``X:<ExceptionName>``. stdout/stderr are the
program's own. The nonce is written only after ``exec`` of the whole code returned normally, so
``sys.exit(0)``, ``os._exit(0)``, a crash or a signal before the end never produce it.

An optional ``stdin`` text in the JSON becomes the program's standard input (an in-memory file on
fd 0, written before any limit is set); without it fd 0 is ``/dev/null``. The program never sees
an expected output: for stdin/stdout cases the host judges what the program printed.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from evalscope_native.sandbox._checker import checked_main


def _limit(name: str, soft: int, hard: int) -> None:
    resource.setrlimit(getattr(resource, name), (soft, hard))


def main() -> None:
    result_fd = int(sys.argv[1])
    config = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    stdin_text = config.pop("stdin", None)
    if stdin_text is None:
        source = os.open(os.devnull, os.O_RDONLY)
    else:
        source = _stdin_file(stdin_text, config["workdir"])
    os.dup2(source, 0)
    os.close(source)
    if stdin_text is not None:
        # A fresh reader on the new fd 0: the one Python opened at start-up has read the config.
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    del stdin_text
    lim = config["limits"]
    mb = 1024 * 1024
    _limit("RLIMIT_CORE", 0, 0)
    # Per process: in a checked run the candidate and the checker each get this much CPU time.
    _limit("RLIMIT_CPU", lim["cpu_s"], lim["cpu_s"] + 1)
    _limit("RLIMIT_FSIZE", lim["max_file_mb"] * mb, lim["max_file_mb"] * mb)
    _limit("RLIMIT_NOFILE", lim["max_open_files"], lim["max_open_files"])
    if config["nproc"] is not None:
        _limit("RLIMIT_NPROC", config["nproc"], config["nproc"])
    if config.get("checked"):
        # The tests, the expected values and the nonce arrive on argv[2], read after the fork.
        checked_main(config, result_fd, int(sys.argv[2]), become)
    become(config, config.get("uid"))
    nonce = config.pop("nonce").encode("ascii")
    code = config.pop("code")
    del config
    os.write(result_fd, b"S\n")
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(code, "<sample>", "exec"), namespace)
    except SystemExit as exc:
        # An early sys.exit(0) must not pass: report it and leave without the nonce.
        _report(result_fd, b"X:SystemExit\n")
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        _flush()
        os._exit(status & 0xFF)
    except BaseException as exc:  # noqa: B036 - everything the sample raises is its own failure
        _report(result_fd, f"X:{type(exc).__name__}\n".encode())
        try:
            traceback.print_exc()
        except BaseException:  # noqa: B036 - a hostile __str__ must not change the outcome
            pass
        _flush()
        os._exit(1)
    _flush()
    _report(result_fd, nonce + b"\n")
    os._exit(0)


def become(config: dict[str, Any], uid: int | None) -> None:
    """Turn this process into a sample process: its own uid (as root), the memory limit, the
    working directory and the clean environment."""
    lim = config["limits"]
    workdir = config["workdir"]
    if uid is not None:
        # Host root: the kernel never applies RLIMIT_NPROC to uid 0, so become a fresh, unused uid
        # (bwrap granted only CAP_SETUID/CAP_SETGID for this; setuid drops every capability).
        os.chmod(workdir, 0o1777)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("sandbox launcher: could not drop privileges")
    mb = 1024 * 1024
    _limit("RLIMIT_AS", lim["memory_mb"] * mb, lim["memory_mb"] * mb)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(config["env"])


def _stdin_file(text: str, workdir: str) -> int:
    """A read-only descriptor positioned at the start of ``text``: a memfd (no tmpfs space used)."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # no memfd (old kernel): an unlinked file in the workdir
        path = os.path.join(workdir, f".stdin-{os.getpid()}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _report(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        pass


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036 - a closed or replaced stream is the sample's problem
            pass


main()
