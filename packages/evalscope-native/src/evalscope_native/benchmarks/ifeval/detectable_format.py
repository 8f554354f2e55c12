"""`detectable_format:*` — bullets, highlights, sections, JSON, a title, one of fixed answers."""

from __future__ import annotations

import json
import re

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs

_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", re.MULTILINE)
_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_BOLD_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
_TITLE = re.compile(r"<<[^\n]+>>")

#: the answers `constrained_response` accepts (the prompts spell them out)
CONSTRAINED_ANSWERS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def number_bullet_lists(args: InstructionArgs) -> Checker:
    """Exactly N lines starting with `* ` (not `**`) or `-` (so a `---` rule counts too)."""
    expected = args.integer("num_bullets")
    return lambda response: (
        len(_STAR_BULLET.findall(response)) + len(_DASH_BULLET.findall(response)) == expected
    )


def constrained_response(args: InstructionArgs) -> Checker:
    """One of the fixed answers appears anywhere in the response."""
    return lambda response: any(answer in response.strip() for answer in CONSTRAINED_ANSWERS)


def number_highlighted_sections(args: InstructionArgs) -> Checker:
    """At least N non-empty `*highlights*` on one line; a `**bold**` span counts too.

    The count is EvalScope's (and lm-evaluation-harness's): single-star spans with text plus
    double-star spans with text. `**bold**` is found as two empty single-star spans (not counted)
    and one double-star span (counted once).
    """
    minimum = args.integer("num_highlights")

    def check(response: str) -> bool:
        single = sum(1 for h in _HIGHLIGHT.findall(response) if h.strip("*").strip())
        double = sum(1 for h in _BOLD_HIGHLIGHT.findall(response) if h[2:-2].strip())
        return single + double >= minimum

    return check


def multiple_sections(args: InstructionArgs) -> Checker:
    """At least N sections, each opened by the splitter word and a number ('SECTION 1').

    The splitter is matched case-sensitively anywhere, even inside a word, as in the reference.
    """
    splitter = args.text("section_spliter").strip()
    minimum = args.integer("num_sections")
    try:
        pattern = re.compile(r"\s?" + splitter + r"\s?\d+\s?")
    except re.error as exc:
        raise ValueError(f"{args.where}.section_spliter is not a valid pattern: {exc}") from None
    return lambda response: len(pattern.split(response)) - 1 >= minimum


def json_format(args: InstructionArgs) -> Checker:
    """The whole response parses as JSON once a surrounding markdown code fence is removed."""

    def check(response: str) -> bool:
        text = response.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            text = text.removeprefix(fence)
        text = text.removesuffix("```").strip()
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    return check


def title(args: InstructionArgs) -> Checker:
    """A `<<title>>` on one line with some non-space text inside."""
    return lambda response: any(t.lstrip("<").rstrip(">").strip() for t in _TITLE.findall(response))
