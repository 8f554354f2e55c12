"""Numeric answer extraction and comparison for math word problems (GSM8K).

Extraction follows EvalScope 1.x's order: the last `\\boxed{...}` (brace-balanced), else the text
after 'The answer is', 'final answer is', 'ANSWER:', else the last number in the reply.
Comparison: exact string match after normalisation, else numeric equality with relative
tolerance 1e-4, also accepting the reference ×100 or ÷100 (percent answers) — EvalScope's
`math_equal` numeric branch. EvalScope's symbolic (sympy) branch is not needed for GSM8K's integer
answers and is left to the MATH benchmarks.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"-?\d*\.?\d+")


def _boxed(text: str) -> str | None:
    idx = text.rfind("boxed")
    if idx < 0:
        return None
    rest = text[idx + len("boxed") :]
    if not rest:
        return ""
    if rest[0] != "{":
        return rest.split("$")[0].strip()
    depth, out = 1, []
    for ch in rest[1:]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        out.append(ch)
    return "".join(out)


def extract_answer(text: str) -> str:
    boxed = _boxed(text)
    if boxed is not None:
        pred = boxed
    elif "he answer is" in text:
        pred = text.split("he answer is")[-1].strip()
    elif "final answer is" in text:
        pred = text.split("final answer is")[-1].strip()
    elif "ANSWER:" in text:
        pred = text.split("ANSWER:")[-1].strip()
    else:
        numbers = _NUMBER.findall(text.replace(",", ""))
        pred = numbers[-1] if numbers else ""
    pred = re.sub(r"\n\s*", "", pred)
    pred = pred.lstrip(":").rstrip("./").strip()
    return normalize(pred)


def normalize(answer: str) -> str:
    """Drop what does not change a numeric answer: $, units in \\text{}, thousands commas, spaces."""
    s = answer.strip()
    s = re.sub(r"\\text\{\s*([-\d.,/]+)\s*\}", r"\1", s)  # \text{18} is the answer itself
    s = re.sub(r"\\text\{.*?\}", "", s)  # \text{ dollars} is a unit
    s = re.sub(r"\\(?:mbox|mathrm)\{.*?\}", "", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "%").replace("\\!", "")
    s = s.replace("dfrac", "frac").replace("tfrac", "frac")
    s = s.strip().rstrip(".")
    if re.fullmatch(r"-?[\d,]+(\.\d+)?%?", s):
        s = s.replace(",", "")
    if re.fullmatch(r"-?\d+\.0+", s):
        s = s.split(".")[0]
    return s.strip()


def _to_float(s: str) -> float | None:
    s = s.strip().rstrip("%")
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", s)
    try:
        if m:
            return float(m.group(1)) / float(m.group(2))
        return float(s)
    except (ValueError, ZeroDivisionError):
        return None


def numeric_equal(prediction: str, reference: str) -> bool:
    pred, ref = normalize(prediction), normalize(reference)
    if pred.lower() == ref.lower():
        return True
    p, r = _to_float(pred), _to_float(ref)
    if p is None or r is None:
        return False
    return any(math.isclose(p, cand, rel_tol=1e-4) for cand in (r, r / 100, r * 100))
