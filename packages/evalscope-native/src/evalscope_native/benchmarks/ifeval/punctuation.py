"""`punctuation:no_comma` — no ASCII comma anywhere (a full-width '，' is not a comma here)."""

from __future__ import annotations

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs


def no_comma(args: InstructionArgs) -> Checker:
    return lambda response: "," not in response
