"""TriviaQA and DROP: loaders, EvalScope 1.14.1's prompts, answer extraction and scoring, one run each.

Neither has a copy in ../shared/data, so the data are small fixtures of our own making in the hub's
schema (mandarjoshi/trivia_qa rc.wikipedia, EleutherAI/drop) under tests/fixtures/.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.datasets import DataSource
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks.drop import fixed_examples, gold_answers
from evalscope_native.benchmarks.drop_metric import drop_scores, max_assignment, normalize_span
from evalscope_native.data.loader import pick_loader
from native_helpers import score_with

FIXTURES = Path(__file__).parent / "fixtures"
TRIVIA_TAIL = (
    '\n\nThe last line of your response should be of the form "ANSWER: [ANSWER]" (without quotes) where '
    "[ANSWER] is the answer to the problem.\n"
)
DROP_HEAD = "You will be asked to read a passage and answer a question. "
DROP_TAIL = (
    '\n\nThink step by step, then write a line of the form "Answer: [ANSWER]" at the end of your response.'
)
# sha256 of EvalScope 1.14.1's DROP_EXAMPLES (evalscope/benchmarks/drop/drop_adapter.py), 4129 characters
EVALSCOPE_DROP_EXAMPLES_SHA256 = "c9913bff35254d2e1212f4583ed550c8ea0cb69d4c6ef10371c972645cbb9171"


def _adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    adapter: Benchmark = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return adapter


def _samples(
    adapter: Benchmark, folder: Path, subset: str, split: str
) -> tuple[list[dict[str, Any]], list[Sample]]:
    source = DataSource(benchmark=adapter.name, dataset_id=str(folder), subset=subset, split=split)
    loaded = pick_loader(source).load(source)
    return loaded.records, [adapter.record_to_sample(r, subset, i) for i, r in enumerate(loaded.records)]


def _prompt(adapter: Benchmark, sample: Sample) -> str:
    (message,) = adapter.build_messages(sample, [])
    return message.content


def _score(adapter: Benchmark, sample: Sample, reply: str) -> dict[str, float]:
    scores = score_with(adapter, adapter.extract_answer(reply, sample), sample, reply)
    assert scores is not None
    return scores


# --- TriviaQA -----------------------------------------------------------------------------------


def test_trivia_qa_reads_every_row_and_builds_evalscopes_prompt() -> None:
    adapter = _adapter("trivia_qa")
    rows, samples = _samples(adapter, FIXTURES / "trivia_qa", "rc.wikipedia", "validation")
    assert len(samples) == len(rows) == 4
    row, sample = rows[1], samples[1]
    assert sample.id == "fx_tqa_2"
    # aliases then normalised aliases, without repeats
    assert sample.target == ["George Orwell", "Eric Arthur Blair", "Orwell", "GEORGE ORWELL", "george orwell",
                             "eric arthur blair", "orwell"]  # fmt: skip
    # EvalScope formats the list of evidence pages as Python shows it (the repr of the list)
    pages = row["entity_pages"]["wiki_context"]
    content = "['" + pages[0] + "', \"" + pages[1] + '"]'
    expected = (
        "Read the content and answer the following question.\n\nContent: "
        + content
        + "\n\nQuestion: "
        + row["question"]
        + TRIVIA_TAIL
    )
    assert _prompt(adapter, sample) == expected


def test_trivia_qa_every_alias_scores_one_and_wrong_answers_zero() -> None:
    adapter = _adapter("trivia_qa")
    rows, samples = _samples(adapter, FIXTURES / "trivia_qa", "rc.wikipedia", "validation")
    for row, sample in zip(rows, samples, strict=True):
        for alias in row["answer"]["aliases"] + row["answer"]["normalized_aliases"]:
            assert _score(adapter, sample, f"Let me think.\nANSWER: {alias}") == {"acc": 1.0}, alias
        assert _score(adapter, sample, "ANSWER: Jupiter") == {"acc": 0.0}
    mars = samples[0]
    # the official normalisation: case, punctuation, articles and bold markers do not matter
    assert adapter.extract_answer("**ANSWER: The Planet MARS!**", mars) == "planet mars"
    assert _score(adapter, mars, "**ANSWER: The Planet MARS!**") == {"acc": 1.0}
    # the LAST marker wins; without one the whole reply is the answer
    assert _score(adapter, mars, "ANSWER: Venus\nNo wait.\nANSWER: Mars") == {"acc": 1.0}
    assert _score(adapter, mars, "Mars") == {"acc": 1.0}
    # an answer is equal to an alias, not merely containing one; an empty answer is never right
    assert _score(adapter, mars, "ANSWER: Mars is the red planet") == {"acc": 0.0}
    assert _score(adapter, mars, "ANSWER:") == {"acc": 0.0}
    with pytest.raises(ConfigError, match="zero-shot only"):
        _adapter("trivia_qa", few_shot_num=2)


def test_trivia_qa_end_to_end(tmp_path: Path) -> None:
    rows = [
        json.loads(x) for x in (FIXTURES / "trivia_qa/rc.wikipedia/validation.jsonl").read_text().splitlines()
    ]
    replies = [
        "It glows red.\nANSWER: Mars",
        "**ANSWER: George Orwell**",
        "ANSWER: Gold",
    ]  # right, right, wrong
    entries = [
        {"contains": f"Question: {r['question']}\n", "reply": a} for r, a in zip(rows, replies, strict=False)
    ]
    with ScriptedServer(
        {"model": "scripted", "default_reply": "I am not sure.", "entries": entries}
    ) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["trivia_qa"],
                "dataset_args": {"trivia_qa": {"local_path": str(FIXTURES / "trivia_qa")}},
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["trivia_qa"]
    assert report.num_samples == 4 and report.num_errors == 0
    assert report.metrics[0].name == "mean_acc"
    assert report.score() == pytest.approx(0.5)


# --- DROP ---------------------------------------------------------------------------------------


def test_drop_gold_answers_number_spans_date_and_duplicates() -> None:
    adapter = _adapter("drop")
    rows, samples = _samples(adapter, FIXTURES / "drop", "default", "validation")
    assert len(samples) == len(rows) == 5
    golds = [s.metadata["golds"] for s in samples]
    assert golds[0] == [["17"]]  # the validated answers repeat it: kept once
    assert golds[1] == [["Ray Dalton"], ["Dalton"]]
    assert golds[2] == [["Ray Dalton", "Mike Ortiz"], ["Mike Ortiz", "Ray Dalton"]]
    assert golds[3] == [["12 May 1998"]]
    assert [s.id for s in samples] == ["fx-q1", "fx-q2", "fx-q3", "fx-q4", "fx-q5"]
    # the original DROP JSON lists validated answers row-wise; that works too
    row = dict(
        rows[1],
        validated_answers=[{"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": ["Dalton"]}],
    )
    assert gold_answers(row) == [("Ray Dalton",), ("Dalton",)]


def test_drop_prompts_are_evalscopes_zero_and_three_shot() -> None:
    rows, samples = _samples(_adapter("drop"), FIXTURES / "drop", "default", "validation")
    query = f"Passage: {rows[0]['passage']}\nQuestion: {rows[0]['question']}"
    zero = _prompt(_adapter("drop", few_shot_num=0), samples[0])
    assert zero == DROP_HEAD + "\n# Your Task\n\n---\n" + query + DROP_TAIL
    examples = fixed_examples()
    assert hashlib.sha256(examples.encode()).hexdigest() == EVALSCOPE_DROP_EXAMPLES_SHA256
    three = _prompt(_adapter("drop"), samples[0])  # 3-shot is the default
    assert three == DROP_HEAD + examples + "\n# Your Task\n\n---\n" + query + DROP_TAIL
    assert examples.count("---\nPassage: ") == 3 and examples.endswith("Answer:  43\n\n")
    with pytest.raises(ConfigError, match="0 or 3"):
        _adapter("drop", few_shot_num=1)
    with pytest.raises(ConfigError, match="metric"):
        _adapter("drop", metric_list=["rouge"])


def test_drop_normalisation_and_official_f1() -> None:
    assert normalize_span("The 3-yard run.") == "3.0 yard run"
    assert normalize_span("1,000 people") == "1000.0 people"
    assert drop_scores("Chaz Schilens", [("Chaz Schilens",)]) == (1.0, 1.0)
    assert drop_scores("chaz", [("Chaz Schilens",)]) == (0.0, 0.67)  # P 1, R 1/2
    assert drop_scores("44 yards", [("43",)]) == (0.0, 0.0)  # a gold number must be predicted
    assert drop_scores("43", [("43.0",)]) == (1.0, 1.0)  # numbers compare as floats
    assert drop_scores("May 12, 1998", [("12 May 1998",)]) == (0.0, 1.0)  # same bag, other order
    assert drop_scores("", [("",)]) == (0.0, 0.0)  # a blank gold answer is skipped
    # a multi-span gold: the spans are paired one-to-one; one predicted string is one span
    assert drop_scores(["Mike Ortiz", "Ray Dalton"], [("Ray Dalton", "Mike Ortiz")]) == (1.0, 1.0)
    assert drop_scores("Ray Dalton", [("Ray Dalton", "Mike Ortiz")]) == (0.0, 0.5)
    assert drop_scores("Ray Dalton and Mike Ortiz", [("Ray Dalton", "Mike Ortiz")]) == (0.0, 0.29)


def test_max_assignment_is_optimal() -> None:
    rng = random.Random(0)
    for _ in range(300):
        rows, cols = rng.randint(1, 5), rng.randint(1, 5)
        weights = [[rng.choice([0.0, 0.25, 0.5, 2 / 3, 1.0]) for _ in range(cols)] for _ in range(rows)]
        pairs = max_assignment(weights)
        assert len(pairs) == min(rows, cols)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        best = max(
            sum(weights[r][c] for r, c in zip(rs, cs, strict=False))
            for rs in itertools.permutations(range(rows), min(rows, cols))
            for cs in itertools.permutations(range(cols), min(rows, cols))
        )
        assert sum(weights[r][c] for r, c in pairs) == pytest.approx(best)


def test_drop_gold_answers_score_one_and_extraction_takes_the_last_answer_line() -> None:
    adapter = _adapter("drop")
    _, samples = _samples(adapter, FIXTURES / "drop", "default", "validation")
    for sample in samples:
        for gold in sample.metadata["golds"]:
            if len(gold) == 1:
                assert _score(adapter, sample, f"Reasoning...\nAnswer: {gold[0]}") == {"f1": 1.0, "em": 1.0}
        assert _score(adapter, sample, "Answer: Nobody knows") == {"f1": 0.0, "em": 0.0}
    reply = "answer: 20\nHmm, only the first half.\nAnswer: 17 points"
    assert adapter.extract_answer(reply, samples[0]) == "17 points"
    assert _score(adapter, samples[0], reply) == {"f1": 0.67, "em": 0.0}
    # EvalScope scores the reply as one span, so listing a multi-span gold cannot reach 1 (see the docs)
    assert _score(adapter, samples[2], "Answer: Ray Dalton, Mike Ortiz") == {"f1": 0.33, "em": 0.0}


def test_drop_end_to_end(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in (FIXTURES / "drop/default/validation.jsonl").read_text().splitlines()]
    replies = [
        "17 in the first half.\nAnswer: 17",
        "Answer: Dalton",
        "Answer: Ray Dalton",
        "Answer: May 12, 1998",
    ]
    entries = [
        {"contains": f"Question: {r['question']}\n\nThink", "reply": a}
        for r, a in zip(rows, replies, strict=False)
    ]
    with ScriptedServer(
        {"model": "scripted", "default_reply": "I cannot tell.", "entries": entries}
    ) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["drop"],
                "dataset_args": {"drop": {"local_path": str(FIXTURES / "drop")}},
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["drop"]
    assert report.num_samples == 5 and report.num_errors == 0
    assert [m.name for m in report.metrics] == ["mean_f1", "mean_em"]
    # f1: 1, 1, 0.5 (one of two spans), 1 (same words), 0; em: 1, 1, 0, 0, 0
    assert report.score() == pytest.approx(0.7)
    assert report.score("em") == pytest.approx(0.4)
