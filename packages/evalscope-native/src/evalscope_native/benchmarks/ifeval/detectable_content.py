"""`detectable_content:*` — `[placeholders]` and a postscript."""

from __future__ import annotations

import re

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs

_PLACEHOLDER = re.compile(r"\[.*?\]")


def number_placeholders(args: InstructionArgs) -> Checker:
    """At least N `[...]` placeholders (each non-greedy bracket pair on one line counts)."""
    minimum = args.integer("num_placeholders")
    return lambda response: len(_PLACEHOLDER.findall(response)) >= minimum


def postscript(args: InstructionArgs) -> Checker:
    """A line that starts (after spaces) with the marker, compared in lower case.

    'P.S.' and 'P.P.S' accept optional spaces after each period ('p. s.', 'p.p. s'); any other
    marker is used as a regular expression, as in the reference.
    """
    marker = args.text("postscript_marker").strip()
    if marker == "P.P.S":
        body = r"p\.\s?p\.\s?s"
    elif marker == "P.S.":
        body = r"p\.\s?s\."
    else:
        body = marker.lower()
    pattern = re.compile(r"\s*" + body + r".*$", re.MULTILINE)
    return lambda response: bool(pattern.findall(response.lower()))
