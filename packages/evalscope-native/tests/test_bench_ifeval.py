"""IFEval: the real data loads, every checker gives the reference's verdicts, scoring and weights, e2e."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks.ifeval import text
from evalscope_native.benchmarks.ifeval.adapter import IFEval
from evalscope_native.benchmarks.ifeval.evaluate import METRICS, evaluate, loose_variants
from evalscope_native.benchmarks.ifeval.registry import BUILDERS, build_checkers
from ifeval_cases import CASES, EMPTY_RESPONSES, Case
from native_helpers import score_with


def _adapter(**dataset_args: Any) -> IFEval:
    from evalscope.config import DatasetArgs

    spec = registry.benchmarks().resolve("ifeval")
    return IFEval(spec, DatasetArgs(**dataset_args))


@pytest.fixture(scope="module")
def rows(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "ifeval" / "default" / "train.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def test_every_real_row_loads_and_every_instruction_has_a_checker(rows: list[dict[str, Any]]) -> None:
    adapter = _adapter()
    samples = [adapter.record_to_sample(row, "default", i) for i, row in enumerate(rows)]
    assert len(samples) == 541 == adapter.spec.sample_counts["default"]
    used = {i for row in rows for i in row["instruction_id_list"]}
    assert used == set(BUILDERS)  # the 25 types of the data, no more, no fewer
    assert sum(len(s.metadata["instruction_id_list"]) for s in samples) == 834
    first = samples[0]
    assert (first.id, first.subset, first.target) == ("1000", "default", "")
    assert first.metadata["kwargs"] == [{}, {"num_highlights": 3}, {"relation": "at least", "num_words": 300}]


def test_prompt_is_the_record_prompt_sent_as_it_is(rows: list[dict[str, Any]]) -> None:
    adapter = _adapter()
    row = rows[3]  # key 1012: a multi-line prompt with '<<title>>' and braces-free text
    sample = adapter.record_to_sample(row, "default", 3)
    messages = adapter.build_messages(sample, [])
    assert [(m.role, m.content) for m in messages] == [("user", row["prompt"])]
    assert adapter.extract_answer("\n\nreply  ", sample) == "\n\nreply  "  # whitespace decides some checks


def _case_id(index: int, case: Case) -> str:
    return f"{index}-{case[0].split(':')[1]}-{'follows' if case[3] else 'violates'}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(i, c) for i, c in enumerate(CASES)])
def test_checker_verdicts_equal_the_reference(case: Case) -> None:
    instruction_id, kwargs, response, strict, loose = case
    verdict = evaluate(build_checkers([instruction_id], [kwargs]), response)
    assert (verdict.strict, verdict.loose) == ((strict,), (loose,))


def test_every_checker_has_a_following_and_a_violating_case() -> None:
    followed = {c[0] for c in CASES if c[3]}
    violated = {c[0] for c in CASES if not c[3]}
    assert followed == violated == set(BUILDERS)


@pytest.mark.parametrize("response", EMPTY_RESPONSES)
def test_an_empty_response_follows_nothing(response: str) -> None:
    checkers = build_checkers(
        ["punctuation:no_comma", "keywords:forbidden_words", "language:response_language"],
        [{}, {"forbidden_words": ["x"]}, {"language": "en"}],
    )
    verdict = evaluate(checkers, response)
    assert verdict.strict == verdict.loose == (False, False, False)


def test_loose_variants_are_the_references_eight() -> None:
    assert loose_variants("Sure:\n*a* b\nBye") == [
        "Sure:\n*a* b\nBye",
        "Sure:\na b\nBye",
        "*a* b\nBye",
        "Sure:\n*a* b",
        "*a* b",
        "a b\nBye",
        "Sure:\na b",
        "a b",
    ]


def test_scores_are_prompt_and_instruction_level_with_instruction_weights(rows: list[dict[str, Any]]) -> None:
    adapter = _adapter()
    sample = adapter.record_to_sample(rows[0], "default", 0)  # no_comma, 3 highlights, >= 300 words
    reply = "Sure, here it is:\n*Raymond* was *Count* of *Tripoli*."  # comma only in the first line
    assert score_with(adapter, reply, sample, reply) == {
        "prompt_level_strict": 0.0,
        "inst_level_strict": pytest.approx(1 / 3),
        "prompt_level_loose": 0.0,
        "inst_level_loose": pytest.approx(2 / 3),
    }
    assert adapter.metric_weights(sample) == {"inst_level_strict": 3.0, "inst_level_loose": 3.0}
    assert tuple(adapter.metrics) == METRICS


def test_hub_rows_with_null_kwargs_score_like_compact_ones() -> None:
    """The hub's parquet fills every unused kwarg with null; like the reference we drop falsy values."""
    hub_kwargs = {
        "num_highlights": None,
        "relation": None,
        "num_words": None,
        "keywords": None,
        "language": None,
    }
    record = {
        "key": 7,
        "prompt": "p",
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [hub_kwargs, {**hub_kwargs, "relation": "less than", "num_words": 5}],
    }
    sample = _adapter().record_to_sample(record, "default", 0)
    assert sample.metadata["kwargs"] == [{}, {"relation": "less than", "num_words": 5}]
    assert score_with(_adapter(), "four words, no more", sample, "")["inst_level_strict"] == 0.5


