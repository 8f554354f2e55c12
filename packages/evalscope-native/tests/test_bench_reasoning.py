"""hellaswag, truthful_qa, boolq, winogrande: loading, EvalScope 1.14.1 prompts, extraction, scoring, e2e.

Expected prompts are built here from EvalScope's templates; the TruthfulQA choice orders and the
HellaSwag WikiHow leading space were read off EvalScope 1.14.1 itself (its adapters run on these rows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs, load_task_config
from evalscope.contracts import Sample
from evalscope.errors import ConfigError, DataFormatError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks.truthful_qa import (
    TRUTHFUL_QA_PROMPT,
    multi_choice_acc,
    parse_multiple_answers,
)
from evalscope_native.engine.plan import BenchmarkPlan, build_plan
from native_helpers import accuracy, score_with

FIXTURES = Path(__file__).parent / "fixtures"
SINGLE = (
    "Answer the following multiple choice question. The entire content of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}.\n\n"
    "{question}\n\n{choices}"
)
MULTIPLE = (
    "Answer the following multiple choice question where multiple answers may be correct. The entire "
    "content of your response should be of the following format: 'ANSWER: [LETTERS]' (without quotes) "
    "where [LETTERS] is one or more of {letters}.\n\n{question}\n\n{choices}"
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _prompt(template: str, question: str, choices: list[str]) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(choices)]
    lines = "\n".join(f"{ch}) {c}" for ch, c in zip(letters, choices, strict=False))
    return template.format(letters=",".join(letters), question=question, choices=lines)


def _plan(data_dir: Path, name: str, **args: Any) -> BenchmarkPlan:
    """Every row of the eval split through the engine's loader, `record_to_sample` and prompt rendering."""
    config = load_task_config(
        {
            "model": "mock_llm",
            "datasets": [name],
            "data_dir": str(data_dir),
            "dataset_args": {name: args},
            "offline": True,  # a missing local copy must fail here, never reach for the hub
        }
    )
    return build_plan(config).benchmarks[0]


def _adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    adapter: Benchmark = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return adapter


def _acc(adapter: Benchmark, reply: str, sample: Sample) -> float:
    return accuracy(adapter.extract_answer(reply, sample), sample)


def _user(bp: BenchmarkPlan, i: int) -> str:
    return bp.items[i].request.messages[-1].content


def _wrong(target: str, n: int) -> str:
    return next(ch for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n] if ch != target)


# --- HellaSwag ---------------------------------------------------------------------------------


def test_hellaswag_every_real_row_loads_and_its_gold_answer_scores(data_dir: Path) -> None:
    bp = _plan(data_dir, "hellaswag")
    rows = _rows(data_dir / "hellaswag" / "default" / "validation.jsonl")
    assert len(bp.items) == len(rows) == 10042
    for item, row in zip(bp.items, rows, strict=True):
        s = item.sample
        assert s.target == "ABCD"[int(row["label"])] and len(s.choices or []) == 4
        # Tags are gone; WikiHow contexts (full sentences) keep EvalScope's leading space.
        assert "[" not in s.input and s.input.startswith(" ") == row["ctx"].endswith((".", "!", "?"))
        assert _acc(bp.adapter, f"ANSWER: {s.target}", s) == 1.0
        assert _acc(bp.adapter, f"ANSWER: {_wrong(str(s.target), 4)}", s) == 0.0


# Rows of the shared copy as the hub serves them (Rowan/hellaswag keeps ctx_a and ctx_b apart).
HUB_SPLITS = {
    0: ("A man is sitting on a roof.", "he"),
    1: ("A lady walks to a barbell. She bends down and grabs the pole.", "the lady"),
    3: ("A boy is running down a track.", "the boy"),
}


@pytest.mark.parametrize("index", sorted(HUB_SPLITS))
def test_hellaswag_text_release_gives_evalscopes_prompt(data_dir: Path, index: int) -> None:
    """The shared copy lost ctx_a/ctx_b; the prompt is still EvalScope's `ctx_a + ' ' + ctx_b.capitalize()`."""
    row = _rows(data_dir / "hellaswag" / "default" / "validation.jsonl")[index]
    ctx_a, ctx_b = HUB_SPLITS[index]
    assert row["ctx"] == f"{ctx_a} {ctx_b}"
    adapter = _adapter("hellaswag")
    sample = adapter.record_to_sample(row, "default", index)
    expected = _prompt(SINGLE, f"{ctx_a} {ctx_b.capitalize()}", row["endings"])
    assert adapter.build_messages(sample, [])[0].content == expected
    hub = {**row, "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": "ignored when ctx_a/ctx_b exist"}
    assert adapter.record_to_sample(hub, "default", index).input == sample.input


