"""Hostile programs: each attack is contained, reported as the sample's failure, never the harness's.

Every program below is written so that it would PASS only if its attack succeeded; a contained
attack therefore shows up as a non-passed status. Host-side effects are checked from outside.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evalscope_native.sandbox import run_io_case, run_many, run_untrusted
from sandbox_helpers import FAST, processes_with, require_bwrap

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALSCOPE_SANDBOX", raising=False)
    require_bwrap()


def test_fork_bomb_is_capped_and_the_tree_is_killed() -> None:
    marker = f"BOMB{secrets.token_hex(4)}"
    counted = run_untrusted(
        "import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n"
        "        break\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    n += 1\nprint(n)\nassert n == 200\n",
        limits=FAST,
    )
    assert counted.status == "failed" and int(counted.stdout) < FAST.max_processes
    bomb = run_untrusted(
        f"import os\n# {marker}\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        limits=FAST,
        timeout_s=1.0,
    )
    assert bomb.status in ("timeout", "killed"), bomb
    time.sleep(0.2)  # the kernel reaps the namespace asynchronously
    assert processes_with(marker) == []


def test_timeout_kills_the_whole_process_tree() -> None:
    marker = f"TREE{secrets.token_hex(4)}"
    program = (
        "import subprocess, sys, os\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # {marker}'])\n"
        # a detached grandchild in its own session, the classic escape from a process-group kill
        f"subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)  # {marker}'],"
        " start_new_session=True)\n"
        "import time\ntime.sleep(60)\n"
    )
    result = run_untrusted(program, limits=FAST, timeout_s=1.0)
    assert result.status == "timeout"
    deadline = time.monotonic() + 2
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_memory_bomb_is_contained() -> None:
    result = run_untrusted(
        "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024**2))\n", limits=FAST
    )
    assert result.status == "memory", result


def test_writing_outside_the_sandbox_leaves_the_host_untouched(tmp_path: Path) -> None:
    name = f"sandbox-escape-{secrets.token_hex(4)}"
    targets = [tmp_path / name, REPO / name, Path("/tmp") / name, Path.home() / name]
    lines = "".join(f"open({str(t)!r}, 'w').write('pwned')\n" for t in targets)
    # /tmp inside is a private tmpfs: the write to /tmp/<name> "works" there and must not reach the host.
    program = "import os\nwritten = 0\n" + "".join(
        f"try:\n    {line}    written += 1\nexcept OSError:\n    pass\n"
        for line in lines.splitlines(keepends=True)
    )
    result = run_untrusted(program + "assert written == len(" + repr(targets) + ")\n", limits=FAST)
    assert result.status == "failed"
    assert [t for t in targets if t.exists()] == []


def test_home_ssh_shadow_and_host_files_are_unreadable(tmp_path: Path) -> None:
    secret = f"secret-{secrets.token_hex(8)}"
    in_tmp = tmp_path / "secret.txt"
    in_tmp.write_text(secret)
    in_home = Path.home() / f".evalscope-sandbox-test-{secrets.token_hex(4)}"
    in_home.write_text(secret)
    try:
        paths = [
            str(in_tmp),
            str(in_home),
            "/etc/shadow",
            str(Path.home() / ".ssh"),
            str(REPO / "pyproject.toml"),
        ]
        program = (
            "import os\nleaked = []\n"
            f"for p in {paths!r}:\n"
            "    try:\n"
            "        leaked.append(os.listdir(p) if os.path.isdir(p) else open(p).read())\n"
            "    except OSError:\n"
            "        pass\n"
            "print(leaked)\nassert leaked\n"
        )
        result = run_untrusted(program, limits=FAST)
    finally:
        in_home.unlink()
    assert result.status == "failed" and result.stdout.strip() == "[]"


def test_parent_environment_secrets_are_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-{secrets.token_hex(12)}"
    monkeypatch.setenv("EVALSCOPE_FAKE_API_KEY", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    program = (
        "import os\nfound = [k for k, v in os.environ.items() if 'sk-' in v or 'API_KEY' in k]\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
        "    try:\n"
        "        if b'sk-' in open(f'/proc/{pid}/environ', 'rb').read():\n"
        "            found.append(pid)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(sorted(os.environ))\nassert found\n"
    )
    result = run_untrusted(program, limits=FAST)
    assert result.status == "failed"
    assert secret not in result.stdout + result.stderr and "API_KEY" not in result.stdout


@pytest.fixture
def tcp_server() -> Iterator[tuple[int, list[str]]]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            accepted.append(str(addr))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_network_is_unreachable(tcp_server: tuple[int, list[str]]) -> None:
    port, accepted = tcp_server
    program = (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'hi')\n"
        "socket.getaddrinfo('example.com', 80)\n"
    )
    result = run_untrusted(program, limits=FAST)
    assert result.status == "failed" and "Connection refused" in result.stderr
    time.sleep(0.3)  # give a (wrongly) leaked connection time to show up
    assert accepted == []


def test_killing_the_parent_and_everything_is_contained() -> None:
    host_pid = os.getpid()
    program = (
        "import os, signal\n"
        f"for pid in (os.getppid(), 1, {host_pid}, -1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n    os.killpg(0, signal.SIGKILL)\nexcept OSError:\n    pass\n"
        "raise SystemExit(0)\n"
    )
    results = run_many([program, "print('neighbour ok')\n"], workers=2, limits=FAST)
    assert results[0].status in ("failed", "killed"), results[0]
    assert results[1].status == "passed"  # a neighbouring sample is not hit either
    assert os.getpid() == host_pid  # and we are still here


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_is_bounded(stream: str) -> None:
    result = run_untrusted(f"import sys\nwhile True:\n    sys.{stream}.write('x' * 65536)\n", limits=FAST)
    assert result.status == "killed" and "flood" in result.detail
    kept = result.stdout if stream == "stdout" else result.stderr
    assert len(kept) == FAST.max_output_bytes
    assert result.stdout_truncated if stream == "stdout" else result.stderr_truncated


def test_filling_the_private_tmpfs_is_a_failure() -> None:
    program = (
        "with open('/tmp/big', 'wb') as f:\n    for _ in range(100):\n        f.write(b'x' * 1024 * 1024)\n"
    )
    result = run_untrusted(program, limits=FAST)
    assert result.status == "failed" and ("No space" in result.stderr or "too large" in result.stderr)


# --- stdin/stdout cases: the host judges the output; nothing the program does inside can vouch for it ---

ECHO_DOUBLE = "n = int(input())\n"  # the honest part of each cheat below: read the input


@pytest.mark.parametrize(
    ("cheat", "status"),
    [
        ("import sys\nsys.exit(0)\nprint(n * 2)\n", "failed"),
        ("import os\nos._exit(0)\n", "failed"),
        # the right answer, then a crash: the exit status (from the host's wait) fails it
        ("print(n * 2)\nraise RuntimeError('after the answer')\n", "failed"),
        ("import sys\nprint(n * 2)\nsys.exit(3)\n", "failed"),
        (
            "import os, signal, sys\nprint(n * 2)\nsys.stdout.flush()\nos.kill(os.getpid(), signal.SIGKILL)\n",
            "killed",
        ),
        # print "passed"-looking things and forge the launcher's result channel: not the verdict
        (
            "import os\nprint('passed')\nfor fd in range(3, 64):\n    try:\n"
            "        os.write(fd, b'S\\n' + b'0' * 32 + b'\\n')\n    except OSError:\n        pass\n",
            "failed",
        ),
        ("print(n * 2)\nimport sys\nwhile True:\n    sys.stdout.write('\\n' * 65536)\n", "killed"),  # flood
        ("print(n * 2)\nwhile True:\n    pass\n", "timeout"),
    ],
    ids=[
        "exit_before",
        "os_exit_before",
        "crash_after",
        "exit3_after",
        "sigkill_after",
        "forged",
        "flood",
        "loop",
    ],
)
def test_io_case_cheats_never_pass(cheat: str, status: str) -> None:
    result = run_io_case(ECHO_DOUBLE + cheat, "21\n", "42\n", limits=FAST)
    assert result.status == status, result
    honest = run_io_case(ECHO_DOUBLE + "print(n * 2)\n", "21\n", "42\n", limits=FAST)
    assert honest.status == "passed", honest


def test_io_case_expected_output_never_enters_the_sandbox() -> None:
    """Everything the program can reach -- its frames, argv, environment, descriptors, /proc -- is
    printed; the expected output (a fresh secret) is in none of it."""
    secret = f"EXPECTED-{secrets.token_hex(16)}"
    program = (
        "import gc, os, sys\nseen = [repr(sys.argv), repr(dict(os.environ)), sys.stdin.read()]\n"
        "frame = sys._getframe()\nwhile frame is not None:\n"
        "    seen.append(repr(frame.f_locals)[:100000])\n    frame = frame.f_back\n"
        "seen += [repr(o)[:2000] for o in gc.get_objects() if isinstance(o, (dict, list, tuple))]\n"
        "for fd in range(3, 64):\n    try:\n        seen.append(os.read(fd, 1 << 20).decode('utf-8', 'replace'))\n"
        "    except OSError:\n        pass\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    for name in ('cmdline', 'environ'):\n        try:\n"
        "            seen.append(open(f'/proc/{pid}/{name}', 'rb').read().decode('utf-8', 'replace'))\n"
        "        except OSError:\n            pass\n"
        "import re\ntext = '\\n'.join(seen)\nprint(len(text), re.findall('EXPECTED-[0-9a-f]{32}', text))\n"
    )
    result = run_io_case(program, "the input\n", secret, limits=FAST)
    assert result.exit_code == 0 and result.status == "failed", result
    size, found = result.stdout.split(" ", 1)
    assert found.strip() == "[]" and int(size) > 1000  # it did look, and found nothing


def test_io_case_stdin_is_the_given_input_and_ends() -> None:
    """stdin holds exactly the input (input(), sys.stdin, open(0), os.read(0)); reading past it is EOF."""
    readers = [
        "print(input() + input())\n",
        "import sys\nprint(''.join(sys.stdin.read().split()))\n",
        "print(''.join(open(0).read().split()))\n",
        "import os\nprint(b''.join(os.read(0, 1 << 16).split()).decode())\n",
        "import sys\nprint(''.join(l.strip() for l in sys.stdin))\n",
    ]
    results = [run_io_case(code, "ab\ncd\n", "abcd\n", limits=FAST) for code in readers]
    assert [r.status for r in results] == ["passed"] * len(readers), results
    past_end = run_io_case("print(input())\nprint(input())\n", "only\n", "only\n", limits=FAST)
    assert past_end.status == "failed" and "EOFError" in past_end.detail