def test_bad_records_fail_at_load_naming_the_field() -> None:
    adapter = _adapter()

    def record(ids: list[str], kwargs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"key": 1, "prompt": "p", "instruction_id_list": ids, "kwargs": kwargs}

    # the reference would draw a random threshold here; we refuse the record instead
    with pytest.raises(KeyError, match=r"kwargs\[0\] \(length_constraints:number_words\)\.num_words"):
        adapter.record_to_sample(
            record(["length_constraints:number_words"], [{"relation": "at least"}]), "d", 0
        )
    with pytest.raises(ValueError, match="unknown IFEval instruction 'keywords:key_sentences'"):
        adapter.record_to_sample(record(["keywords:key_sentences"], [{}]), "d", 0)
    with pytest.raises(ValueError, match="relation must be one of"):
        adapter.record_to_sample(
            record(["length_constraints:number_words"], [{"relation": "at most", "num_words": 3}]), "d", 0
        )
    with pytest.raises(ValueError, match="has 1 ids but kwargs has 2"):
        adapter.record_to_sample(record(["punctuation:no_comma"], [{}, {}]), "d", 0)
    with pytest.raises(KeyError, match="prompt"):
        adapter.record_to_sample({"key": 1, "instruction_id_list": [], "kwargs": []}, "d", 0)


def test_letter_frequency_counts_the_character_the_reference_randomises() -> None:
    """Keys 1122 and 1129 ask for '#' and '!'; the reference swaps in a random letter, we count them."""
    check = build_checkers(
        ["keywords:letter_frequency"], [{"letter": "#", "let_frequency": 4, "let_relation": "at least"}]
    )[0]
    assert check("#a #b #c #d") and not check("#a #b #c")


def test_builtin_sentence_splitter_agrees_with_punkt_on_common_cases() -> None:
    """Expected counts are those of NLTK's trained English model on the same texts."""
    split = text.sentence_splitter()
    expected = {
        "Dr. Smith went to Washington. He arrived at 5 p.m. yesterday! Was it fun? Yes.": 4,
        "Use fruit, e.g. apples.": 2,  # the trained model does not know 'e.g.'
        "P.S. see you.": 2,
        "The U.S. Army is big.": 1,
        "It is in the U.S. The army is big.": 2,
        "Wait... The end.": 2,
        "I paid $3.50 for it. Then I left.": 2,
        "1. First item\n2. Second item": 3,
        "Mr. and Mrs. Lee arrived at 9 a.m. on Jan. 5.": 1,
    }
    assert {t: text.count_sentences(t, split) for t in expected} == expected
    assert text.word_tokens("I DON'T like the U.S.A. at all.", split) == [
        "I", "DO", "N'T", "like", "the", "U.S.A.", "at", "all", ".",
    ]  # fmt: skip
    assert text.count_words("नमस्ते दुनिया, it's") == 4  # a Hindi word with vowel signs is one word


def test_splitter_choice_is_validated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import nltk.data

    with pytest.raises(ConfigError, match="sentence_splitter 'spacy'"):
        _adapter(extra_params={"sentence_splitter": "spacy"})
    with pytest.raises(ConfigError, match="Unknown extra_params for ifeval: splitter"):
        _adapter(extra_params={"splitter": "punkt"})
    # 'punkt' never downloads: without the model installed the run stops before any request
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    text._punkt_model.cache_clear()
    try:
        with pytest.raises(ConfigError, match="nltk.downloader punkt_tab"):
            _adapter(extra_params={"sentence_splitter": "punkt"})
    finally:
        text._punkt_model.cache_clear()


def test_run_task_reports_the_four_scores_weighted_by_instructions(tmp_path: Path, data_dir: Path) -> None:
    """Four real prompts (7 instructions) with scripted replies whose verdicts are worked out by hand."""
    replies = {
        # 1000: no comma ✓, 3 highlights ✓, >= 300 words ✗
        "Raymond_III": "*Raymond III* was Count of *Tripoli*. He fought in the *Crusades* and died in 1187.",
        # 1001: no comma ✗ (strict and loose)
        "planning a trip to Japan": "Good morrow, traveller. Thy journey begins in Tokyo.\n",
        # 1005: >= 12 placeholders ✓
        "fresh high school graduate": "Resume\n" + "\n".join(f"[field {i}]" for i in range(12)),
        # 1012: repeat the request ✗ strictly ('Sure!' first), ✓ loosely; <<title>> ✓
        "telling him that I am quitting": "Sure!\nWrite an email to my boss telling him that I am quitting. "
        "The email must contain a title wrapped in double angular brackets, i.e. <<title>>.\n"
        "<<Resignation>>\nDear boss, I quit.",
    }
    config = {
        "model": "scripted",
        "default_reply": "",
        "entries": [{"contains": k, "reply": v} for k, v in replies.items()],
    }
    with ScriptedServer(config) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["ifeval"],
                "data_dir": str(data_dir),
                "limit": 4,
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["ifeval"]
    assert report.num_samples == 4 and report.num_errors == 0
    assert [m.name for m in report.metrics] == [f"mean_{m}" for m in METRICS]
    assert report.score("prompt_level_strict") == pytest.approx(1 / 4)
    assert report.score("inst_level_strict") == pytest.approx(4 / 7)  # over instructions, not prompts
    assert report.score("prompt_level_loose") == pytest.approx(2 / 4)
    assert report.score("inst_level_loose") == pytest.approx(5 / 7)
    run_dir = next((tmp_path / "out").iterdir())
    reviews = [
        json.loads(x) for x in (run_dir / "reviews" / "scripted" / "ifeval.jsonl").read_text().splitlines()
    ]
    assert reviews[1]["extracted"] == replies["planning a trip to Japan"]  # not stripped
    assert reviews[0]["input"][0]["content"].startswith("Write a 300+ word summary of the wikipedia page")


def test_sample_metadata_round_trips_through_json() -> None:
    """Reviews store the sample; its metadata must stay plain JSON (no tuples or custom objects)."""
    record = {"key": 5, "prompt": "p", "instruction_id_list": ["startend:quotation"], "kwargs": [{}]}
    sample = _adapter().record_to_sample(record, "default", 0)
    assert Sample.model_validate_json(sample.model_dump_json()) == sample