def test_hellaswag_hub_schema_cleans_wikihow_tags_like_evalscope() -> None:
    bp = _plan(FIXTURES, "hellaswag")
    assert [it.sample.target for it in bp.items] == ["B", "A", "C"]
    assert bp.items[0].sample.input == "A man lays two slices of bread on a plate. The man then"
    # EvalScope strips before removing tags: '[header] …' and '[substeps] …' leave a leading space.
    assert _user(bp, 1) == _prompt(
        SINGLE,
        " How to water a houseplant. Check the soil. Push a finger into the soil to feel whether it is dry.",
        [
            "Water the plant slowly until water drains from the bottom. Empty the saucer afterwards.",
            " Paint the pot bright red.",
            "Move the plant into the freezer overnight.",
            "Shout at the plant. Stop watering for a year.",
        ],
    )
    # The text release of the same row (tags already removed, no leading space) gives the same question.
    text_release = {"ctx": bp.items[1].sample.input.strip(), "endings": ["a", "b", "c", "d"], "label": "0"}
    assert (
        _adapter("hellaswag").record_to_sample(text_release, "default", 1).input == bp.items[1].sample.input
    )


# --- TruthfulQA --------------------------------------------------------------------------------

# EvalScope 1.14.1 (seed 42) shows row 0's original choices in this order.
EVALSCOPE_ORDER = {"mc1": [1, 2, 3, 0], "mc2": [3, 1, 5, 0, 2, 4]}


def _tqa_dir(data_dir: Path) -> str:
    return str(data_dir / "truthfulqa")


@pytest.mark.parametrize("mode", ["mc1", "mc2"])
def test_truthful_qa_every_row_prompt_and_gold(data_dir: Path, mode: str) -> None:
    mc2 = mode == "mc2"
    bp = _plan(data_dir, "truthful_qa", dataset_id=_tqa_dir(data_dir), extra_params={"multiple_correct": mc2})
    rows = _rows(data_dir / "truthfulqa" / "multiple_choice" / "validation.jsonl")
    assert len(bp.items) == len(rows) == 817

    row = rows[0][f"{mode}_targets"]
    shown = [row["choices"][i] for i in EVALSCOPE_ORDER[mode]]
    question = TRUTHFUL_QA_PROMPT.format(question=rows[0]["question"])
    assert question.endswith(f"\n\nQ: {rows[0]['question']}\nA:")
    assert _user(bp, 0) == _prompt(MULTIPLE if mc2 else SINGLE, question, shown)

    for item, record in zip(bp.items, rows, strict=True):
        s, targets = item.sample, record[f"{mode}_targets"]
        choices = s.choices or []
        assert sorted(choices) == sorted(targets["choices"])
        true = [
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[choices.index(c)]
            for c, label in zip(targets["choices"], targets["labels"], strict=True)
            if label == 1
        ]
        assert (s.target if mc2 else [s.target]) == true
        gold = bp.adapter.extract_answer("ANSWER: " + ", ".join(true), s)
        assert score_with(bp.adapter, gold, s, "") == {"multi_choice_acc": 1.0}
        false = (
            _wrong(true[0], len(choices))
            if not mc2
            else next(ch for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(choices)] if ch not in true)
        )
        bad = bp.adapter.extract_answer(f"ANSWER: {true[0]}, {false}" if mc2 else f"ANSWER: {false}", s)
        assert score_with(bp.adapter, bad, s, "") == {"multi_choice_acc": 0.0}


def test_truthful_qa_shuffle_seed_can_be_set_or_turned_off(data_dir: Path) -> None:
    row = _rows(data_dir / "truthfulqa" / "multiple_choice" / "validation.jsonl")[0]
    choices = row["mc1_targets"]["choices"]
    plain = _adapter("truthful_qa", extra_params={"shuffle_choices": False}).record_to_sample(row, "m", 0)
    assert plain.choices == choices and plain.target == "A"
    seeded = _adapter("truthful_qa", extra_params={"shuffle_choices": 7}).record_to_sample(row, "m", 0)
    assert seeded.choices == [choices[i] for i in (3, 2, 0, 1)] and seeded.target == "C"  # EvalScope, seed 7
    with pytest.raises(ConfigError, match="multiple_corect"):
        _adapter("truthful_qa", extra_params={"multiple_corect": True})
    with pytest.raises(ConfigError, match="true/false"):
        _adapter("truthful_qa", extra_params={"multiple_correct": "yes"})


