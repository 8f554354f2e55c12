"""`change_case:*` — all capitals or all lower case in English, and counts of all-capital words."""

from __future__ import annotations

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs, compare
from evalscope_native.benchmarks.ifeval.language import is_language
from evalscope_native.benchmarks.ifeval.text import word_tokens


def capital_word_frequency(args: InstructionArgs) -> Checker:
    """How many words are all capitals (`str.isupper`), words as `nltk.word_tokenize` splits them.

    The Treebank tokenizer splits contractions ('DON'T' -> 'DO', "N'T": two capital words) and
    keeps hyphenated words whole.
    """
    threshold, relation = args.integer("capital_frequency"), args.relation("capital_relation")
    split = args.sentences()

    def check(response: str) -> bool:
        capitals = sum(1 for token in word_tokens(response, split) if token.isupper())
        return compare(capitals, relation, threshold)

    return check


def english_capital(args: InstructionArgs) -> Checker:
    """`str.isupper()` and detected as English (an undetectable text passes the language test)."""
    return lambda response: response.isupper() and is_language(response, "en")


def english_lowercase(args: InstructionArgs) -> Checker:
    """`str.islower()` and detected as English (an undetectable text passes the language test)."""
    return lambda response: response.islower() and is_language(response, "en")
