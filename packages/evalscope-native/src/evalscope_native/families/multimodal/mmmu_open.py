"""MMMU's open-question scoring, from the official evaluation (MMMU-Benchmark/MMMU,
`mmmu/utils/eval_utils.py`), as EvalScope 1.14.1 calls it (`benchmarks/mmmu/utils.py`)."""

from __future__ import annotations

import re

_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_SIMPLE = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")
_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def normalize(text: str) -> list[str | float]:
    """A number → [itself rounded to 2 decimals]; text → [lower-cased] (one letter padded both ways)."""
    text = text.strip()
    if _is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    if len(text) == 1:
        return [" " + text, text + " "]  # avoid trivial matches
    return [text]


def _key_responses(response: str) -> list[str]:
    response = response.strip().strip(".").lower()
    pieces = re.split(r"\.\s(?=[A-Z])|\n", response)
    indicators = list(_INDICATORS)
    keys = []
    for index, piece in enumerate(pieces):
        if index == len(pieces) - 1:
            indicators.append("=")  # the last piece may be just an equation
        shortest: str | None = None
        for indicator in indicators:
            if indicator in piece:
                tail = piece.split(indicator)[-1].strip()
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in (":", ",", ".", "!", "?", ";", "'"):
            keys.append(shortest)
    return keys or [response]


def parse_open_response(response: str) -> list[str | float]:
    """The normalised candidate answers (texts and numbers) a response states."""
    keys = _key_responses(response)
    candidates = list(keys)
    for key in keys:
        candidates += _COMMAS.findall(key) + _SCIENTIFIC.findall(key) + _SIMPLE.findall(key)
    out: list[str | float] = []
    for candidate in candidates:
        out.extend(normalize(candidate))
    return list(set(out))


def eval_open(gold: str | list[str], predictions: list[str | float]) -> bool:
    """A list gold accepts any of its answers; texts match by inclusion, numbers by equality."""
    answers: list[str | float] = []
    for answer in gold if isinstance(gold, list) else [gold]:
        answers.extend(normalize(answer))
    for pred in predictions:
        if isinstance(pred, str):
            if any(isinstance(a, str) and a in pred for a in answers):
                return True
        elif pred in answers:
            return True
    return False
