"""`evalscope.cli.boot`: the named benchmarks' helpers start before the CLI imports anything heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from evalscope.cli import boot, command_table


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["eval", "--model", "m", "--datasets", "gsm8k", "arc", "--limit", "1"], ["gsm8k", "arc"]),
        (["eval", "--datasets=gsm8k,math_500"], ["gsm8k", "math_500"]),
        (["eval", "--datasets", "gsm8k,arc", "--datasets", "aime24"], ["gsm8k", "arc", "aime24"]),
        (["perf", "--datasets", "gsm8k"], []),  # only `eval` names benchmarks
        (["eval", "--model", "gsm8k"], []),
        ([], []),
    ],
)
def test_named_datasets(argv: list[str], names: list[str]) -> None:
    assert boot.named_datasets(argv) == names


def test_prestart_calls_each_named_benchmark_s_helper_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    helper = types.ModuleType("prestart_helper_for_test")
    helper.start = lambda: calls.append("start")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "prestart_helper_for_test", helper)
    table = {"gsm8k": "prestart_helper_for_test:start", "math_500": "prestart_helper_for_test:start"}
    monkeypatch.setattr(command_table, "cached_prestarts", lambda: table)
    boot._prestart(["eval", "--datasets", "gsm8k", "math_500", "arc"])
    assert calls == ["start"]  # one helper, however many benchmarks share it
    monkeypatch.setattr(command_table, "cached_prestarts", lambda: {"gsm8k": "no_such_module:f"})
    boot._prestart(["eval", "--datasets", "gsm8k"])  # a broken entry is ignored: the run starts it itself


def test_a_run_writes_the_table_the_next_run_reads(tmp_path: Path) -> None:
    """The eval command fills the cached table once its registry is loaded; `evalscope --help` and
    the boot read it without loading any plugin."""
    env = {**os.environ, "EVALSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    code = (
        "import json, sys\n"
        "from evalscope.cli import command_table\n"
        "before = command_table.prestarts()\n"
        "after = command_table.prestarts(refresh=True)\n"
        "print(json.dumps([before, after, sorted(m for m in sys.modules if m.startswith('evalscope_native'))]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after, _ = json.loads(out.stdout)
    assert before == {}  # no cache yet: nothing started early, nothing loaded to find out
    assert after["gsm8k"] == "evalscope_native.benchmarks.math_equivalence:warm_up"
    assert after["math_500"] == after["aime24"] == after["gsm8k"] and "arc" not in after
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    cached, _, loaded = json.loads(again.stdout)
    assert cached == after  # read from the cache...
    assert loaded == []  # ...without importing any plugin (the refresh found it fresh)


def test_the_boot_reads_a_stale_table_and_a_broken_one_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boot's read skips the fingerprint (a head start only); a missing or torn file is no table."""
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path))
    assert command_table.cached_prestarts() == {}
    stale = {"fingerprint": "not-this-install", "commands": [], "prestarts": {"gsm8k": "m:f"}}
    (tmp_path / "commands.json").write_text(json.dumps(stale), encoding="utf-8")
    assert command_table.cached_prestarts() == {"gsm8k": "m:f"}
    assert command_table.prestarts() == {}  # the checked read refuses it
    (tmp_path / "commands.json").write_text('{"prestarts": {"gsm8k": "m:f"', encoding="utf-8")
    assert command_table.cached_prestarts() == {}


def _fast_exit_script(body: str) -> str:
    return (
        "import sys, threading, atexit\n"
        "import evalscope.cli.main as cli\n"
        "from evalscope.cli import boot\n"
        f"{body}\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        "sys.argv = ['evalscope', 'eval']\n"
        "boot.main()\n"
    )


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ("cli.main = lambda: None", 0, ""),
        ("def m(): raise SystemExit(2)\ncli.main = m", 2, ""),
        ("def m(): raise SystemExit('no such benchmark')\ncli.main = m", 1, "no such benchmark"),
    ],
)
def test_an_eval_ends_without_teardown_but_with_its_atexit_handlers(
    body: str, status: int, said: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _fast_exit_script(body)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == status
    assert proc.stdout == "atexit ran\n"
    assert said in proc.stderr


def test_a_live_worker_thread_gets_the_normal_exit() -> None:
    """A non-daemon thread still working must finish: the fast exit is skipped and the interpreter
    joins it as usual."""
    body = (
        "import time\n"
        "def work():\n"
        "    time.sleep(0.3)\n"
        "    print('worker done', flush=True)\n"
        "def m():\n"
        "    threading.Thread(target=work).start()\n"
        "cli.main = m"
    )
    proc = subprocess.run(
        [sys.executable, "-c", _fast_exit_script(body)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["worker done", "atexit ran"]


def test_the_console_script_raises_the_collector_thresholds_before_importing() -> None:
    """The CLI's start allocates tens of thousands of long-lived objects; the thresholds are raised
    before any heavy import (and a disabled collector stays disabled)."""
    code = (
        "import gc, sys\n"
        "{pre}"
        "import evalscope.cli.main as cli\n"
        "from evalscope.cli import boot\n"
        "cli.main = lambda: print(list(gc.get_threshold()))\n"
        "sys.argv = ['evalscope', 'list']\n"
        "boot.main()\n"
    )
    from evalscope.gc_tuning import ENGINE_GC_THRESHOLD

    out = subprocess.run(
        [sys.executable, "-c", code.format(pre="")], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == list(ENGINE_GC_THRESHOLD)
    off = subprocess.run(
        [sys.executable, "-c", code.format(pre="gc.set_threshold(0)\n")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(off.stdout)[0] == 0
