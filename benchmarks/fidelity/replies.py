"""Scripted model replies in the many shapes real models answer in, correct and wrong.

A fidelity check is only as good as the replies it scores: a model that always writes
'ANSWER: B' exercises one branch of an answer parser. So each sample gets one reply drawn, by its
position, from a list of formats — the right answer or a wrong one, in `\\boxed{}`, after 'The
answer is', as a bare letter, with a trailing unit or thousands separators, as a LaTeX fraction,
as a refusal, empty, or behind a `<think>` block (closed or never closed). Round-robin by position
rather than by hash, so even a 10-sample run covers most formats.

Pure functions, no imports from either engine: the fast pytest test imports this module alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Reply", "family_of", "format_count", "make_reply", "FORMATS", "REFUSAL"]

REFUSAL = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True)
class Reply:
    """One scripted reply and the name of its format (`family/format`), kept for the difference report."""

    fmt: str
    text: str


# --- multiple choice ----------------------------------------------------------------------------------


def _letter(i: int) -> str:
    return chr(ord("A") + i)


def _wrong_letter(target: str, n: int) -> str:
    """The next label after the target, wrapping: a deterministic wrong choice."""
    i = ord(target[:1] or "A") - ord("A")
    return _letter((i + 1) % max(n, 2))


def _mcq(target: str, choices: Sequence[str]) -> list[tuple[str, str]]:
    """`target` is the label, or several joined by ", " when more than one choice is right."""
    t = target.strip() or "A"
    w = _wrong_letter(t, len(choices))
    i = ord(t[:1]) - ord("A")
    text_t = choices[i] if 0 <= i < len(choices) else t
    return [
        ("answer_marker", f"ANSWER: {t}"),
        ("answer_marker_wrong", f"ANSWER: {w}"),
        ("the_answer_is_paren", f"The answer is ({t})."),
        ("bare_letter", t),
        ("bare_paren_wrong", f"({w})"),
        (
            "cot_then_marker",
            f"Let me think step by step.\nOption {w} does not fit the question.\nANSWER: {t}",
        ),
        ("think_wrong_then_right", f"<think>\nIt could be {w}.\nANSWER: {w}\n</think>\nANSWER: {t}"),
        ("think_unclosed", f"<think>\nI keep going back and forth between {t} and {w}"),
        ("refusal", REFUSAL),
        ("marker_bold", f"ANSWER: **{t}**"),
        ("marker_with_text", f"ANSWER: {t}) {text_t}"),
        ("boxed_letter", f"The final answer is \\boxed{{{t}}}."),
        ("marker_brackets", f"ANSWER: [{t}]"),
        ("marker_lowercase", f"answer: {t.lower()}"),
        ("marker_two_letters", f"ANSWER: {t}, {w}"),
        ("choice_text_only", f"The correct option is: {text_t}"),
        ("empty", ""),
        ("marker_then_explanation", f"ANSWER: {t}.\n\nExplanation: option {w} is incorrect."),
        ("the_answer_is_wrong", f"The answer is {w}."),
        ("hedged_sentence", f"Both {t} and {w} look plausible. I'll go with {t}."),
        ("markdown_answer_heading", f"**Answer:** {t}"),
        ("answer_is_letter_period", f"Therefore, the answer is {t}."),
        ("think_unclosed_right", f"<think>\nIt might be {w}... no, it is {t}"),
        ("think_close_only", f"ANSWER: {t}\n</think>"),
        ("two_think_blocks", f"<think>Maybe {w}.</think>\nANSWER: {t}\n<think>Double-checked.</think>"),
        ("marker_latex_then_note", f"ANSWER: $\\boxed{{{t}}}$ (not {w})"),
        ("marker_and_connector", f"ANSWER: {t} and {w}"),
    ]


# --- math ----------------------------------------------------------------------------------------------

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")


def _number(target: str) -> float | None:
    s = target.replace(",", "").strip()
    if _INT.fullmatch(s) or _FLOAT.fullmatch(s):
        return float(s)
    return None


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _commas(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


def _math(target: str) -> list[tuple[str, str]]:
    t = target.strip()
    value = _number(t)
    if value is not None:
        plain, wrong = _plain(value), _plain(value + 1)
        commas = _commas(value)
        if value.is_integer():
            frac = f"\\frac{{{int(value) * 2}}}{{2}}"
        else:
            frac = f"\\frac{{{_plain(value * 4)}}}{{4}}"
    else:  # a LaTeX answer (MATH-500, AIME's are integers)
        plain, wrong, commas, frac = t, ("2" if t != "2" else "3"), t, f"\\dfrac{{{t}}}{{1}}"
    return [
        ("boxed", f"Step by step: we combine the quantities.\nSo the answer is \\boxed{{{plain}}}."),
        ("boxed_wrong", f"The result is \\boxed{{{wrong}}}."),
        ("the_answer_is", f"The answer is {plain}."),
        ("the_answer_is_dollar", f"The answer is ${plain}."),
        ("trailing_unit_sentence", f"Adding everything up, she earns {plain} dollars in total."),
        ("thousands_separator", f"The answer is {commas}."),
        ("boxed_thousands", f"\\boxed{{{commas}}}"),
        ("latex_fraction", f"The final answer is \\boxed{{{frac}}}."),
        ("boxed_trailing_zeros", f"\\boxed{{{plain}.00}}" if value is not None else f"\\boxed{{{plain}}}"),
        ("boxed_dollar", f"\\boxed{{\\${plain}}}"),
        ("boxed_text_unit", f"\\boxed{{{plain} \\text{{ dollars}}}}"),
        ("boxed_percent", f"\\boxed{{{plain}\\%}}"),
        ("refusal", REFUSAL),
        (
            "think_wrong_then_right",
            f"<think>The answer is \\boxed{{{wrong}}}</think>The answer is \\boxed{{{plain}}}",
        ),
        ("think_unclosed", f"<think>Let me compute this carefully: {wrong}"),
        ("answer_marker", f"ANSWER: {plain}"),
        ("bare_number", plain),
        ("two_boxed", f"First guess \\boxed{{{wrong}}}, corrected: \\boxed{{{plain}}}"),
        ("equation", f"x = {plain}"),
        ("the_answer_is_colon_inline_math", f"The answer is: \\({plain}\\)"),
        ("empty", ""),
        ("markdown_answer_unit", f"**Answer:** {plain} cm"),
        ("inline_dollars", f"${plain}$"),
        ("final_answer_is", f"The final answer is {plain}. I hope it is correct."),
        ("last_number_wrong", f"The answer is {plain}, checked against {wrong}"),
        ("think_unclosed_right", f"<think>Let me compute: the answer is \\boxed{{{plain}}}"),
        ("think_close_only", f"\\boxed{{{plain}}}\n</think>"),
    ]


# --- free-form text answers ----------------------------------------------------------------------------


def _text(target: str) -> list[tuple[str, str]]:
    t = target.strip()
    return [
        ("exact", t),
        ("the_answer_is", f"The answer is {t}."),
        ("lowercase", t.lower()),
        ("answer_marker", f"ANSWER: {t}"),
        ("wrong", "I believe it is something else entirely."),
        ("refusal", REFUSAL),
        ("think_then_answer", f"<think>Maybe not {t}?</think>{t}"),
        ("think_unclosed", f"<think>Considering {t}"),
        ("boxed", f"\\boxed{{{t}}}"),
        ("bold", f"**{t}**"),
        ("trailing_period", f"{t}."),
        ("empty", ""),
        (
            "sentence_with_answer",
            f"After looking it up, I'm fairly sure that it is {t}, as most sources say.",
        ),
        ("think_close_only", f"{t}</think>"),
    ]


# --- open-ended responses (instruction following: no single target) ------------------------------------


def _free(_: str) -> list[tuple[str, str]]:
    return [
        ("plain_paragraph", "This is a short answer written in plain sentences. It has two sentences."),
        ("all_lowercase", "this answer is written entirely in lowercase letters, without any capitals."),
        ("all_caps", "THIS ANSWER IS WRITTEN ENTIRELY IN CAPITAL LETTERS."),
        ("title_and_postscript", "<<A Short Title>>\n\nThe body of the answer.\n\nP.S. A postscript."),
        ("json_block", '```json\n{"answer": "a JSON object", "valid": true}\n```'),
        ("bullets", "* first point\n* second point\n* third point"),
        ("paragraphs_stars", "First paragraph.\n\n***\n\nSecond paragraph.\n\n***\n\nThird paragraph."),
        ("quoted", '"The whole answer is wrapped in double quotes."'),
        ("highlighted", "Some *highlighted section* and another *highlighted part* here."),
        ("ends_with_phrase", "Here is the answer you wanted. Is there anything else I can help with?"),
        ("refusal", REFUSAL),
        ("think_then_text", "<think>Plan the answer first.</think>A final answer, after thinking."),
        ("empty", ""),
        ("comma_free_long", " ".join(["word"] * 120)),
        ("sections", "SECTION 1\nThe first section.\n\nSECTION 2\nThe second section."),
    ]


FORMATS: dict[str, Callable[..., list[tuple[str, str]]]] = {
    "mcq": _mcq,
    "math": _math,
    "text": _text,
    "free": _free,
}


def format_count(family: str) -> int:
    """How many formats a family has: the number of samples a benchmark needs to use them all."""
    return len(FORMATS[family]("A", ["a", "b"]) if family == "mcq" else FORMATS[family]("1"))


def family_of(target: str | Sequence[str], choices: Sequence[str] | None) -> str:
    """The reply family a sample needs: lettered choices, a math answer, a text answer, or none."""
    if choices:
        return "mcq"
    first = target if isinstance(target, str) else (target[0] if target else "")
    if not first.strip():
        return "free"
    if _number(first) is not None or "\\" in first or re.fullmatch(r"[-\d\s.,/^()+*{}$]+", first):
        return "math"
    return "text"


def make_reply(
    family: str, target: str | Sequence[str], choices: Sequence[str] | None, position: int
) -> Reply:
    """The reply for the sample at `position` (0, 1, 2, … within a benchmark): formats in turn."""
    first = target if isinstance(target, str) else (target[0] if target else "")
    build = FORMATS[family]
    if family == "mcq":  # every right label: 'ANSWER: A, C' is the right reply to a multiple-answer question
        label = target if isinstance(target, str) else ", ".join(target)
        options = build(label, list(choices or []))
    else:
        options = build(first)
    name, text = options[position % len(options)]
    return Reply(f"{family}/{name}", text)
