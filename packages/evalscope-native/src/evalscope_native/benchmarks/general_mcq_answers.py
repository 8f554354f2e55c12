"""Reading the chosen letter(s) of a general_mcq reply, with EvalScope 1.14.1's parsing contract.

EvalScope picks the parser by prompt: its four Chinese templates ask for '答案：X' and are read by
`parse_answers_zh`; any other prompt (a user's own template included) by `parse_answers`, which looks
for 'ANSWER: X'. Both find the labels after the *last* marker that is followed by any (shared with
the other multiple-choice benchmarks: `multiple_choice.last_labelled_answer`), else take the reply's
last capital letter if it is a valid label. What differs is reading that run of labels:

* single answer: without a trailing '.' ('。' too for Chinese) it must be one valid label;
* multiple answers (English): split on commas, slashes, '、' and 'and'/'or', else into letters
  ('AC'); every part must be a valid label;
* multiple answers (Chinese): ' 和 ' and spaces dropped, split on commas/'、'/slashes if there is
  one, else into letters; every part must be a valid label.

The result is the chosen labels sorted and joined ('AC'), '' when the reply names none.
"""

from __future__ import annotations

import re

from evalscope_native.benchmarks.multiple_choice import fallback_label, last_labelled_answer, letter

_MARKER_ZH = re.compile(r"答案\s*[:：]\s*\**\s*")
_PLAIN_ZH = re.compile(r"([A-Za-z0-9][A-Za-z0-9 ,，/、]*)")
_CONNECTOR_RUN = re.compile(r"\s+(?:and|or)\s+", re.IGNORECASE)


def _english(run: str, allowed: set[str], multiple: bool) -> set[str]:
    run = run.strip().rstrip(".")
    if not multiple:
        return {run} if run in allowed else set()
    run = _CONNECTOR_RUN.sub(",", run).replace(" ", "")
    run = run.replace("，", ",").replace("、", ",").replace("/", ",")
    by_comma = set(run.split(","))
    if by_comma <= allowed:
        return by_comma
    by_letter = set(run.replace(",", ""))
    return by_letter if by_letter <= allowed else set()


def _chinese(run: str, allowed: set[str], multiple: bool) -> set[str]:
    run = run.strip().rstrip("。.")
    if not multiple:
        return {run} if run in allowed else set()
    run = run.replace(" 和 ", "").replace(" ", "")
    run = run.replace("，", ",").replace("、", ",").replace("/", ",")
    chosen = set(run.split(",")) if "," in run else set(run)
    return chosen if chosen <= allowed else set()


def parse_choice(text: str, n_choices: int, *, chinese: bool, multiple: bool) -> str:
    """The chosen label(s) sorted and joined ('B', 'AC'), or '' when the reply names no valid answer."""
    allowed = {letter(i) for i in range(n_choices)}
    if chinese:
        run = last_labelled_answer(text, allowed, marker=_MARKER_ZH, plain=_PLAIN_ZH)
    else:
        run = last_labelled_answer(text, allowed)
    if run is None:
        return fallback_label(text, allowed)
    return "".join(sorted((_chinese if chinese else _english)(run, allowed, multiple)))
