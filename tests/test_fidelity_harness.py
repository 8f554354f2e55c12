"""The fidelity harness's own logic, offline: reply formats, the EvalScope data layout, pairing and comparing.

The harness itself (benchmarks/fidelity/run.py) needs EvalScope 1.14.1 in its own venv and stays out
of this suite; these checks make sure a wrong pairing or a dead reply format cannot hide a difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from fidelity import layout, matching, replies  # noqa: E402
from fidelity.entries import ENTRIES, Entry, by_name  # noqa: E402
from fidelity.matching import Planned, Scored  # noqa: E402


def _all(family: str, target: str, choices: list[str] | None = None) -> list[replies.Reply]:
    n = len(replies.FORMATS[family](*((target, choices or []) if family == "mcq" else (target,))))
    return [replies.make_reply(family, target, choices, i) for i in range(n)]


def test_reply_formats_cover_the_shapes_models_answer_in() -> None:
    mcq = {r.fmt: r.text for r in _all("mcq", "C", ["red", "green", "blue", "black"])}
    assert mcq["mcq/answer_marker"] == "ANSWER: C"
    assert mcq["mcq/answer_marker_wrong"] == "ANSWER: D"
    assert mcq["mcq/the_answer_is_paren"] == "The answer is (C)."
    assert mcq["mcq/bare_letter"] == "C"
    assert mcq["mcq/choice_text_only"].endswith("blue")
    assert (
        mcq["mcq/think_wrong_then_right"].startswith("<think>")
        and "</think>\nANSWER: C" in mcq["mcq/think_wrong_then_right"]
    )
    assert "</think>" not in mcq["mcq/think_unclosed"]
    assert mcq["mcq/refusal"] == replies.REFUSAL and mcq["mcq/empty"] == ""
    math = {r.fmt: r.text for r in _all("math", "1,600")}
    assert (
        "\\boxed{1600}" in math["math/boxed"] and math["math/boxed_wrong"] == "The result is \\boxed{1601}."
    )
    assert math["math/thousands_separator"] == "The answer is 1,600."
    assert "\\frac{3200}{2}" in math["math/latex_fraction"]
    assert math["math/trailing_unit_sentence"].endswith("1600 dollars in total.")
    half = {r.fmt: r.text for r in _all("math", "0.5")}
    assert "\\frac{2}{4}" in half["math/latex_fraction"] and "\\boxed{1.5}" in half["math/boxed_wrong"]
    latex = {r.fmt: r.text for r in _all("math", "\\frac{\\pi}{2}")}
    assert latex["math/boxed_wrong"] == "The result is \\boxed{2}."
    multi = replies.make_reply("mcq", ["A", "C"], ["w", "x", "y", "z"], 0)
    assert multi.text == "ANSWER: A, C"  # every right label of a multiple-answer question
    text = {r.fmt: r.text for r in _all("text", "Paris")}
    assert text["text/exact"] == "Paris" and text["text/lowercase"] == "paris"


def test_replies_are_deterministic_and_round_robin() -> None:
    first = [replies.make_reply("mcq", "A", ["x", "y"], i) for i in range(60)]
    assert first == [replies.make_reply("mcq", "A", ["x", "y"], i) for i in range(60)]
    n = len(replies.FORMATS["mcq"]("A", ["x", "y"]))
    assert len({r.fmt for r in first}) == n  # every format used within one pass
    assert first[0] == first[n]
    assert {r.text for r in first if r.fmt.endswith("_wrong")} >= {"ANSWER: B"}  # wrong label stays in range


@pytest.mark.parametrize(
    ("target", "choices", "family"),
    [("B", ["a", "b"], "mcq"), ("18", None, "math"), ("1,600", None, "math"), ("\\frac{1}{2}", None, "math"),
     ("(3, \\frac{\\pi}{2})", None, "math"), ("Paris", None, "text"), (["Paris", "paris"], None, "text"),
     ("", None, "free")],
)  # fmt: skip
def test_family_of(target: str | list[str], choices: list[str] | None, family: str) -> None:
    assert replies.family_of(target, choices) == family


def _planned(index: int, subset: str, key: str) -> Planned:
    return Planned(index, subset, key, replies.Reply("mcq/x", "ANSWER: A"), f"Q:\n\n{key}\n\nA) a")


def _scored(
    subset: str,
    index: int,
    prompt: str,
    scores: dict[str, float],
    prediction: str = "ANSWER: A",
    error: str | None = None,
) -> Scored:
    return Scored(subset, index, prompt, prediction, "A", scores, error)


def test_pair_by_question_text_longest_first_and_duplicates_in_order() -> None:
    planned = [
        _planned(0, "easy", "Which is a solid?"),
        _planned(1, "easy", "Which is a solid? Explain why ice floats."),
        _planned(2, "easy", "Name a gas."),
        _planned(3, "easy", "Name a gas."),  # the same question twice
        _planned(4, "hard", "Which is a solid?"),  # the same text in another subset
    ]
    theirs = [  # shuffled, their own subset spelling for one of them, their own template
        _scored("easy", 3, "Answer...\n\nName a gas.\n\nA) x", {}),
        _scored("easy", 0, "Answer...\n\nWhich is a solid? Explain why ice floats.\n\nA) x", {}),
        _scored("HARD", 0, "Answer...\n\nWhich is a solid?\n\nA) x", {}),
        _scored("easy", 1, "Answer...\n\nWhich is a solid?\n\nA) x", {}),
        _scored("easy", 2, "Answer...\n\nName a gas.\n\nA) y", {}),
    ]
    got = matching.pair(planned, theirs)
    assert {i: (s.subset, s.index) for i, s in got.items()} == {
        1: ("easy", 0),
        0: ("easy", 1),
        2: ("easy", 2),
        3: ("easy", 3),
        4: ("HARD", 0),
    }
    assert matching.pair([_planned(0, "easy", "Not asked anywhere")], theirs) == {}


def test_compare_counts_only_real_agreement() -> None:
    planned = [_planned(i, "s", f"q{i}") for i in range(6)]
    theirs = {
        0: _scored("s", 0, "p", {"accuracy": 1.0}),
        1: _scored("s", 1, "p", {"accuracy": 0.0}),
        2: _scored("s", 2, "p", {"accuracy": 0.0}, prediction="NO REPLY"),
        4: _scored("s", 4, "p", {"accuracy": 0.0}, error="error"),
        5: _scored("s", 5, "p", {"f1": 0.5}),
    }
    ours = {i: _scored("s", i, "p", {"acc": 1.0 if i == 0 else 0.0}) for i in range(5)}
    ours[5] = _scored("s", 5, "p2", {"f1": 0.5})
    rows = matching.compare(planned, theirs, ours, no_reply="NO REPLY")
    assert [r.equal for r in rows] == [True, True, False, False, False, True]
    assert rows[0].compared == {"acc": (1.0, 0.0 + 1.0)}  # `acc` read from their `accuracy`
    assert "no scripted reply reached theirs" in rows[2].reason
    assert "not scored by EvalScope" in rows[3].reason
    assert rows[4].reason.startswith("error")
    assert not rows[5].prompt_equal and rows[5].to_json()["prompt_difference"]["offset"] == 1
    assert matching.compare(planned[:1], {0: theirs[1]}, {0: ours[0]})[0].reason == "score differs: acc"


def test_read_reviews_in_both_engines_formats(tmp_path: Path) -> None:
    their_line = {
        "index": 7,
        "target": ["B"],
        "messages": [{"role": "user", "content": "Question?"}, {"role": "assistant", "content": "ANSWER: B\u2028"}],
        "sample_score": {
            "score": {"value": {"accuracy": 1.0}, "status": "success", "extracted_prediction": "B", "prediction": "ANSWER: B"}
        },
    }  # fmt: skip
    # a raw U+2028 inside a JSON string (real MMLU text has them) must not split the line
    (tmp_path / "mmlu_college_physics.jsonl").write_text(json.dumps(their_line, ensure_ascii=False) + "\n")
    (tmp_path / "mmlu_pro_law.jsonl").write_text(json.dumps(their_line) + "\n")  # another benchmark's prefix
    (got,) = [s for s in matching.read_theirs(tmp_path, "mmlu") if s.subset == "college_physics"]
    assert (got.index, got.prompt, got.extracted, got.scores, got.error) == (
        7,
        "Question?",
        "B",
        {"accuracy": 1.0},
        None,
    )
    ours = tmp_path / "ours.jsonl"
    record = {"index": 3, "subset": "s", "input": [{"role": "user", "content": "Q"}], "prediction": "x",
              "extracted": "A", "scores": {"acc": 0.0}, "error": None}  # fmt: skip
    ours.write_text(json.dumps(record) + "\n")
    assert matching.read_ours(ours)[3].scores == {"acc": 0.0}


def test_their_folder_declares_every_subset_as_a_hub_config(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for subset in ("alpha", "beta"):
        (src / subset).mkdir(parents=True)
        for split in ("test", "dev"):
            (src / subset / f"{split}.jsonl").write_text(json.dumps({"Question": "q", "A": "1", "B": "2", "C": "3", "D": "4", "Answer": "B"}) + "\n")  # fmt: skip
    plain = layout.build_their_folder(Entry("x", their_aggregate="all"), src, tmp_path / "plain")
    meta = yaml.safe_load((plain / "README.md").read_text().split("---")[1])
    configs = {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in meta["configs"]}
    assert configs["alpha"] == {"dev": ["alpha/dev.jsonl"], "test": ["alpha/test.jsonl"]}
    assert configs["all"]["test"] == ["alpha/test.jsonl", "beta/test.jsonl"]
    assert (plain / "beta" / "test.jsonl").resolve() == (src / "beta" / "test.jsonl").resolve()
    cmmlu = next(e for e in ENTRIES if e.name == "cmmlu")
    rewritten = layout.build_their_folder(cmmlu, src, tmp_path / "cmmlu")
    row = json.loads((rewritten / "alpha" / "test.jsonl").read_text())
    assert row == {
        "question": "q",
        "choices": ["(A) 1", "(B) 2", "(C) 3", "(D) 4"],
        "answer": "(B)",
        "category": "alpha",
    }


def test_entries_are_unique_and_selectable() -> None:
    keys = [e.key for e in ENTRIES]
    assert len(keys) == len(set(keys)) and {"gsm8k", "arc", "mmlu"} <= set(keys)
    assert [e.key for e in by_name(["arc", "gsm8k"])] == ["arc", "gsm8k"]
    assert len(by_name(["general_mcq"])) == 2  # a benchmark name selects every entry (label) of it
    with pytest.raises(SystemExit):
        by_name(["no_such_benchmark"])