@pytest.mark.parametrize(
    ("reply", "n", "expected"),
    [
        ("ANSWER: A, C", 4, "AC"),
        ("ANSWER: CA.", 4, "AC"),
        ("Reasoning... ANSWER: B and D", 4, "BD"),
        ("ANSWER: (A, C)", 4, "AC"),
        ("ANSWER: $\\boxed{B}$", 4, "B"),
        ("ANSWER: A/C", 4, "AC"),
        ("ANSWER: A, not C", 4, "A"),
        ("ANSWER: A, E", 4, "A"),  # E is no choice here: the labels stop before it
        ("ANSWER: AE", 4, ""),
        ("ANSWER: [LETTERS]\nso ANSWER: B", 4, "B"),
        ("I pick D", 4, "D"),
        ("nothing", 4, ""),
    ],
)
def test_mc2_letters_are_parsed_like_evalscope(reply: str, n: int, expected: str) -> None:
    assert parse_multiple_answers(reply, n) == expected


def test_multi_choice_acc_is_partial_credit_with_no_false_choice() -> None:
    assert multi_choice_acc("AC", ["A", "C", "D"]) == pytest.approx(2 / 3)
    assert multi_choice_acc("ACB", ["A", "C", "D"]) == 0.0
    assert multi_choice_acc("", ["A"]) == 0.0
    assert multi_choice_acc("A", ["A"]) == 1.0


def test_truthful_qa_resolves_the_shared_truthfulqa_folder(data_dir: Path) -> None:
    assert len(_plan(data_dir, "truthful_qa").items) == 817


# --- BoolQ and WinoGrande (fixtures in the hub's schema) ---------------------------------------


def test_boolq_prompt_few_shot_and_gold() -> None:
    rows = _rows(FIXTURES / "boolq" / "default" / "validation.jsonl")
    bp = _plan(FIXTURES, "boolq")
    assert [it.sample.target for it in bp.items] == ["A" if r["answer"] else "B" for r in rows]
    question = f"Passage:\n{rows[0]['passage']}\n\nQuestion: {rows[0]['question']}"
    assert _user(bp, 0) == _prompt(SINGLE, question, ["Yes", "No"])
    for it in bp.items:
        assert _acc(bp.adapter, f"ANSWER: {it.sample.target}", it.sample) == 1.0
        assert _acc(bp.adapter, f"ANSWER: {_wrong(str(it.sample.target), 2)}", it.sample) == 0.0

    train = _rows(FIXTURES / "boolq" / "default" / "train.jsonl")
    shots = "\n\n".join(
        f"Passage:\n{r['passage']}\n\nQuestion: {r['question']}\nA) Yes\nB) No\nANSWER: {'A' if r['answer'] else 'B'}"
        for r in train
    )
    few = _plan(FIXTURES, "boolq", few_shot_num=2)
    expected = f"Here are some examples of how to answer similar questions:\n\n{shots}\n\n" + _user(bp, 0)
    assert _user(few, 0) == expected


def test_boolq_answer_must_be_boolean(tmp_path: Path) -> None:
    adapter = _adapter("boolq")
    row = {"question": "q", "passage": "p", "answer": "False"}  # a CSV copy
    assert adapter.record_to_sample(row, "default", 0).target == "B"
    folder = tmp_path / "boolq" / "default"
    folder.mkdir(parents=True)
    (folder / "validation.jsonl").write_text(json.dumps({**row, "answer": 1}) + "\n")
    with pytest.raises(DataFormatError, match="boolean"):
        _plan(tmp_path, "boolq")


def test_winogrande_prompt_and_gold() -> None:
    rows = _rows(FIXTURES / "winogrande" / "default" / "validation.jsonl")
    bp = _plan(FIXTURES, "winogrande")
    assert [it.sample.target for it in bp.items] == ["B", "B", "A", "B"]
    assert [it.sample.id for it in bp.items] == [r["id"] for r in rows]
    assert _user(bp, 1) == _prompt(SINGLE, rows[1]["sentence"], [rows[1]["option1"], rows[1]["option2"]])
    for it in bp.items:
        assert _acc(bp.adapter, f"ANSWER: {it.sample.target}", it.sample) == 1.0
        assert _acc(bp.adapter, f"ANSWER: {_wrong(str(it.sample.target), 2)}", it.sample) == 0.0


