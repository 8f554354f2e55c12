"""The sandbox's contract: pass/fail classification, the anti-cheat nonce, limits, pool and cache."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from evalscope_native.sandbox import (
    SandboxCache,
    SandboxUnavailable,
    choose_isolation,
    run_many,
    run_untrusted,
)
from evalscope_native.sandbox import bwrap as bwrap_mod
from sandbox_helpers import FAST, require_bwrap

SOLUTION = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
TESTS = (
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n\ncheck(add)\n"
)


@pytest.fixture(autouse=True)
def _bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALSCOPE_SANDBOX", raising=False)
    require_bwrap()


def test_correct_program_passes_in_bwrap() -> None:
    result = run_untrusted(SOLUTION, tests=TESTS, limits=FAST)
    assert result.status == "passed", result
    assert result.passed and result.exit_code == 0 and result.isolation == "bwrap"
    assert result.wall_s < 2


def test_wrong_program_fails_with_the_exception_named() -> None:
    result = run_untrusted(WRONG, tests=TESTS, limits=FAST)
    assert result.status == "failed" and result.exit_code == 1
    assert "AssertionError" in result.detail and "AssertionError" in result.stderr


def test_syntax_error_is_a_failure_of_the_sample() -> None:
    result = run_untrusted("def add(a, b) return a\n", tests=TESTS, limits=FAST)
    assert result.status == "failed" and "SyntaxError" in result.detail


@pytest.mark.parametrize(
    "cheat",
    [
        "import sys\nsys.exit(0)\n",
        "raise SystemExit\n",
        "import os\nos._exit(0)\n",
        "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
        # make the failing assert look harmless: hooks that would turn a crash into exit 0
        "import sys, os, atexit\nsys.excepthook = lambda *a: os._exit(0)\natexit.register(lambda: os._exit(0))\n",
        # guess the result channel: write a fake start marker and fake nonce on every descriptor
        "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'S\\n' + b'0' * 32 + b'\\n')\n    except OSError:\n        pass\n",
        # replace the checker's tools: a do-nothing AssertionError, a print that claims success
        "import builtins\nbuiltins.AssertionError = type('AE', (Exception,), {})\nprint('passed')\n",
    ],
    ids=[
        "sys_exit",
        "raise_systemexit",
        "os_exit",
        "sigterm_self",
        "excepthook_atexit",
        "forged_fd",
        "patched",
    ],
)
def test_cheats_before_the_asserts_never_pass(cheat: str) -> None:
    result = run_untrusted(WRONG + cheat, tests=TESTS, limits=FAST)
    assert result.status != "passed", result


def test_monkeypatching_the_checker_is_not_a_pass() -> None:
    # The program redefines `check` after the fact via a trace hook and exits 0 when the test fails.
    patch = (
        "import sys, os\n"
        "def tracer(frame, event, arg):\n"
        "    if event == 'exception' and arg[0] is AssertionError:\n"
        "        os._exit(0)\n"
        "    return tracer\n"
        "sys.settrace(tracer)\n"
    )
    result = run_untrusted(WRONG + patch, tests=TESTS, limits=FAST)
    assert result.status == "failed", result


def test_infinite_loop_hits_the_cpu_limit() -> None:
    start = time.monotonic()
    result = run_untrusted("while True:\n    pass\n", limits=FAST)
    assert result.status == "timeout", result
    assert time.monotonic() - start < FAST.timeout_s + 2


def test_sleeping_program_hits_the_wall_clock_limit() -> None:
    result = run_untrusted("import time\ntime.sleep(30)\n", limits=FAST, timeout_s=0.5)
    assert result.status == "timeout" and result.wall_s < 3


def test_memory_bomb_reports_memory() -> None:
    result = run_untrusted("x = bytearray(2 * 1024**3)\n", limits=FAST)
    assert result.status == "memory", result


def test_run_many_keeps_order_and_caches(tmp_path: Path) -> None:
    programs = [SOLUTION, WRONG] * 4
    cache = SandboxCache(tmp_path / "cache")
    seen: list[int] = []
    first = run_many(
        programs, tests=TESTS, workers=2, limits=FAST, cache=cache, on_result=lambda i, r: seen.append(i)
    )
    assert [r.status for r in first] == ["passed", "failed"] * 4
    assert sorted(seen) == list(range(8)) and not first[0].cached and not first[1].cached
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2  # identical programs share a key
    again = run_many(programs, tests=TESTS, workers=2, limits=FAST, cache=cache)
    assert all(r.cached for r in again) and [r.status for r in again] == [r.status for r in first]
    # different limits are a different key
    other = run_many([SOLUTION], tests=TESTS, limits=FAST.__class__(timeout_s=3.0), cache=cache)
    assert not other[0].cached


def test_run_many_per_program_tests_must_match() -> None:
    with pytest.raises(ValueError, match="2 programs but 1"):
        run_many([SOLUTION, WRONG], tests=[TESTS], limits=FAST)


def test_weak_mode_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSCOPE_SANDBOX", "weak")
    ok = run_untrusted(SOLUTION, tests=TESTS, limits=FAST)
    cheat = run_untrusted(WRONG + "import os\nos._exit(0)\n", tests=TESTS, limits=FAST)
    assert (ok.status, ok.isolation) == ("passed", "weak")
    assert (cheat.status, cheat.isolation) == ("failed", "weak")


def test_missing_bwrap_fails_with_the_fix_or_falls_back_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap_mod, "bwrap_path", lambda: None)
    bwrap_mod.probe.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap"):
            run_untrusted(SOLUTION, tests=TESTS, limits=FAST)
        with pytest.raises(SandboxUnavailable, match="unprivileged_userns_clone"):
            choose_isolation()
        result = run_untrusted(SOLUTION, tests=TESTS, limits=FAST, allow_weak=True)
        assert (result.status, result.isolation) == ("passed", "weak")
    finally:
        bwrap_mod.probe.cache_clear()
