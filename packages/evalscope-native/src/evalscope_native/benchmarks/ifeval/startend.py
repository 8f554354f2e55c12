"""`startend:*` — an exact closing phrase, or the whole response in double quotes."""

from __future__ import annotations

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs


def end_checker(args: InstructionArgs) -> Checker:
    """Ends with the phrase, case-insensitively, ignoring surrounding spaces and double quotes."""
    phrase = args.text("end_phrase").strip().lower()
    return lambda response: response.strip().strip('"').lower().endswith(phrase)


def quotation(args: InstructionArgs) -> Checker:
    """Starts and ends with `"` (after stripping spaces); a lone `"` does not count."""

    def check(response: str) -> bool:
        text = response.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'

    return check
