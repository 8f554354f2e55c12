"""Strict and loose following of a prompt's instructions, and the four IFEval scores.

Strict: each checker sees the response as it is. Loose (the paper's "upper bound"): an instruction
counts as followed if any of eight variants passes: the response, without its first line, without
its last line, without both, each of those also with every `*` removed (markdown emphasis that
breaks e.g. an exact phrase, or a first line like "Sure, here it is:"). An empty or all-space
variant never passes, so an empty response follows nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalscope_native.benchmarks.ifeval.args import Checker

PROMPT_STRICT = "prompt_level_strict"
INST_STRICT = "inst_level_strict"
PROMPT_LOOSE = "prompt_level_loose"
INST_LOOSE = "inst_level_loose"
#: EvalScope 1.14.1's metric names, in its order (the first is its primary metric)
METRICS = (PROMPT_STRICT, INST_STRICT, PROMPT_LOOSE, INST_LOOSE)


@dataclass(frozen=True)
class Verdict:
    """Per instruction, whether the response follows it, strictly and loosely."""

    strict: tuple[bool, ...]
    loose: tuple[bool, ...]

    def scores(self) -> dict[str, float]:
        return {
            PROMPT_STRICT: float(all(self.strict)),
            INST_STRICT: _mean(self.strict),
            PROMPT_LOOSE: float(all(self.loose)),
            INST_LOOSE: _mean(self.loose),
        }


def _mean(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def loose_variants(response: str) -> list[str]:
    """The eight texts the loose test tries, in the reference's order."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    trimmed = [response, without_first, without_last, without_both]
    return [
        response,
        response.replace("*", ""),
        without_first,
        without_last,
        without_both,
        *(text.replace("*", "") for text in trimmed[1:]),
    ]


def _follows(checker: Checker, text: str) -> bool:
    return bool(text.strip()) and checker(text)


def evaluate(checkers: Sequence[Checker], response: str) -> Verdict:
    variants = loose_variants(response)
    strict = tuple(_follows(c, response) for c in checkers)
    loose = tuple(
        s or any(_follows(c, v) for v in variants[1:]) for c, s in zip(checkers, strict, strict=True)
    )
    return Verdict(strict=strict, loose=loose)
