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
_BRACKETED = re.compile(r"[\(\[（【]\s*([A-Za-z\d](?:\s*[,，]\s*[A-Za-z\d])*)\s*[\)\]）】]")
_PLAIN = re.compile(r"([A-Za-z\d][A-Za-z\d ,]*)")
_TOKEN = re.compile(r"[A-Za-z\d]+")


def letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index - 25)


def format_choices(choices: list[str]) -> str:
    return "\n".join(f"{letter(i)}) {c}" for i, c in enumerate(choices))


def letters(n: int) -> str:
    return ",".join(letter(i) for i in range(n))


def _label_prefix(capture: str, allowed: set[str]) -> str:
    """Keep the leading run of valid labels: 'B, not C because...' → 'B, not' stops at 'not'."""
    end = 0
    for tok in _TOKEN.finditer(capture):
        word = tok.group(0)
        if word in allowed or set(word) <= allowed:
            end = tok.end()
            continue
        break
    return capture[:end]


def parse_single_answer(text: str, n_choices: int) -> str:
    """The chosen letter, or '' when the reply names no valid label."""
    allowed = {letter(i) for i in range(n_choices)}
    for marker in reversed(list(_MARKER.finditer(text))):
        tail = text[marker.end() :]
        for pattern in (_BRACKETED, _PLAIN):
            m = pattern.match(tail)
            if m is None:
                continue
            prefix = _label_prefix(m.group(1), allowed).strip().rstrip(".")
            if prefix:
                return prefix if prefix in allowed else ""
    for ch in reversed(text):
        if ch.isupper():
            return ch if ch in allowed else ""
    return ""


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