# --- end to end through a real OpenAI-compatible server ------------------------------------------


def _scores(reports: dict[str, Any]) -> dict[str, tuple[str, int, float]]:
    return {name: (r.metrics[0].name, r.num_samples, round(r.score(), 6)) for name, r in reports.items()}


def test_fixture_benchmarks_end_to_end(tmp_path: Path) -> None:
    bq = _rows(FIXTURES / "boolq" / "default" / "validation.jsonl")
    wg = _rows(FIXTURES / "winogrande" / "default" / "validation.jsonl")
    entries = [  # boolq: 3 right of 4; winogrande: 2 right of 4 (the others fall to the default "A")
        *({"contains": r["question"], "reply": "ANSWER: " + ("A" if r["answer"] else "B")} for r in bq[:3]),
        *(
            {"contains": r["sentence"], "reply": f"Thinking.\nANSWER: {'AB'[int(r['answer']) - 1]}"}
            for r in wg[:2]
        ),
        {"contains": bq[3]["question"], "reply": "ANSWER: B"},  # gold A
    ]
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": "ANSWER: A"}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["boolq", "winogrande", "hellaswag"],
                "data_dir": str(FIXTURES),
                "work_dir": str(tmp_path / "out"),
                "offline": True,
            }
        )
    # winogrande rows 2 ("A") and 3 (gold B, default "A"): 3 of 4; hellaswag golds B, A, C vs "A": 1 of 3
    assert _scores(reports) == {
        "boolq": ("mean_acc", 4, 0.75),
        "winogrande": ("mean_acc", 4, 0.75),
        "hellaswag": ("mean_acc", 3, round(1 / 3, 6)),
    }


def test_real_data_benchmarks_end_to_end(tmp_path: Path, data_dir: Path) -> None:
    hs = _rows(data_dir / "hellaswag" / "default" / "validation.jsonl")[:6]
    tqa = _rows(data_dir / "truthfulqa" / "multiple_choice" / "validation.jsonl")[:5]
    entries = []
    for i, r in enumerate(hs):  # right on rows 0-3, one letter off on rows 4-5
        gold = int(r["label"]) if i < 4 else (int(r["label"]) + 1) % 4
        entries.append({"contains": r["endings"][0], "reply": f"ANSWER: {'ABCD'[gold]}"})
    for i, r in enumerate(tqa[:3]):  # MC1: the server finds the true choice's letter in the prompt
        true = r["mc1_targets"]["choices"][0]
        entries += [
            {"contains": f"\n{ch}) {true}", "reply": f"ANSWER: {ch if i < 2 else 'Z'}"}
            for ch in "ABCDEFGHIJKLM"
        ]
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": "no idea"}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["hellaswag", "truthful_qa"],
                "dataset_args": {"truthful_qa": {"dataset_id": _tqa_dir(data_dir)}},
                "data_dir": str(data_dir),
                "limit": 6,
                "work_dir": str(tmp_path / "out"),
                "offline": True,
            }
        )
    assert _scores(reports) == {
        "hellaswag": ("mean_acc", 6, round(4 / 6, 6)),
        "truthful_qa": ("mean_multi_choice_acc", 6, round(2 / 6, 6)),
    }


def test_truthful_qa_mc2_end_to_end(tmp_path: Path, data_dir: Path) -> None:
    rows = _rows(data_dir / "truthfulqa" / "multiple_choice" / "validation.jsonl")[:2]
    # Row 0 as EvalScope shows it (seed 42): true choices 0-2 sit at D, B, E; row 1's are at E, D, F.
    entries = [
        {"contains": rows[0]["question"], "reply": "ANSWER: B, D"},  # 2 of 3 true, none false: 2/3
        {"contains": rows[1]["question"], "reply": "ANSWER: D, E, F"},  # all true: 1
    ]
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["truthful_qa"],
                "dataset_args": {
                    "truthful_qa": {
                        "dataset_id": _tqa_dir(data_dir),
                        "extra_params": {"multiple_correct": True},
                    }
                },
                "limit": 2,
                "work_dir": str(tmp_path / "out"),
                "offline": True,
            }
        )
    assert _scores(reports) == {"truthful_qa": ("mean_multi_choice_acc", 2, round((2 / 3 + 1) / 2, 6))}
