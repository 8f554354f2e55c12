"""`combination:*` — two different responses, or the prompt repeated before the answer."""

from __future__ import annotations

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs


def two_responses(args: InstructionArgs) -> Checker:
    """Exactly two non-empty, different parts separated by `******`.

    Empty parts are allowed only at the very start or end (a leading or trailing separator).
    """

    def check(response: str) -> bool:
        parts = response.split("******")
        kept = []
        for i, part in enumerate(parts):
            if part.strip():
                kept.append(part)
            elif i not in (0, len(parts) - 1):
                return False
        return len(kept) == 2 and kept[0].strip() != kept[1].strip()

    return check


def repeat_prompt(args: InstructionArgs) -> Checker:
    """The response starts with the request to repeat, compared case-insensitively, ends stripped."""
    request = args.text("prompt_to_repeat").strip().lower()
    return lambda response: response.strip().lower().startswith(request)
