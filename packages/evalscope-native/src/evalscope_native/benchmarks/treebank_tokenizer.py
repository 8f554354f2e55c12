"""English word tokenisation for BLEU, after NLTK's `word_tokenize` (which EvalScope's BLEU uses).

`word_tokenize` splits the text into sentences (Punkt) and each sentence into Penn-Treebank-style
tokens (NLTK 3.10's `NLTKWordTokenizer`). The word rules below are the Treebank tokenizer's, in our
own code, and give NLTK's tokens for any one sentence. Sentence splitting is an approximation of
Punkt without its trained model: a sentence ends at '?' / '!' followed by a space, and at a '.'
followed by a space unless the word before is an ellipsis, a common abbreviation ("Mr."), an
initial followed by a capital ("J. Smith") or a number followed by a lower-case word. Sentence
boundaries only matter for a '.' that ends a sentence in mid-text ('world.' vs 'world' '.') and for
a '"' opening one, so single sentences always match.
"""

from __future__ import annotations

import re

# Common abbreviations that Punkt's English model knows (it learnt them from a corpus), so "Mr. Smith"
# is one sentence; "etc." and "e.g." are not among them.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs inc ltd co corp jan feb aug sep sept oct nov dec gen lt col "
    "u.s u.k a.m p.m".split()
)

_SENTENCE_END = re.compile(r"[.?!][\"')\]}»”’]*(?=\s+\S)")
_CLOSERS = "\"')]}»”’"

_STARTING_QUOTES = [
    (re.compile(r"([«“‘„]|[`]+)"), r" \1 "),
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
    (re.compile(r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)"), r"\1 "),
]
_PUNCTUATION = [
    (re.compile(r"([^\.])(\.)([\]\)}>\"\'»”’ ]*)\s*$"), r"\1 \2 \3 "),
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.{2,}"), r" \g<0> "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r"[\u2012-\u2015]"), r" \g<0> "),
    (re.compile(r"([^\.])(\.)([\]\)}>\"\']*)\s*$"), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[*]"), r" \g<0> "),
]
_PARENS = (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> ")
_DOUBLE_DASH = (re.compile(r"--"), r" -- ")
_ENDING_QUOTES = [
    (re.compile(r"([»”’])"), r" \1 "),
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"\s+"), " "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
_CONTRACTIONS = [
    re.compile(p)
    for p in (
        r"(?i)\b(can)(not)\b",
        r"(?i)\b(d)('ye)\b",
        r"(?i)\b(gim)(me)\b",
        r"(?i)\b(gon)(na)\b",
        r"(?i)\b(got)(ta)\b",
        r"(?i)\b(lem)(me)\b",
        r"(?i)\b(more)('n)\b",
        r"(?i)\b(wan)(na)(?=\s)",
        r"(?i) ('t)(is)\b",
        r"(?i) ('t)(was)\b",
    )
]


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the '.', '?' or '!' (plus closing quotes) ending at `end` closes a sentence."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    chunk = text[start:end].rstrip(_CLOSERS)
    if chunk.endswith(("?", "!")):
        return True
    word = chunk[:-1].lower()
    nxt = text[end:].lstrip()[:1]
    if word.endswith(".") or word in ABBREVIATIONS:  # an ellipsis or an abbreviation
        return False
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith" goes on, "J. 3" does not
        return not nxt.isupper()
    return not (word.replace(",", "").isdigit() and nxt.islower())  # "in 1990. the" goes on


def split_sentences(text: str) -> list[str]:
    # Like Punkt, the first sentence keeps its leading whitespace (it decides whether a '"' opens the text).
    sentences, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, m.end()):
            sentences.append(text[start : m.end()].rstrip())
            start = m.end()
    sentences.append(text[start:].rstrip())
    return [s if i == 0 else s.lstrip() for i, s in enumerate(sentences) if s.strip()]


def tokenize_sentence(text: str) -> list[str]:
    """NLTK's Treebank word rules for one sentence."""
    for pattern, repl in _STARTING_QUOTES + _PUNCTUATION + [_PARENS, _DOUBLE_DASH]:
        text = pattern.sub(repl, text)
    text = f" {text} "
    for pattern, repl in _ENDING_QUOTES:
        text = pattern.sub(repl, text)
    for pattern in _CONTRACTIONS:
        text = pattern.sub(r" \1 \2 ", text)
    return text.split()


def word_tokenize(text: str) -> list[str]:
    return [token for sentence in split_sentences(text) for token in tokenize_sentence(sentence)]
