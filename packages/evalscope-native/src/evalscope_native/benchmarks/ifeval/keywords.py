"""`keywords:*` — words that must appear, appear often enough, or not appear; letter counts.

Keywords are used as regular expressions, case-insensitively, exactly as the reference does
(`re.search(keyword, response, re.IGNORECASE)`): `existence` and `frequency` match anywhere, even
inside a longer word, while `forbidden_words` matches whole words only (`\\b…\\b`). A keyword that
is not a valid pattern (none in the real data) is matched literally instead of failing the sample.
"""

from __future__ import annotations

import re

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs, compare


def _pattern(text: str, wrap: str = "{}") -> re.Pattern[str]:
    try:
        return re.compile(wrap.format(text), re.IGNORECASE)
    except re.error:
        return re.compile(wrap.format(re.escape(text)), re.IGNORECASE)


def existence(args: InstructionArgs) -> Checker:
    patterns = [_pattern(k) for k in sorted(args.texts("keywords"))]
    return lambda response: all(p.search(response) for p in patterns)


def frequency(args: InstructionArgs) -> Checker:
    pattern = _pattern(args.text("keyword").strip())
    threshold, relation = args.integer("frequency"), args.relation("relation")
    return lambda response: compare(len(pattern.findall(response)), relation, threshold)


def forbidden_words(args: InstructionArgs) -> Checker:
    patterns = [_pattern(w, r"\b{}\b") for w in sorted(set(args.texts("forbidden_words")))]
    return lambda response: not any(p.search(response) for p in patterns)


def letter_frequency(args: InstructionArgs) -> Checker:
    """How often one character occurs, case-insensitively.

    The reference accepts only a-z here and silently draws a *random* letter for anything else;
    two real prompts ask for '#' and '!' (keys 1122 and 1129), which we count as written.
    """
    letter = args.text("letter").strip().lower()
    if len(letter) != 1:
        raise ValueError(f"{args.where}.letter must be a single character, got {letter!r}")
    threshold, relation = args.integer("let_frequency"), args.relation("let_relation")
    return lambda response: compare(response.lower().count(letter), relation, threshold)
