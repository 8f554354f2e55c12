"""Output checks for stdin/stdout cases: how the host decides that what a program printed is right.

A check is a callable ``(got, expected) -> None | reason`` with a ``name`` that goes into the
verdict cache key (change the name when the rule changes). ``STDOUT_LINES`` is LiveCodeBench's
official rule (its ``grade_stdio``, also EvalScope 1.14.1's): both texts are stripped and split on
``"\\n"``, every line is stripped; the line counts must match and each pair of lines must be equal,
or else both split on whitespace into numbers that are equal as ``Decimal`` values (so ``2.50``
equals ``2.5`` and ``1  2`` equals ``1 2``, but ``a  b`` does not equal ``a b``). There is no
tolerance beyond Decimal equality, as in LiveCodeBench.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

#: how much of a line a mismatch reason quotes
QUOTE = 80


class OutputCheck(Protocol):
    """Decides a case from the program's captured stdout; None means the output is right."""

    @property
    def name(self) -> str: ...

    def __call__(self, got: str, expected: str) -> str | None: ...


def quote(text: str, keep: int = QUOTE) -> str:
    """``repr`` of ``text``, with the middle of a long text cut (as LiveCodeBench's ``truncatefn``)."""
    if len(text) <= keep:
        return repr(text)
    half = keep // 2
    return repr(text[:half]) + "..." + repr(text[-half:])


def stripped_lines(text: str) -> list[str]:
    """LiveCodeBench's ``get_stripped_lines``: an empty output is one empty line, not none."""
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _numbers_equal(got: str, expected: str) -> bool:
    a, b = _decimals(got), _decimals(expected)
    if a is None or b is None:
        return False
    try:
        return a == b
    except InvalidOperation:  # a signalling NaN refuses comparison: LiveCodeBench fails it too
        return False


@dataclass(frozen=True)
class StdoutLines:
    """LiveCodeBench's stdout rule (see the module docstring)."""

    name: str = "lcb-lines-v1"

    def __call__(self, got: str, expected: str) -> str | None:
        got_lines, want_lines = stripped_lines(got), stripped_lines(expected)
        if len(got_lines) != len(want_lines):
            return f"wrong answer: {len(got_lines)} output line(s), expected {len(want_lines)}"
        for number, (a, b) in enumerate(zip(got_lines, want_lines, strict=True), start=1):
            if a != b and not _numbers_equal(a, b):
                return f"wrong answer at line {number}: got {quote(a)}, expected {quote(b)}"
        return None


@dataclass(frozen=True)
class ExactOutput:
    """Byte-for-byte equality (after decoding): for tests where whitespace matters."""

    name: str = "exact-v1"

    def __call__(self, got: str, expected: str) -> str | None:
        if got == expected:
            return None
        pairs = zip(got, expected, strict=False)  # up to the shorter text: the rest differs anyway
        at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(got), len(expected)))
        here, there = quote(got[at : at + 40]), quote(expected[at : at + 40])
        return f"wrong answer: output differs at character {at}: got {here}, expected {there}"


STDOUT_LINES = StdoutLines()
EXACT = ExactOutput()
