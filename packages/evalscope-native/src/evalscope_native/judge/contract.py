"""What a judge must reply, and how the reply is read: EvalScope 1.14.1's JSON contract, leniently.

Every judge prompt ends with EvalScope 1.14.1's instruction, byte for byte ("Reply with a single JSON
object and no other text, containing these required keys ..."), so a judge answers our prompts as
it answers EvalScope's. Reading is stricter than a regex and kinder than EvalScope:

* the reply must hold exactly one top-level JSON object (string-aware brace matching, so a ```json
  fence or prose around it is fine), and its fields must fit the contract (a label among the
  allowed ones, an integer in range, ...);
* when it holds none, the classic verdict shapes judges were trained on are accepted for the same
  field — `[[A>>B]]` (Arena-Hard), `[[7]]` / `Rating: [[7]]` (MT-Bench), or a reply that is nothing
  but one allowed label (`B`, SimpleQA's grader letters) — because a judge that ignores the format
  but states its verdict unambiguously has still decided;
* anything else is a `MalformedVerdict` naming what was wrong; the caller asks again (at most
  `judge.max_reasks` times) and otherwise records a judge failure with the reply quoted.

The verdict is read from the judge's reply only: the answer under review is never parsed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Field", "MalformedVerdict", "OutputContract", "REASK_PROMPT"]

REASK_PROMPT = (
    "Your reply could not be read: {reason}. Reply again with only the JSON object described above "
    "(the keys {keys}), and no other text."
)


class MalformedVerdict(ValueError):
    """A judge reply that does not state a verdict the contract can read."""


@dataclass(frozen=True)
class Field:
    """One key of the JSON reply: a free string, one of `labels`, or a number within bounds."""

    name: str
    kind: str = "str"  # str | label | int | float
    labels: tuple[str, ...] = ()
    ge: float | None = None
    le: float | None = None

    def describe(self) -> str:
        if self.kind == "label":
            return "exactly one of " + " or ".join(f'"{label}"' for label in self.labels)
        base = {"int": "an integer", "float": "a number"}.get(self.kind, "a string")
        bounds = [f">= {_num(self.ge, self.kind)}" if self.ge is not None else "",
                  f"<= {_num(self.le, self.kind)}" if self.le is not None else ""]  # fmt: skip
        bounds = [b for b in bounds if b]
        return f"{base} {' and '.join(bounds)}" if bounds else base

    def check(self, value: Any) -> Any:
        if self.kind == "str":
            if not isinstance(value, str):
                raise MalformedVerdict(f'"{self.name}" must be a string')
            return value
        if self.kind == "label":
            if not isinstance(value, str) or value not in self.labels:
                raise MalformedVerdict(
                    f'"{self.name}" must be one of {", ".join(self.labels)}, not {value!r}'
                )
            return value
        number = _number(value, self.kind == "int")
        if number is None:
            raise MalformedVerdict(f'"{self.name}" must be {self.describe()}, not {value!r}')
        if (self.ge is not None and number < self.ge) or (self.le is not None and number > self.le):
            raise MalformedVerdict(f'"{self.name}" must be {self.describe()}, not {value!r}')
        return number


@dataclass(frozen=True)
class OutputContract:
    """The keys a judge reply must hold; `verdict` names the key that decides (the others explain)."""

    fields: tuple[Field, ...]
    verdict: str = "verdict"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def instruction(self) -> str:
        """EvalScope 1.14.1's `OutputContract.instruction()`, appended to the judge's user message."""
        lines = "\n".join(f'- "{f.name}": {f.describe()}' for f in self.fields)
        return (
            "\n\nReply with a single JSON object and no other text, containing these required keys "
            "(additional keys are allowed):\n" + lines
        )

    def reask(self, reason: str) -> str:
        return REASK_PROMPT.format(reason=reason, keys=", ".join(f'"{f.name}"' for f in self.fields))

    def parse(self, reply: str) -> dict[str, Any]:
        """The validated fields of `reply`, or `MalformedVerdict` saying why not."""
        text = reply.strip()
        if not text:
            raise MalformedVerdict("empty reply")
        objects = _json_objects(text)
        if len(objects) > 1:
            raise MalformedVerdict(f"{len(objects)} JSON objects where exactly one is required")
        if objects:
            try:
                data = json.loads(objects[0])
            except ValueError as exc:
                raise MalformedVerdict(f"the JSON object is not valid JSON ({exc})") from None
            if not isinstance(data, dict):
                raise MalformedVerdict("the reply's JSON is not an object")
            out: dict[str, Any] = {}
            for f in self.fields:
                if f.name not in data:
                    if f.name != self.verdict and f.kind == "str":
                        out[f.name] = ""
                        continue
                    raise MalformedVerdict(f'the JSON object has no "{f.name}"')
                out[f.name] = f.check(data[f.name])
            return out
        return self._classic(text)

    def _classic(self, text: str) -> dict[str, Any]:
        """`[[A>>B]]`, `[[7]]`, or a reply that is exactly one allowed label."""
        decider = next(f for f in self.fields if f.name == self.verdict)
        brackets = re.findall(r"\[\[\s*([^\[\]]{1,20}?)\s*\]\]", text)
        candidates = brackets[-1:] if brackets else []
        if not candidates and decider.kind == "label":
            bare = text.strip().strip("\"'`*.").strip()
            if bare in decider.labels:
                candidates = [bare]
        if not candidates:
            raise MalformedVerdict("no JSON object and no [[verdict]] in the reply")
        value = decider.check(candidates[0])
        return {
            f.name: (value if f is decider else "") for f in self.fields if f.kind == "str" or f is decider
        }


def _num(value: float | None, kind: str) -> str:
    if value is None:
        return ""
    return str(int(value)) if kind == "int" else str(float(value))


def _number(value: Any, integer: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    if integer:
        return int(value) if float(value).is_integer() else None
    return float(value)


def _json_objects(text: str) -> list[str]:
    """Every top-level balanced `{...}` in `text`, braces inside JSON strings ignored."""
    found: list[str] = []
    depth, start, in_string, escaped = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"' and depth > 0:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                found.append(text[start : i + 1])
    return found
