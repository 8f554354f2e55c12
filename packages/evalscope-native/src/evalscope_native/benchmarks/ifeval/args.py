"""The arguments of one instruction, read the way the reference reads them, but strictly.

Google's `instruction_following_eval` (and EvalScope 1.14.1, lm-evaluation-harness after it) first
drops every falsy value from an instruction's kwargs (`{k: v for k, v in kwargs.items() if v}`: the
hub's parquet copy fills every unused field with null), then draws a *random* value for anything
still missing. A random threshold makes a score meaningless and unrepeatable, so here a missing
argument is an error naming the record's field instead (a `KeyError`, which the engine reports with
the file and line of the record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the two comparisons every counting instruction accepts, spelled as in the data
LESS_THAN = "less than"
AT_LEAST = "at least"
RELATIONS = (LESS_THAN, AT_LEAST)

#: splits a text into sentences (see `text.py`); handed to the checkers that count sentences or words
SentenceSplitter = Callable[[str], list[str]]
#: one instruction, built: `checker(response)` is whether the response follows it
Checker = Callable[[str], bool]


def compact(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The kwargs without falsy values (the reference's first step: the hub fills unused keys with null)."""
    return {k: v for k, v in (kwargs or {}).items() if v}


def compare(count: int, relation: str, threshold: int) -> bool:
    """`count < threshold` for 'less than', `count >= threshold` for 'at least'."""
    return count < threshold if relation == LESS_THAN else count >= threshold


@dataclass(frozen=True)
class InstructionArgs:
    """One instruction's kwargs with falsy values dropped, and the sentence splitter to count with.

    `where` names the instruction in error messages (e.g. `kwargs[1] (keywords:frequency)`).
    """

    values: Mapping[str, Any]
    where: str
    split_sentences: SentenceSplitter | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls,
        kwargs: Mapping[str, Any] | None,
        where: str,
        split_sentences: SentenceSplitter | None = None,
    ) -> InstructionArgs:
        return cls(values=compact(kwargs), where=where, split_sentences=split_sentences)

    def _get(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"{self.where}.{name}")
        return self.values[name]

    def integer(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ValueError(f"{self.where}.{name} must be an integer, got {value!r}")
        return int(value)

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise ValueError(f"{self.where}.{name} must be a string, got {value!r}")
        return value

    def texts(self, name: str) -> list[str]:
        value = self._get(name)
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{self.where}.{name} must be a list of strings, got {value!r}")
        return list(value)

    def relation(self, name: str) -> str:
        value = self.text(name)
        if value not in RELATIONS:
            raise ValueError(f"{self.where}.{name} must be one of {RELATIONS}, got {value!r}")
        return value

    def sentences(self) -> SentenceSplitter:
        if self.split_sentences is None:  # the registry always passes one; a bare unit test may not
            from evalscope_native.benchmarks.ifeval.text import sentence_splitter

            return sentence_splitter()
        return self.split_sentences
