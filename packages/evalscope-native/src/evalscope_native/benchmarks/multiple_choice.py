"""Multiple-choice prompting and answer parsing, following EvalScope 1.x's templates.

The templates are EvalScope's verbatim because prompts change scores: a user comparing our
numbers with EvalScope's must be comparing the same prompt. The parser is our own code with the
same contract: the label after the *last* 'ANSWER:' marker that is followed by a valid label
('(A)', '[A]' and 'A, not C' accepted), else the last capital letter if it is a valid label.
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import Sample

SINGLE_ANSWER = (
    "Answer the following multiple choice question. The entire content of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}.\n\n"
    "{question}\n\n{choices}"
)
SINGLE_ANSWER_COT = (
    "Answer the following multiple choice question. The last line of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. "
    "Think step by step before answering.\n\n{question}\n\n{choices}"
)
FEW_SHOT_PREFIX = "Here are some examples of how to answer similar questions:\n\n{fewshot}\n\n"

_MARKER = re.compile(r"(?i)ANSWER\s*:\s*\**\s*")
# A label wrapped the way options are printed, possibly several: '(A)', '[A]', '(A, C)', '(A/C)'.
_BRACKETED = re.compile(r"[\(\[（【]\s*([A-Za-z\d](?:\s*[,，/、]\s*[A-Za-z\d])*)\s*[\)\]）】]")
# Math typesetting around the label: '$B$', '\\(B\\)', '\\boxed{B}', '$\\boxed{\\text{B}}$'.
_LATEX_PREFIX = re.compile(r"(?:(?:\$+|\\\(|\\(?:boxed|fbox|text|textbf|mathbf|mathrm)\s*\{)\s*)*")
_PLAIN = re.compile(r"([A-Za-z\d][A-Za-z\d ,，/、]*)")
_TOKEN = re.compile(r"[A-Za-z\d]+")
_CONNECTORS = frozenset({"and", "or"})


def letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index - 25)


def format_choices(choices: list[str]) -> str:
    return "\n".join(f"{letter(i)}) {c}" for i, c in enumerate(choices))


def letters(n: int) -> str:
    return ",".join(letter(i) for i in range(n))


def _is_label(word: str, allowed: set[str]) -> bool:
    return word in allowed or set(word) <= allowed


def _label_run(capture: str, allowed: set[str]) -> str:
    """The leading run of valid labels: 'B, not C because' → 'B'; 'A and B' keeps the connector
    (a connector counts only between two labels, so prose cannot swallow later labels)."""
    tokens = list(_TOKEN.finditer(capture))
    end = 0
    for i, tok in enumerate(tokens):
        word = tok.group(0)
        if _is_label(word, allowed):
            end = tok.end()
            continue
        between = end > 0 and i + 1 < len(tokens) and _is_label(tokens[i + 1].group(0), allowed)
        if between and word.lower() in _CONNECTORS:
            continue
        break
    return capture[:end]


def last_labelled_answer(
    text: str, allowed: set[str], marker: re.Pattern[str] = _MARKER, plain: re.Pattern[str] = _PLAIN
) -> str | None:
    """Labels after the last answer marker that is followed by any (an earlier marker may hold an
    echoed '[LETTER]' placeholder or a choice the model went on to revise)."""
    for m in reversed(list(marker.finditer(text))):
        tail = text[m.end() :]
        prefix = _LATEX_PREFIX.match(tail)
        if prefix is not None:
            tail = tail[prefix.end() :]
        for pattern in (_BRACKETED, plain):
            found = pattern.match(tail)
            if found is None:
                continue
            run = _label_run(found.group(1), allowed)
            if run:
                return run
    return None


def fallback_label(text: str, allowed: set[str]) -> str:
    """The last capital letter, if it is a valid label (else no answer rather than a wrong one)."""
    for ch in reversed(text):
        if ch.isupper():
            return ch if ch in allowed else ""
    return ""


def parse_single_answer(text: str, n_choices: int) -> str:
    """The chosen letter, or '' when the reply names no single valid label."""
    allowed = {letter(i) for i in range(n_choices)}
    run = last_labelled_answer(text, allowed)
    if run is None:
        return fallback_label(text, allowed)
    run = run.strip().rstrip(".")
    return run if run in allowed else ""


class MultipleChoiceBenchmark(Benchmark):
    """Lettered choices, EvalScope's prompt, exact-match accuracy on the letter."""

    prompt_template = SINGLE_ANSWER

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        choices = sample.choices or []
        template = self.prompt_template
        if fewshot:
            template = self.few_shot_prompt_template or (FEW_SHOT_PREFIX + self.prompt_template)
        fields: dict[str, Any] = {
            "question": sample.input,
            "choices": format_choices(choices),
            "letters": letters(len(choices)),
        }
        if fewshot:
            fields["fewshot"] = fewshot
        return template.format(**fields)

    def sample_to_fewshot(self, sample: Sample) -> str:
        return f"{sample.input}\n{format_choices(sample.choices or [])}\nANSWER: {sample.target}"

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return parse_single_answer(prediction, len(sample.choices or []))
