"""stdin/stdout cases: feed a program a given stdin, judge what it printed ON THE HOST.

Assert-style tests must run inside the sample's interpreter, which is why they need the nonce (an
early ``sys.exit(0)`` would otherwise pass). A stdin/stdout case needs no trust in the sample at
all: the expected output never enters the sandbox, the host captures the program's stdout through
its own pipe, and the verdict is the host's comparison of that stdout with the expected output,
plus a clean end (exit status 0, no limit hit). Exiting early cannot fake a pass: the output that
was not printed is simply missing. Printing the right output and then crashing fails on the exit
status, which the host reads from ``wait()``, not from anything the sample says.

Output caps and the flood limit apply as for every run; only the part of stdout that is KEPT grows
with the expected output (twice its size, at least ``max_output_bytes``, at most the flood limit),
so an answer of a few MB still compares. Stdout longer than that cannot match and fails.
"""

from __future__ import annotations

import dataclasses

from evalscope_native.sandbox.compare import STDOUT_LINES, OutputCheck
from evalscope_native.sandbox.pool import SandboxCache
from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult
from evalscope_native.sandbox.runner import _execute, choose_isolation

#: statuses that end a run before its output could be judged: they are the verdict as they are
_LIMIT_STATUSES = ("timeout", "memory", "killed", "error")


def stdout_capture_bytes(expected: str, limits: SandboxLimits) -> int:
    """How much stdout to keep for a case: room for twice the expected output, within the flood limit."""
    want = 2 * len(expected.encode("utf-8", "surrogatepass")) + 4096
    return min(max(limits.max_output_bytes, want), limits.flood_output_bytes)


def run_io_case(
    program: str,
    stdin: str | None,
    expected: str,
    *,
    check: OutputCheck = STDOUT_LINES,
    limits: SandboxLimits | None = None,
    allow_weak: bool | None = None,
    isolation: Isolation | None = None,
    cache: SandboxCache | None = None,
) -> SandboxResult:
    """Run ``program`` once with ``stdin`` (None: empty) and judge its stdout against ``expected``.

    ``passed`` means: the sandbox ran it, it exited with status 0 within the limits, and
    ``check(stdout, expected)`` found no difference (default: LiveCodeBench's line rule). A
    ``failed`` result's ``detail`` says why (``wrong answer at line 2: ...``, ``exit code 1
    (ValueError)``). The returned ``stdout`` is cut to ``max_output_bytes`` after judging, so
    cached verdicts stay small. With ``cache`` the verdict is stored under a key that includes the
    stdin, the expected output and the check's name. Never raises for anything the program does.
    """
    lim = limits or SandboxLimits()
    mode = isolation or choose_isolation(allow_weak)
    key = ""
    if cache is not None:
        key = SandboxCache.key(program, "", lim, mode, stdin=stdin or "", expected=expected, check=check.name)
        hit = cache.get(key)
        if hit is not None:
            return hit
    cap = stdout_capture_bytes(expected, lim)
    raw = _execute(program, lim, mode, stdin=stdin or "", stdout_cap=cap)
    result = judge(raw, expected, check, lim)
    if cache is not None:
        cache.put(key, result)
    return result


def judge(raw: SandboxResult, expected: str, check: OutputCheck, limits: SandboxLimits) -> SandboxResult:
    """Turn a raw run (classified by the nonce protocol) into the stdin/stdout verdict."""
    status, detail = raw.status, raw.detail
    if status not in _LIMIT_STATUSES:
        if raw.exit_code != 0:
            status = "failed"  # the nonce classification already names the exit code and exception
        elif raw.stdout_truncated:
            status, detail = "failed", f"wrong answer: more output than the {len(raw.stdout)} bytes kept"
        else:
            why = check(raw.stdout, expected)
            if why is not None and raw.status == "failed":
                # exit status 0 without the nonce: it ended early (sys.exit, os._exit) - say so
                how = "SystemExit" if "SystemExit" in raw.detail else "os._exit or similar"
                why += f" (the program ended early: {how})"
            status, detail = ("passed", "") if why is None else ("failed", why)
    kept = raw.stdout.encode("utf-8", "surrogatepass")
    truncated = raw.stdout_truncated or len(kept) > limits.max_output_bytes
    stdout = kept[: limits.max_output_bytes].decode("utf-8", "replace") if truncated else raw.stdout
    return dataclasses.replace(
        raw,
        status=status,
        detail=detail,
        stdout=stdout,
        stdout_truncated=truncated,
        extra={**raw.extra, "check": check.name},
    )
