"""Counting words and sentences the way the reference does, without downloading NLTK data.

The reference counts words with NLTK's `RegexpTokenizer(r"\\w+")`, which NLTK 3.10 runs on the
`regex` engine, where `\\w` takes in combining marks (a Hindi or Kannada word is one word; Python's
`re` would cut it at every vowel sign). It counts sentences with NLTK's pre-trained English Punkt
model (`punkt_tab`, fetched by `nltk.download`), and splits words for the capital-word count with
`nltk.word_tokenize` (Punkt sentences, then NLTK's Treebank-style word tokenizer). Only the Punkt
*model* is data; the algorithms are NLTK code, which we use as they are.

Two sentence splitters, chosen per run with `--dataset-args '{"ifeval": {"extra_params":
{"sentence_splitter": "punkt"}}}'`:

* `builtin` (default): NLTK's Punkt algorithm with parameters written here (`punkt_params.py`):
  common English abbreviations and an orthographic table of common words. Needs no data, so a run
  scores the same on every machine. It differs from the trained model only where Punkt's learned
  statistics decide: after abbreviations, initials and ellipses (see docs/benchmarks/ifeval.md for
  the measured agreement).
* `punkt`: NLTK's trained English model, exactly the reference, when `punkt_tab` is already
  installed (`NLTK_DATA` or NLTK's usual folders). Nothing is downloaded: a missing model is an
  error that says how to install it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from evalscope.errors import ConfigError

if TYPE_CHECKING:
    from evalscope_native.benchmarks.ifeval.args import SentenceSplitter

SPLITTERS = ("builtin", "punkt")


def count_words(text: str) -> int:
    """Runs of word characters, as `nltk.tokenize.RegexpTokenizer(r"\\w+")` finds them."""
    return len(_word_pattern().findall(text))


@functools.cache
def _word_pattern() -> Any:
    import regex

    return regex.compile(r"\w+", regex.UNICODE | regex.MULTILINE | regex.DOTALL)


def sentence_splitter(name: str = "builtin") -> SentenceSplitter:
    """The sentence splitter called `name` (`builtin` or `punkt`), built once per process."""
    if name not in SPLITTERS:
        raise ConfigError(
            f"Unknown ifeval sentence_splitter {name!r}.", hint=f"Use one of: {', '.join(SPLITTERS)}."
        )
    return _punkt_model() if name == "punkt" else _builtin()


@functools.cache
def _builtin() -> SentenceSplitter:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from evalscope_native.benchmarks.ifeval.punkt_params import builtin_parameters

    tokenizer: Any = PunktSentenceTokenizer(builtin_parameters())
    return tokenizer.tokenize


@functools.cache
def _punkt_model() -> SentenceSplitter:
    from nltk.tokenize.punkt import PunktTokenizer

    try:
        tokenizer: Any = PunktTokenizer("english")
    except LookupError:
        raise ConfigError(
            "The ifeval sentence_splitter 'punkt' needs NLTK's English Punkt model, which is not installed.",
            hint="Install it once with `python -m nltk.downloader punkt_tab` (or point NLTK_DATA at a copy), "
            "or use the default sentence_splitter 'builtin'.",
        ) from None
    return tokenizer.tokenize


def count_sentences(text: str, split_sentences: SentenceSplitter) -> int:
    return len(split_sentences(text))


def word_tokens(text: str, split_sentences: SentenceSplitter) -> list[str]:
    """`nltk.word_tokenize(text)` with the given sentence splitter: sentences, then Treebank words."""
    tokenizer = _treebank()
    return [token for sentence in split_sentences(text) for token in tokenizer.tokenize(sentence)]


@functools.cache
def _treebank() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()
