"""Input/output test cases (LiveCodeBench-style), shared by ``live_code_bench`` and ``code_tests``.

Two kinds, as in LiveCodeBench: **stdin** cases (the program reads ``input`` on stdin, its stdout
must match ``output`` under LiveCodeBench's line rule) and **functional** cases (LeetCode-style:
``fn_name`` is called, on a ``Solution()`` instance when the code defines ``class Solution``, with
the JSON values on the lines of ``input``; the return value must equal the JSON ``output``).

Every case is one fresh sandbox run (``run_io_case``), so one case cannot leave state for the next
and the verdict is always the host's: for a functional case the trusted harness appended to the
code prints the return value as JSON on a stdout reserved for it, and the HOST parses and compares
it. The expected values never enter the sandbox. Cases run in order and stop at the first failure,
as LiveCodeBench does; a sample passes only when every case passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from evalscope_native.benchmarks.humaneval import shorten
from evalscope_native.sandbox.compare import STDOUT_LINES, quote
from evalscope_native.sandbox.io_case import run_io_case
from evalscope_native.sandbox.pool import SandboxCache
from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult

#: what LiveCodeBench puts in front of every program (its ``import_string``): solutions may use
#: these names without importing them, and deep recursion is allowed
IMPORT_PRELUDE = (
    "".join(
        f"from {m} import *\n"
        for m in (
            "string re datetime collections heapq bisect copy math random statistics itertools "
            "functools operator io sys json builtins typing"
        ).split()
    )
    + "".join(
        f"import {m}\n"
        for m in (
            "string re datetime collections heapq bisect copy math random statistics itertools "
            "functools operator io sys json"
        ).split()
    )
    + "sys.setrecursionlimit(50000)\n"
)

#: first characters of the line on which the functional harness reports the return value
RESULT_MARKER = "\x1eevalscope-return:"
#: characters of input / expected / got kept in a failure report (LiveCodeBench's truncatefn: 300)
REPORT_CHARS = 300

# The program's own prints go to stderr; fd 1 is kept for the return value. A program can write
# there too, but only the value it writes is judged, and it never sees the expected one.
_FUNCTIONAL_HEAD = (
    "import os as __evalscope_os\n"
    "__evalscope_out = __evalscope_os.fdopen(__evalscope_os.dup(1), 'w', encoding='utf-8')\n"
    "__evalscope_os.dup2(2, 1)\n"
)
_FUNCTIONAL_TAIL = """
import json as __evalscope_json
__evalscope_args = [__evalscope_json.loads(__evalscope_line) for __evalscope_line in {args!r}.split("\\n")]
__evalscope_fn = {target}
__evalscope_got = __evalscope_fn(*__evalscope_args)
if isinstance(__evalscope_got, tuple):
    __evalscope_got = list(__evalscope_got)
