"""Instruction id -> checker builder: the 25 instruction types of IFEval's data.

The ids are those of Google's `instructions_registry.INSTRUCTION_DICT` as EvalScope 1.14.1 ships it.
A builder reads and validates the instruction's kwargs once and returns `Checker`, a plain
`(response) -> bool`; building all of a record's checkers is how `record_to_sample` validates it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evalscope_native.benchmarks.ifeval import (
    change_case,
    combination,
    detectable_content,
    detectable_format,
    keywords,
    language,
    length_constraints,
    punctuation,
    startend,
)
from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs, SentenceSplitter

Builder = Callable[[InstructionArgs], Checker]

BUILDERS: Mapping[str, Builder] = {
    "keywords:existence": keywords.existence,
    "keywords:frequency": keywords.frequency,
    "keywords:forbidden_words": keywords.forbidden_words,
    "keywords:letter_frequency": keywords.letter_frequency,
    "language:response_language": language.response_language,
    "length_constraints:number_sentences": length_constraints.number_sentences,
    "length_constraints:number_paragraphs": length_constraints.number_paragraphs,
    "length_constraints:number_words": length_constraints.number_words,
    "length_constraints:nth_paragraph_first_word": length_constraints.nth_paragraph_first_word,
    "detectable_content:number_placeholders": detectable_content.number_placeholders,
    "detectable_content:postscript": detectable_content.postscript,
    "detectable_format:number_bullet_lists": detectable_format.number_bullet_lists,
    "detectable_format:constrained_response": detectable_format.constrained_response,
    "detectable_format:number_highlighted_sections": detectable_format.number_highlighted_sections,
    "detectable_format:multiple_sections": detectable_format.multiple_sections,
    "detectable_format:json_format": detectable_format.json_format,
    "detectable_format:title": detectable_format.title,
    "combination:two_responses": combination.two_responses,
    "combination:repeat_prompt": combination.repeat_prompt,
    "startend:end_checker": startend.end_checker,
    "startend:quotation": startend.quotation,
    "change_case:capital_word_frequency": change_case.capital_word_frequency,
    "change_case:english_capital": change_case.english_capital,
    "change_case:english_lowercase": change_case.english_lowercase,
    "punctuation:no_comma": punctuation.no_comma,
}


def build_checkers(
    instruction_ids: Sequence[str],
    kwargs: Sequence[Mapping[str, Any] | None],
    split_sentences: SentenceSplitter | None = None,
) -> list[Checker]:
    """One checker per instruction; ValueError for an unknown id, KeyError for a missing argument."""
    if len(instruction_ids) != len(kwargs):
        raise ValueError(
            f"instruction_id_list has {len(instruction_ids)} ids but kwargs has {len(kwargs)} entries"
        )
    checkers = []
    for i, (instruction_id, args) in enumerate(zip(instruction_ids, kwargs, strict=True)):
        builder = BUILDERS.get(instruction_id)
        if builder is None:
            raise ValueError(f"unknown IFEval instruction {instruction_id!r} (instruction_id_list[{i}])")
        where = f"kwargs[{i}] ({instruction_id})"
        checkers.append(builder(InstructionArgs.of(args, where, split_sentences)))
    return checkers
