"""ROUGE and BLEU of one prediction against one reference, as EvalScope 1.14.1's general_qa scores them.

EvalScope uses the `rouge_chinese` package (a port of `rouge`) and NLTK's `sentence_bleu`; both are
re-done here in our own code, with the same definitions:

* **Tokens.** Text with a Chinese character (U+4E00–U+9FA5) is segmented with `jieba` when it is
  installed (as EvalScope does); without it each Chinese character is a token (a documented
  difference). Other text: ROUGE splits on whitespace (punctuation stays on words); BLEU uses NLTK's
  Treebank rules (`treebank_tokenizer.py`).
* **ROUGE** (`rouge_chinese.Rouge`): sentences are cut at '。！？?', '......' and '……'; ROUGE-1/2
  compare the *sets* of n-grams of all sentences (recall = shared / reference n-grams, precision =
  shared / predicted n-grams); ROUGE-L the longest common subsequence of the two word sequences;
  F = 2PR / (P + R + 1e-8). An empty prediction or reference scores 0 everywhere.
* **BLEU-n** (`sentence_bleu` with weight 1 on order n, no smoothing): the clipped n-gram precision
  times the brevity penalty; 0 when no unigram matches, ~2e-308 when unigrams match but no n-gram.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections import Counter
from collections.abc import Callable
from functools import cache

from evalscope_native.benchmarks.treebank_tokenizer import word_tokenize

log = logging.getLogger("evalscope.native")

ROUGE_KEYS = tuple(f"Rouge-{n}-{s}" for n in ("1", "2", "L") for s in ("R", "P", "F"))
BLEU_KEYS = tuple(f"bleu-{n}" for n in range(1, 5))

_SENTENCE_CUTS = [
    (re.compile("([。！？\\?])([^”’])"), r"\1\n\2"),
    (re.compile("(\\.{6})([^”’])"), r"\1\n\2"),
    (re.compile("(\\…{2})([^”’])"), r"\1\n\2"),
    (re.compile("([。！？\\?][”’])([^，。！？\\?])"), r"\1\n\2"),
]
_HAN_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
_HAN_PIECE = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?|.", re.DOTALL)


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fa5" for ch in text)


@cache
def _segmenter() -> Callable[[str], list[str]]:
    try:
        import jieba
    except ImportError:
        log.warning(
            "jieba is not installed: Chinese text is split into single characters for ROUGE/BLEU, so "
            "scores differ from EvalScope's; pip install jieba"
        )
        return _per_character

    def cut(text: str) -> list[str]:
        return list(jieba.cut(text))

    return cut


def _per_character(text: str) -> list[str]:
    """jieba's block structure without its dictionary: Chinese characters one by one, Latin runs whole."""
    tokens: list[str] = []
    for block in _HAN_BLOCK.split(text):
        if not block:
            continue
        if _HAN_BLOCK.fullmatch(block):
            tokens += _HAN_PIECE.findall(block)
        else:
            tokens += list(block)
    return tokens


def segment(text: str) -> list[str]:
    """Chinese word segmentation (jieba when installed); whitespace comes back as tokens, as in jieba."""
    return _segmenter()(text)


# --- ROUGE --------------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    for pattern, repl in _SENTENCE_CUTS:
        text = pattern.sub(repl, text)
    return [" ".join(s.split()) for s in text.rstrip().split("\n") if len(s) > 0]


def _words(sentences: list[str]) -> list[str]:
    return [w for s in sentences for w in s.split(" ")]


def _ngram_set(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _lcs_length(x: list[str], y: list[str]) -> int:
    previous = [0] * (len(y) + 1)
    for xi in x:
        current = [0]
        for j, yj in enumerate(y, start=1):
            current.append(previous[j - 1] + 1 if xi == yj else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def _rpf(overlap: int, predicted: int, reference: int) -> tuple[float, float, float]:
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / reference if reference else 0.0
    return recall, precision, 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def rouge_scores(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L recall, precision and F of one pair (EvalScope's `Rouge-1-R` ... keys)."""
    zeros = dict.fromkeys(ROUGE_KEYS, 0.0)
    if not prediction or not reference:
        return zeros
    if has_chinese(prediction):
        prediction = " ".join(segment(prediction))
    if has_chinese(reference):
        reference = " ".join(segment(reference))
    hyp, ref = _sentences(prediction), _sentences(reference)
    if not hyp or not ref:
        return zeros
    hyp_words, ref_words = _words(hyp), _words(ref)
    scores: dict[str, float] = {}
    for n in (1, 2):
        hyp_set, ref_set = _ngram_set(hyp_words, n), _ngram_set(ref_words, n)
        r, p, f = _rpf(len(hyp_set & ref_set), len(hyp_set), len(ref_set))
        scores |= {f"Rouge-{n}-R": r, f"Rouge-{n}-P": p, f"Rouge-{n}-F": f}
    lcs = _lcs_length(ref_words, hyp_words)
    r_l, p_l = lcs / len(ref_words), lcs / len(hyp_words)
    scores |= {"Rouge-L-R": r_l, "Rouge-L-P": p_l, "Rouge-L-F": 2.0 * ((p_l * r_l) / (p_l + r_l + 1e-8))}
    return {k: scores[k] for k in ROUGE_KEYS}


# --- BLEU ---------------------------------------------------------------------------------------


def _bleu_tokens(text: str) -> list[str]:
    return segment(text) if has_chinese(text) else word_tokenize(text)


def _clipped_precision(hyp: list[str], ref: list[str], n: int) -> tuple[int, int]:
    counts = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
    ref_counts = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    matched = sum(min(c, ref_counts[g]) for g, c in counts.items())
    return matched, max(1, sum(counts.values()))


def bleu_scores(prediction: str, reference: str) -> dict[str, float]:
    """BLEU-1..4 of one pair, each the single-order BLEU NLTK's `sentence_bleu` computes."""
    hyp, ref = _bleu_tokens(prediction), _bleu_tokens(reference)
    precisions = [_clipped_precision(hyp, ref, n) for n in range(1, 5)]
    if precisions[0][0] == 0:
        return dict.fromkeys(BLEU_KEYS, 0.0)
    if len(hyp) > len(ref):
        penalty = 1.0
    elif not hyp:
        penalty = 0.0
    else:
        penalty = math.exp(1 - len(ref) / len(hyp))
    # NLTK's method0: a zero precision becomes the smallest float so its logarithm exists
    logs = [math.log(num / den) if num else math.log(sys.float_info.min) for num, den in precisions]
    scores = {}
    for order, key in enumerate(BLEU_KEYS):
        weights = [1.0 if i == order else 0.0 for i in range(4)]
        scores[key] = penalty * math.exp(math.fsum(w * lg for w, lg in zip(weights, logs, strict=True)))
    return scores