__evalscope_out.write({marker!r} + __evalscope_json.dumps(__evalscope_got) + "\\n")
__evalscope_out.flush()
"""


@dataclass(frozen=True)
class TestCase:
    """One case: ``input`` is stdin text, or for a functional case one JSON argument per line."""

    __test__ = False  # not a pytest test class, despite the name

    input: str
    output: str


def _stdin_text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)  # lines, joined as LiveCodeBench joins a list input
    raise ValueError(f"{what} must be a string (or a list of lines), got {type(value).__name__}")


def _functional_text(value: Any, what: str, arguments: bool) -> str:
    """LiveCodeBench writes JSON text (one argument per line); a jsonl row may give the values."""
    if isinstance(value, str):
        text = value
    elif arguments and isinstance(value, list):
        text = "\n".join(json.dumps(v) for v in value)
    else:
        text = json.dumps(value)
    try:
        for line in text.split("\n") if arguments else (text,):
            json.loads(line)
    except ValueError:
        raise ValueError(
            f"{what} must be JSON text (a string value is written with its quotes: '\"abc\"'), got {text[:60]!r}"
        ) from None
    return text


def parse_cases(raw: Any, *, functional: bool, field: str = "test_cases") -> list[TestCase]:
    """Cases from a row: a list of ``{"input": ..., "output": ...}`` or that list as a JSON string.

    stdin cases take text (or a list of lines); functional cases take JSON text, one argument per
    line of ``input``, as LiveCodeBench stores them (in a jsonl row the values themselves work too:
    ``"input": [[2, 7], 9]``). ``testtype`` (LiveCodeBench's field) is accepted; a ``functional``
    case in a row without ``fn_name`` is an error, as there would be nothing to call. Raises
    ValueError naming the bad case.
    """
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{field} is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, list):
        raise ValueError(f'{field} must be a list of {{"input": ..., "output": ...}} objects')
    cases = []
    for number, item in enumerate(raw, start=1):
        what = f"{field} case {number}"
        if not isinstance(item, dict) or "input" not in item or "output" not in item:
            raise ValueError(f'{what} must be an object with "input" and "output"')
        if item.get("testtype") == "functional" and not functional:
            raise ValueError(f"{what} is functional: the row needs fn_name (the function to call)")
        if functional:
            case = TestCase(
                _functional_text(item["input"], f"{what} input", arguments=True),
                _functional_text(item["output"], f"{what} output", arguments=False),
            )
        else:
            case = TestCase(
                _stdin_text(item["input"], f"{what} input"), _stdin_text(item["output"], f"{what} output")
            )
        cases.append(case)
    return cases


def functional_program(code: str, fn_name: str, args: str) -> str:
    """The code, then a trusted call of ``fn_name`` with ``args`` reporting the return value as JSON.

    As LiveCodeBench: a ``Solution()`` instance's method when the code contains ``class Solution``,
    else the module-level function; a returned tuple counts as a list.
    """
    owner = "Solution()" if "class Solution" in code else None
    target = f"getattr({owner}, {fn_name!r})" if owner else f"globals()[{fn_name!r}]"
    tail = _FUNCTIONAL_TAIL.format(args=args, target=target, marker=RESULT_MARKER)
    return _FUNCTIONAL_HEAD + code + "\n" + tail


@dataclass(frozen=True)
class ReturnValue:
    """Host-side check of a functional case: the reported JSON value equals the expected one."""

    name: str = "lcb-functional-json-v1"

    def __call__(self, got: str, expected: str) -> str | None:
        reported = reported_value(got)
        if reported is None:
            return "wrong answer: no return value reported"
        try:
            value, want = json.loads(reported), json.loads(expected)
        except ValueError as exc:
            return f"wrong answer: the return value is not comparable JSON ({exc})"
        if value == want:
            return None
        return f"wrong answer: returned {quote(reported)}, expected {quote(expected)}"


RETURN_VALUE = ReturnValue()


def reported_value(stdout: str) -> str | None:
    lines = [line for line in stdout.split("\n") if line.startswith(RESULT_MARKER)]
    return lines[-1][len(RESULT_MARKER) :] if lines else None


def run_cases(
    code: str,
    cases: list[TestCase],
    *,
    fn_name: str = "",
    prelude: str = "",
    limits: SandboxLimits,
    isolation: Isolation,
    cache: SandboxCache | None,
) -> dict[str, Any]:
    """Run the cases in order, stopping at the first failure; return the summary kept with the sample.

    ``status`` is ``passed`` only when every case passed; ``case_statuses`` lists the verdict of
    each case run; ``first_failure`` shows the failing case's input, expected and actual output
    (each cut to 300 characters) and its stderr.
    """
    program = prelude + code
    statuses: list[str] = []
    wall, all_cached = 0.0, True
    failure: dict[str, Any] | None = None
    last: SandboxResult | None = None
    for index, case in enumerate(cases):
        if fn_name:
            harness = functional_program(program, fn_name, case.input)
            result = run_io_case(
                harness,
                None,
                case.output,
                check=RETURN_VALUE,
                limits=limits,
                isolation=isolation,
                cache=cache,
            )
            got = reported_value(result.stdout) or ""
        else:
            result = run_io_case(
                program,
                case.input,
                case.output,
                check=STDOUT_LINES,
                limits=limits,
                isolation=isolation,
                cache=cache,
            )
            got = result.stdout
        last = result
        statuses.append(result.status)
        wall += result.wall_s
        all_cached = all_cached and result.cached
        if not result.passed:
            failure = {
                "case": index,
                "status": result.status,
                "detail": result.detail,
                "input": shorten(case.input, REPORT_CHARS),
                "expected": shorten(case.output, REPORT_CHARS),
                "got": shorten(got, REPORT_CHARS),
                "stderr": shorten(result.stderr),
            }
            break
    return {
        "kind": "functional" if fn_name else "stdin",
        "status": failure["status"] if failure else "passed",
        "detail": f"case {failure['case']}: {failure['detail']}" if failure else "",
        "cases_total": len(cases),
        "cases_passed": sum(1 for s in statuses if s == "passed"),
        "case_statuses": statuses,
        "first_failure": failure,
        "wall_s": round(wall, 4),
        "isolation": last.isolation if last is not None else isolation,
        "cached": all_cached and bool(statuses),
    }
