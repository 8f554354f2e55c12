"""Math answers extracted and compared by Math-Verify, called the way EvalScope 1.14.1 calls it.

EvalScope 1.14.1 (`evalscope/metrics/math/parser.py`) hands all of its math scoring to Math-Verify
0.9.0; the settings below are what decide scores, so they are kept exactly:

* **Parsing.** `math_verify.parse(text, [LatexExtractionConfig(boxed_match_priority=0),
  ExprExtractionConfig()], fallback_mode="first_match", extraction_mode="first_match",
  parsing_timeout=None)`. A reply is parsed as it is; an extracted answer or a reference is a
  *fragment*, wrapped in `$…$` unless it already starts with `$`, `\\(`, `\\[`, `\\boxed` or
  `\\fbox`. A bare number in scientific notation is read with a capital `E` (the LaTeX parser takes
  `e` for Euler's number).
* **The extracted answer** is the text Math-Verify matched (its string result), with `%` added back
  when the value is a percentage whose text lost the sign.
* **Equality.** `math_verify.verify(gold, prediction, strict=True, float_rounding=6,
  numeric_precision=15, allow_set_relation_comp=False, timeout_seconds=None, raise_on_error=True)`
  over every parsed gold/prediction pair. AIME also needs both texts to be integer literals.
* **Deadline.** Math-Verify's worst case is unbounded (some replies make its regexes backtrack for
  minutes while holding the GIL), so its own signal timers are off and each call runs in a child
  process that is abandoned after `DEADLINE_S` (30 s). EvalScope forks one child per call; here
  long-lived children serve every call (one, and more under load: `_Pool`), each replaced when a
  call overruns, which costs ~0.1 ms per call instead of ~30 ms.

Where EvalScope *excludes* a sample (reference that does not parse, a call past the deadline), the
native engine has no exclusion, so the sample scores 0 and the reason is logged.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

log = logging.getLogger("evalscope.native.math")

DEADLINE_S = 30.0
#: Starting the child imports SymPy and Math-Verify (~2 s); a cold disk can take much longer.
STARTUP_DEADLINE_S = 120.0

_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
_SCIENTIFIC_LOWER_E = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)e[+-]?[0-9]+")
_FRAGMENT_OPENERS = ("$", "\\(", "\\[", "\\boxed", "\\fbox")
_INSTALL_HINT = 'pip install "math-verify[antlr4_13_2]==0.9.0"'


@dataclass(frozen=True)
class Comparison:
    """The outcome of one comparison; `reason` uses EvalScope's words (matched, not_equivalent,
    prediction_not_parsed, integer_literal_required, invalid_reference, invalid_integer_reference)
    plus `timeout` and `error: …`."""

    matched: bool
    reason: str


# --- the calls themselves (run in the child process) ---------------------------------------------


@functools.lru_cache(maxsize=8192)
def _parse(text: str, fragment: bool) -> tuple[tuple[Any, ...], str]:
    """Math-Verify's parsed values and the text it matched.

    Cached: a pure function of its text (SymPy values are immutable), and a run parses the same
    texts again and again -- a right answer's text is its reference's, and references repeat
    (GSM8K's 1,319 have ~500 distinct answers): 0.9 s of GSM8K's comparisons become 0.2 s.
    """
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    text = text.strip()
    if not text:
        return (), ""
    literal = text if _SCIENTIFIC.fullmatch(text) else None
    if literal is not None:
        text = "$" + text.replace("e", "E") + "$"
    elif fragment and not text.startswith(_FRAGMENT_OPENERS):
        text = f"${text}$"
    found = parse(
        text,
        extraction_config=[LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()],
        fallback_mode="first_match",
        extraction_mode="first_match",
        parsing_timeout=None,  # None disables its signal timer
    )
    values = [item for item in found if not isinstance(item, str)]
    shown = next((item for item in found if isinstance(item, str)), "")
    if values and _SCIENTIFIC_LOWER_E.fullmatch(shown):
        again = parse(
            "$" + shown.replace("e", "E") + "$",
            extraction_config=[LatexExtractionConfig()],
            fallback_mode="first_match",
            extraction_mode="first_match",
            parsing_timeout=None,
        )
        values = [item for item in again if not isinstance(item, str)]
    if literal is not None:
        shown = literal
    if len(values) == 1 and "%" not in shown:
        from math_verify.grader import get_pct_val

        if get_pct_val(values[0]) is not None:
            shown += "%"
    return tuple(values), shown


def _is_integer_literal(text: str) -> bool:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return False
    return value.is_finite() and value == value.to_integral_value()


def _extract_now(text: str) -> str:
    return _parse(text, fragment=False)[1]


def _compare_now(prediction: str, reference: str, integer_only: bool) -> tuple[bool, str]:
    from math_verify import verify

    predictions, shown = _parse(prediction, fragment=True)
    golds, gold_shown = _parse(reference, fragment=True)
    if not golds:
        return False, "invalid_reference"
    if integer_only and not _is_integer_literal(gold_shown):
        return False, "invalid_integer_reference"
    if not predictions:
        return False, "prediction_not_parsed"
    if integer_only and not _is_integer_literal(shown):
        return False, "integer_literal_required"
    matched = any(
        verify(
            [gold],
            [pred],
            strict=True,
            float_rounding=6,
            numeric_precision=15,
            allow_set_relation_comp=False,
            timeout_seconds=None,
            raise_on_error=True,
        )
        for gold in golds
        for pred in predictions
    )
    return matched, "matched" if matched else "not_equivalent"


_OPS: dict[str, Any] = {"extract": _extract_now, "compare": _compare_now}


def _serve() -> None:
    """The child's loop: one JSON request per stdin line, one JSON answer per stdout line."""
    channel = sys.stdout
    sys.stdout = sys.stderr  # a stray print in a library must not corrupt the protocol
    if hasattr(os, "nice"):
        # Below the run's own process: where cores are short, sending requests and reading replies
        # go first and scoring takes the time left over (it overlaps the requests either way).
        os.nice(5)
    logging.disable(logging.WARNING)  # Math-Verify warns on every call that its own timers are off
    try:
        _compare_now("0", "0", False)  # import and warm up before saying ready
        channel.write(json.dumps({"ready": True}) + "\n")
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which explains the fix
        channel.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        channel.flush()
        return
    channel.flush()
    for line in sys.stdin:
        op, args = json.loads(line)
        try:
            reply = [True, _OPS[op](*args)]
        except Exception as exc:  # noqa: BLE001 - the parent turns it into a reason
            reply = [False, f"{type(exc).__name__}: {exc}"]
        channel.write(json.dumps(reply) + "\n")
        channel.flush()


# --- the parent's side -----------------------------------------------------------------------------


class Overrun(Exception):
    """A call did not finish before its deadline; the child that ran it has been killed."""


class _Worker:
    """One long-lived child process running Math-Verify; replaced when a call overruns or it dies."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self.in_process = os.name != "posix"  # select() on pipes is POSIX-only

    def call(self, op: str, args: list[Any], deadline: float | None = None) -> Any:
        deadline = DEADLINE_S if deadline is None else deadline
        if self.in_process:
            return _OPS[op](*args)
        with self._lock:
            proc = self._running()
            if proc is None:
                return _OPS[op](*args)
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps([op, args]) + "\n")
                proc.stdin.flush()
            except OSError:
                self._stop()
                raise RuntimeError("the math scoring process exited") from None
            line = _read_line(proc.stdout, deadline)
            if line is None:
                self._stop()
                raise Overrun(f"Math-Verify {op} did not finish within {deadline:g} s")
            if not line:
                self._stop()
                raise RuntimeError("the math scoring process exited")
        ok, payload = json.loads(line)
        if not ok:
            raise RuntimeError(payload)
        return payload

    def start(self) -> None:
        """Start the child now (from a background thread: its ~2 s start then overlaps other work)."""
        if self.in_process:
            return
        try:
            with self._lock:
                self._running()
        except Exception as exc:  # noqa: BLE001 - the first real call starts it again and reports the error
            log.debug("math scoring process did not start in the background: %s", exc)

    def _running(self) -> subprocess.Popen[str] | None:
        """The child, started if needed; None (and in-process from now on) when it cannot start."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        assert proc.stdout is not None
        line = _read_line(proc.stdout, STARTUP_DEADLINE_S)
        hello = json.loads(line) if line else {"ready": False, "error": "no answer from the child"}
        if hello.get("ready"):
            self._proc = proc
            return proc
        proc.kill()
        proc.wait()
        _require_math_verify()  # the same import failing here is a missing dependency: say how to fix it
        log.warning(
            "math scoring runs in-process without a deadline: the child process did not start (%s)",
            hello.get("error"),
        )
        self.in_process = True
        return None

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Kill the child at exit: it holds nothing worth flushing, and a polite end of input would
        make the run wait for SymPy's interpreter teardown (~0.3 s) before the command returns.
        Not waited for either: the kernel freeing its memory takes ~10 ms, and the exiting run's
        children are reaped by init."""
        with self._lock:
            if self._proc is not None:
                self._proc.kill()
                self._proc.returncode = -9  # reaped or not, it is gone: no "still running" warning
                self._proc = None


def _read_line(stream: IO[str], deadline: float) -> str | None:
    """One line from the child, "" at end of file, None when the deadline passes first."""
    end = time.monotonic() + deadline
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            return stream.readline()


def _require_math_verify() -> None:
    try:
        import math_verify  # noqa: F401
    except ImportError:
        from evalscope.errors import MissingDependencyError

        raise MissingDependencyError(
            "Math answers are compared with Math-Verify, which is not installed.", hint=_INSTALL_HINT
        ) from None


class _Pool:
    """Up to ``size`` workers, one call each at a time; the second and later start only under load.

    One worker scores ~600 GSM8K answers a second; against a fast server 1,319 answers arrive in
    ~0.5 s, so a single child would leave ~2 s of scoring after the last reply. A worker costs
    ~0.5 s of CPU to start, so another is started only once ``GROW_AFTER`` calls have been served
    and a call finds every worker busy: a short run never pays for it.
    """

    GROW_AFTER = 64

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, size if size is not None else min(os.cpu_count() or 1, 4))
        self._workers = [_Worker()]
        self._idle = list(self._workers)
        self._cond = threading.Condition()
        self._served = 0

    @property
    def in_process(self) -> bool:
        return self._workers[0].in_process

    def call(self, op: str, args: list[Any], deadline: float | None = None) -> Any:
        worker = self._acquire()
        try:
            return worker.call(op, args, deadline)
        finally:
            with self._cond:
                self._idle.append(worker)
                self._cond.notify()

    def _acquire(self) -> _Worker:
        with self._cond:
            self._served += 1
            while not self._idle:
                grow = len(self._workers) < self.size and self._served > self.GROW_AFTER
                if grow and not self.in_process:
                    worker = _Worker()  # started by its first call, on this thread; the others go on
                    self._workers.append(worker)
                    return worker
                self._cond.wait()
            return self._idle.pop()

    def start(self) -> None:
        self._workers[0].start()

    def close(self) -> None:
        for worker in list(self._workers):
            worker.close()


#: the pool, sized for the scoring threads of a math benchmark (`MathProblems.scoring_workers`)
_worker: _Pool | _Worker = _Pool()
atexit.register(lambda: _worker.close())


def scoring_processes() -> int:
    """How many calls the pool can serve at once (the scoring threads worth running)."""
    return _worker.size if isinstance(_worker, _Pool) else 1


def warm_up() -> None:
    """Start the scoring process in the background, so it is ready by the time the first answer is."""
    threading.Thread(target=_worker.start, name="math-verify-start", daemon=True).start()


@functools.lru_cache(maxsize=65536)
def extract(text: str) -> str:
    """The answer Math-Verify finds in a reply ("" when none, or when the call overran).

    Cached: a split converted again (few-shot pools, per-subset passes) costs nothing the second time.
    """
    try:
        return str(_worker.call("extract", [text]))
    except (Overrun, RuntimeError) as exc:
        log.warning("answer extraction failed, scored as no answer: %s", exc)
        return ""


def compare(prediction: str, reference: str, *, integer_only: bool = False) -> Comparison:
    """Whether an extracted answer equals the reference, as EvalScope 1.14.1's `acc` decides it."""
    try:
        matched, reason = _worker.call("compare", [prediction, reference, integer_only])
    except Overrun:
        log.warning("math comparison of %r with %r overran %g s: scored 0", prediction, reference, DEADLINE_S)
        return Comparison(False, "timeout")
    except RuntimeError as exc:
        return Comparison(False, f"error: {exc}")
    if reason.startswith("invalid"):
        log.warning("reference %r is not a valid answer (%s): scored 0", reference, reason)
    return Comparison(bool(matched), str(reason))


if __name__ == "__main__":
    _serve()
