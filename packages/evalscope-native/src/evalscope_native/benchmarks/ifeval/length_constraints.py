"""`length_constraints:*` — counts of sentences, words and paragraphs, and a paragraph's first word."""

from __future__ import annotations

import re

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs, compare
from evalscope_native.benchmarks.ifeval.text import count_sentences, count_words

_STARS_DIVIDER = re.compile(r"\s?\*\*\*\s?")
_FIRST_WORD_STOPS = frozenset(".,?!'\"")


def number_sentences(args: InstructionArgs) -> Checker:
    threshold, relation = args.integer("num_sentences"), args.relation("relation")
    split = args.sentences()
    return lambda response: compare(count_sentences(response, split), relation, threshold)


def number_words(args: InstructionArgs) -> Checker:
    threshold, relation = args.integer("num_words"), args.relation("relation")
    return lambda response: compare(count_words(response), relation, threshold)


def number_paragraphs(args: InstructionArgs) -> Checker:
    """Exactly N paragraphs separated by the markdown divider `***`.

    An empty piece is allowed only before the first or after the last divider; an empty piece
    between two dividers fails the instruction.
    """
    expected = args.integer("num_paragraphs")

    def check(response: str) -> bool:
        pieces = _STARS_DIVIDER.split(response)
        count = len(pieces)
        for i, piece in enumerate(pieces):
            if not piece.strip():
                if i not in (0, len(pieces) - 1):
                    return False
                count -= 1
        return count == expected

    return check


def nth_paragraph_first_word(args: InstructionArgs) -> Checker:
    """N paragraphs separated by blank lines (`\\n\\n`), paragraph `nth` starting with a given word.

    As in the reference, empty pieces are not counted as paragraphs but still take an index, so a
    response that opens with a blank line has its first paragraph at index 2; the first word is the
    first whitespace-separated token with leading quotes removed, cut at the first of `.,?!'"`.
    """
    expected = args.integer("num_paragraphs")
    nth = args.integer("nth_paragraph")
    if not 0 < nth <= expected:
        raise ValueError(f"{args.where}.nth_paragraph must be between 1 and num_paragraphs, got {nth}")
    first_word = args.text("first_word").lower()

    def check(response: str) -> bool:
        paragraphs = re.split(r"\n\n", response)
        count = sum(1 for p in paragraphs if p.strip())
        if nth > count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
        head = []
        for ch in word:
            if ch in _FIRST_WORD_STOPS:
                break
            head.append(ch.lower())
        return count == expected and "".join(head) == first_word

    return check
