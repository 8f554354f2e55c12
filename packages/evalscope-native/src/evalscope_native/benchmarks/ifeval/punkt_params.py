"""Punkt parameters written by hand, so sentence counting needs no downloaded model.

Punkt (Kiss & Strunk 2006; NLTK's `PunktSentenceTokenizer`) breaks a sentence after every `.`, `?`
or `!` that ends a word, and consults learned statistics only for a word that ends in a period and
is an abbreviation, an initial, a number or an ellipsis. The statistics are three tables:

* abbreviation types: a period after these is not a sentence end (unless the next word says so);
* an orthographic table, word -> how its first letter was seen (upper/lower case, at the start or
  in the middle of sentences): a capitalised word after an abbreviation or an initial starts a new
  sentence when the word is one usually written in lower case;
* frequent sentence starters, and collocations (a refinement we leave empty).

The lists below are ours: common English abbreviations (titles, company forms, months, a few
place and time forms), common lower-case English words (function words and frequent adverbs)
and the pronoun 'I' as a sentence starter. They were checked against the behaviour
of NLTK's trained English model, so that, like the reference, a period after `e.g.`, `i.e.`, `etc.`
or `P.S.` ends a sentence (the trained model does not know those abbreviations) while `Dr.`,
`Mr.`, `U.S.` or `p.m.` do not. `benchmarks/fidelity/ifeval_reference.py` measures the remaining
difference.
"""

from __future__ import annotations

from typing import Any

#: abbreviations, lower case, without the final period (internal periods kept)
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof messrs jr sr st gen sen rep col lt maj
    inc ltd corp co bros vs ft yr ph.d
    a.m p.m a.d u.s u.s.a u.k u.n d.c n.y n.j
    jan feb aug sep sept oct nov dec
    """.split()
)

#: words usually written in lower case: capitalised after an abbreviation or initial, they start a sentence
COMMON_LOWER_CASE_WORDS = frozenset(
    """
    a about above after again against all also although always among an and another any are as at
    be because been before being below between both but by
    can could did do does doing down during each either even every everyone everything
    few finally first for from further furthermore given had has have having he her here hers herself
    him himself his how however if in instead into is it its itself just last later let like
    many may maybe me meanwhile might more moreover most much must my myself
    neither never next no nor not now of off often on once one only or other others otherwise our
    ours ourselves out over overall perhaps please rather second she should since so some still such
    than that the their theirs them themselves then there therefore these they third this those
    though through thus to today together too under unless until up upon us very was we were what
    whatever when where whether which while who whom whose why will with within without would yes
    yet you your yours yourself additionally consequently similarly specifically ultimately
    """.split()
)

#: frequent sentence openers that are always capitalised ('I'): after an abbreviation, they start one
SENTENCE_STARTERS = frozenset({"i"})


def builtin_parameters() -> Any:
    """A `nltk.tokenize.punkt.PunktParameters` filled from the lists above."""
    from nltk.tokenize.punkt import PunktParameters

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    params.sent_starters = set(SENTENCE_STARTERS)
    # Seen in lower case inside sentences (Punkt's `_ORTHO_MID_LC` flag), never in upper case there.
    mid_sentence_lower_case = 1 << 5
    for word in COMMON_LOWER_CASE_WORDS:
        params.ortho_context[word] = mid_sentence_lower_case
    return params
