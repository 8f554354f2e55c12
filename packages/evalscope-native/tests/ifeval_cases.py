"""Hand-written IFEval responses, each with the verdict EvalScope 1.14.1's own checkers give it.

One row: (instruction id, kwargs, response, strictly followed, loosely followed). Every instruction
type has at least one response that follows it and one that does not, plus the edge cases where a
careless reimplementation differs: `**bold**` counted once as a highlight, a `---` rule counted
as a bullet, an empty piece between `***` dividers, a leading blank line shifting paragraph
numbers, markers written 'p. s.', a JSON fence, an undetectable language, contractions counted as
two capital words. The verdicts were checked against the reference code
(`evalscope/benchmarks/ifeval/utils.py` of EvalScope 1.14.1, run with NLTK's English Punkt model);
the test suite itself never needs it.
"""

from __future__ import annotations

from typing import Any

Case = tuple[str, dict[str, Any], str, bool, bool]

LONG_EN = " ".join(["The river runs past the old mill and the children play on its banks."] * 4)

CASES: list[Case] = [
    # keywords
    ("keywords:existence", {"keywords": ["river", "mill"]}, LONG_EN, True, True),
    ("keywords:existence", {"keywords": ["river", "bridge"]}, LONG_EN, False, False),
    ("keywords:existence", {"keywords": ["play"]}, "They were playing.", True, True),  # substring counts
    ("keywords:frequency", {"keyword": "river", "frequency": 4, "relation": "at least"}, LONG_EN, True, True),
    (
        "keywords:frequency",
        {"keyword": "river", "frequency": 4, "relation": "less than"},
        LONG_EN,
        False,
        False,
    ),
    (
        "keywords:frequency",
        {"keyword": "RIVER", "frequency": 5, "relation": "less than"},
        LONG_EN,
        True,
        True,
    ),
    ("keywords:forbidden_words", {"forbidden_words": ["bridge", "lake"]}, LONG_EN, True, True),
    ("keywords:forbidden_words", {"forbidden_words": ["Mill"]}, LONG_EN, False, False),
    (
        "keywords:forbidden_words",
        {"forbidden_words": ["mill"]},
        "The millers left.",
        True,
        True,
    ),  # whole words
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 3, "let_relation": "less than"},
        "Zig zag.",
        True,
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "Z", "let_frequency": 2, "let_relation": "at least"},
        "Zig zag.",
        True,
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 3, "let_relation": "at least"},
        "Zig zag.",
        False,
        False,
    ),
    # language
    (
        "language:response_language",
        {"language": "fr"},
        "Nous aimons beaucoup cette ville et ses marchés.",
        True,
        True,
    ),
    ("language:response_language", {"language": "fr"}, LONG_EN, False, False),
    ("language:response_language", {"language": "de"}, "12345 !!!", True, True),  # undetectable: followed
    # length constraints
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "Dr. Smith came. He left.",
        True,
        True,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "at least"},
        "Dr. Smith came. He left.",
        False,
        False,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "at least"},
        "Use fruit, e.g. apples. Wait! Why?",
        True,
        True,
    ),
    ("length_constraints:number_words", {"num_words": 50, "relation": "at least"}, LONG_EN, True, True),
    ("length_constraints:number_words", {"num_words": 50, "relation": "less than"}, LONG_EN, False, False),
    (
        "length_constraints:number_words",
        {"num_words": 3, "relation": "less than"},
        "it's fine",
        False,
        False,
    ),  # it, s, fine
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\nTwo.", True, True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nOne.\n***\nTwo.\n***", True, True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\n***\nTwo.", False, False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "One.\n***\nTwo.", False, False),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        'First part.\n\n"Then, the end.',
        True,
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First part.\n\nAfter that, the end.",
        False,
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "first"},
        "\n\nFirst part.\n\nThen the end.",
        False,
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "first"},
        "Sure:\nFirst part.\n\nThen the end.",
        False,
        True,
    ),
    # detectable content
    (
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "Dear [name], see you at [place].",
        True,
        True,
    ),
    (
        "detectable_content:number_placeholders",
        {"num_placeholders": 3},
        "Dear [name], see you at [place].",
        False,
        False,
    ),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Bye.\n\np. s. See you.", True, True),
    (
        "detectable_content:postscript",
        {"postscript_marker": "P.P.S"},
        "Bye.\nP.P.S. One more thing.",
        True,
        True,
    ),
    (
        "detectable_content:postscript",
        {"postscript_marker": "P.P.S"},
        "Bye.\nP.S. One more thing.",
        False,
        False,
    ),
    # detectable format
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "Items:\n* one\n- two", True, True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "Items:\n* one\n- two\n---", False, True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "**Items**\n* one\n* two", True, True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 3}, "* one\n* two", False, False),
    ("detectable_format:constrained_response", {}, "I think so. My answer is yes.", True, True),
    ("detectable_format:constrained_response", {}, "My answer is Yes.", False, False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", True, True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "**two** and * *", False, False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 3}, "*a* *b* *c*", True, True),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 2},
        "SECTION 1\nHi.\nSECTION 2\nBye.",
        True,
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "SECTION 1\nHi.\nSECTION 2\nBye.",
        False,
        False,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 3},
        "SECTION 1\nHi.\nSECTION 2\nBye.",
        False,
        False,
    ),
    ("detectable_format:json_format", {}, '```json\n{"a": [1, 2]}\n```', True, True),
    ("detectable_format:json_format", {}, 'Here it is:\n{"a": 1}', False, True),
    ("detectable_format:json_format", {}, "{'a': 1}", False, False),
    ("detectable_format:title", {}, "<<Joy of Rivers>>\nText.", True, True),
    ("detectable_format:title", {}, "<<  >>\nText.", False, False),
    ("detectable_format:title", {}, "<<Joy\nof Rivers>>", False, False),
    # combination
    ("combination:two_responses", {}, "Answer one.\n******\nAnswer two.", True, True),
    ("combination:two_responses", {}, "Same.\n******\nSame.", False, False),
    ("combination:two_responses", {}, "A.\n******\n******\nB.", False, False),
    (
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a poem."},
        "write a POEM. Roses are red.",
        True,
        True,
    ),
    (
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a poem."},
        "Sure! Write a poem. Roses are red.",
        False,
        False,
    ),
    # start / end
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        'That is all. "Any other QUESTIONS?"',
        True,
        True,
    ),
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        "Any other questions? Thanks.",
        False,
        False,
    ),
    (
        "startend:end_checker",
        {"end_phrase": "Any other questions?"},
        "That is all. Any other questions?\nBest,",
        False,
        True,
    ),
    ("startend:quotation", {}, '  "Wrapped in quotes."  ', True, True),
    ("startend:quotation", {}, '"', False, False),
    ("startend:quotation", {}, 'Here:\n"Wrapped in quotes."', False, True),
    # change case
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 3, "capital_relation": "at least"},
        "I DON'T like it.",
        True,
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "The USA and the UK.",
        False,
        False,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "The well-known U.S.A. trip.",
        True,
        True,
    ),
    ("change_case:english_capital", {}, "THIS IS ALL IN CAPITAL LETTERS, AS ASKED.", True, True),
    ("change_case:english_capital", {}, "THIS IS ALMOST ALL IN Capital LETTERS.", False, False),
    ("change_case:english_capital", {}, "CECI EST UNE PHRASE EN FRANÇAIS ET PAS EN ANGLAIS.", False, False),
    ("change_case:english_lowercase", {}, "this is all in lower case, as asked.", True, True),
    ("change_case:english_lowercase", {}, "Sure!\nthis is all in lower case, as asked.", False, True),
    ("change_case:english_lowercase", {}, "this is all in lower case, except I.", False, False),
    # punctuation
    ("punctuation:no_comma", {}, "No commas here at all.", True, True),
    ("punctuation:no_comma", {}, "One, two.", False, False),
    ("punctuation:no_comma", {}, "Full-width，comma only.", True, True),
]

#: responses that follow nothing, whatever the instruction: empty or all spaces
EMPTY_RESPONSES = ("", "   \n  ")
