"""math_500, competition_math, aime24, aime25, bbh (and GSM8K's gold answers): loading, EvalScope 1.14.1
prompts, Math-Verify scoring, BBH's run-time chain-of-thought prompts, end-to-end runs.

Expected prompts are built here from EvalScope 1.14.1's templates. The Math-Verify cases were run
through EvalScope 1.14.1's own `extract_answer` / `compare_answers` and their results written down.
Fixtures (competition_math, aime24/25, bbh and its prompt files) are rows of our own making in the hub
schemas; MATH-500 and GSM8K are the real test sets.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs, load_task_config
from evalscope.contracts import Sample
from evalscope.errors import ConfigError, DatasetNotFoundError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks import math_equivalence
from evalscope_native.benchmarks.math_equivalence import compare, extract
from evalscope_native.engine.plan import BenchmarkPlan, build_plan
from native_helpers import score_with

FIXTURES = Path(__file__).parent / "fixtures"
LEVELS = ["Level 1", "Level 2", "Level 3", "Level 4", "Level 5"]
# EvalScope 1.14.1's templates, as its adapters format them.
MATH_500_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."
COMP_PROMPT = "Problem:\n{q}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}.\n"
COMP_FEW_SHOT_HEAD = "Here are some examples of how to solve similar problems:\n\n"
AIME_PROMPT = (
    "\nSolve the following math problem step by step. Put your answer inside \\boxed{{}}.\n\n{q}\n\n"
    "Remember to put your answer inside \\boxed{{}}."
)
BBH_PROMPT = (
    "Q: {q}\nA: Let's think step by step. Put your final answer in the format of \"So the answer is "
    '[ANSWER]" (without quotes and markdown) where [ANSWER] is the answer to the problem.\n'
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _config(name: str, **args: Any) -> dict[str, Any]:
    return {"model": "mock_llm", "datasets": [name], "dataset_args": {name: args}, "offline": True}


def _plan(name: str, **args: Any) -> BenchmarkPlan:
    """Every row through the engine's loader, `record_to_sample` and prompt rendering."""
    return build_plan(load_task_config(_config(name, **args))).benchmarks[0]


def _adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    adapter: Benchmark = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return adapter


def _acc(adapter: Benchmark, reply: str, sample: Sample) -> float:
    scores = score_with(adapter, adapter.extract_answer(reply, sample), sample, reply)
    assert scores is not None
    return scores["acc"]


def _reviews(out: Path, bench: str) -> list[dict[str, Any]]:
    run_dir = next(out.iterdir())
    return _rows(run_dir / "reviews" / "scripted" / f"{bench}.jsonl")


def _run(tmp_path: Path, entries: list[dict[str, str]], datasets: list[str], **extra: Any) -> dict[str, Any]:
    with ScriptedServer({"model": "scripted", "default_reply": "no idea", "entries": entries}) as server:
        return run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": datasets,
                "eval_batch_size": 8,
                "work_dir": str(tmp_path / "out"),
                "offline": True,
                **extra,
            }
        )


# --- Math-Verify, called as EvalScope 1.14.1 calls it ------------------------------------------------

# (reply, what EvalScope 1.14.1's extract_answer returns)
EXTRACTIONS = [
    ("So the answer is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
    ("The answer is $\\boxed{0.5}$", "\\frac{1}{2}"),
    ("Thus x = 3 and then \\boxed{4} hmm \\boxed{5}", "4,5"),
    ("I think it is 42.", "42"),
    ("The total is 1,234 dollars", "1234"),
    ("Approximately 1.5e3 units", "1.5"),  # a lowercase e in prose is Euler's number, not an exponent
    ("\\boxed{\\dfrac{3}{4}}", "\\frac{3}{4}"),
    ("Final answer: \\boxed{(1, 2)}", "(1, 2)"),
    ("\\boxed{10\\%}", "10\\%"),
    ("<answer> 7 </answer> so the final answer is 8", "8"),
    ("no numbers here", ""),
]
# (prediction, reference, integer_only, matched, reason); EvalScope raises InvalidMathReference where
# the reason here starts with 'invalid' (it then excludes the sample; here it scores 0).
COMPARISONS = [
    ("\\frac{1}{2}", "0.5", False, True, "matched"),
    ("5", "4", False, False, "not_equivalent"),
    ("1,234", "1234", False, True, "matched"),
    ("25\\%", "0.25", False, True, "matched"),
    ("25%", "25", False, True, "matched"),
    ("1.5e3", "1500", False, True, "matched"),
    ("(2,1)", "(1,2)", False, False, "not_equivalent"),
    ("x^2+2x+1", "(x+1)^2", False, True, "matched"),
    ("C", "\\text{(C)}", False, True, "matched"),
    ("0.333333", "\\frac13", False, True, "matched"),  # float_rounding=6
    ("0.33", "\\frac13", False, False, "not_equivalent"),
    ("\\pi", "3.14159265", False, True, "matched"),
    ("x=3", "3", False, True, "matched"),
    ("\\{1,2\\}", "\\{2,1\\}", False, True, "matched"),
    ("", "5", False, False, "prediction_not_parsed"),
    ("5", "", False, False, "invalid_reference"),
    ("\\frac{408}{2}", "204", True, False, "integer_literal_required"),
    ("204.0", "204", True, True, "matched"),
    ("0204", "204", True, True, "matched"),
    ("10\\%", "10", True, False, "integer_literal_required"),
    ("3", "\\frac{3}{4}", True, False, "invalid_integer_reference"),
    ("1,2", "2,1", True, True, "matched"),  # EvalScope reads '1,2' as the integer literal 12
]


@pytest.mark.parametrize(("reply", "expected"), EXTRACTIONS)
def test_extraction_matches_evalscope(reply: str, expected: str) -> None:
    assert extract(reply) == expected


@pytest.mark.parametrize(("prediction", "reference", "integer_only", "matched", "reason"), COMPARISONS)
def test_comparison_matches_evalscope(
    prediction: str, reference: str, integer_only: bool, matched: bool, reason: str
) -> None:
    result = compare(prediction, reference, integer_only=integer_only)
    assert (result.matched, result.reason) == (matched, reason)


def test_a_call_past_the_deadline_scores_zero_and_the_next_call_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker of the test's own: the shared one's state must not decide what this test sees.
    worker = math_equivalence._Worker()
    monkeypatch.setattr(math_equivalence, "_worker", worker)
    assert compare("2", "2").matched and not worker.in_process  # a child process answers
    with monkeypatch.context() as patch:
        # A zero deadline has passed before the first wait: a microsecond one was not deterministic
        # (select's timer slack let a fast child answer in time on CI).
        patch.setattr(math_equivalence, "DEADLINE_S", 0.0)
        assert compare("7", "7") == math_equivalence.Comparison(False, "timeout")
    assert compare("7", "7").matched  # a fresh worker replaced the killed one
    worker.close()


# --- GSM8K's gold answers (the gsm8k benchmark, as it scores today) ---------------------------------


def test_gsm8k_gold_rationales_score_one_and_a_wrong_total_zero(gsm8k_rows: list[dict[str, Any]]) -> None:
    """Each reference rationale, with its `#### N` written as the prompt asks (\\boxed{N}), scores 1.

    (With `#### N` left as is, Math-Verify — and so EvalScope 1.14.1 — misreads 4 of the 1,319
    rationales: it takes a number after an "answer" phrase inside the reasoning.)
    """
    adapter = _adapter("gsm8k")
    assert len(gsm8k_rows) == 1319
    for i, row in enumerate(gsm8k_rows):
        sample = adapter.record_to_sample(row, "main", i)
        head, _, total = row["answer"].rpartition("####")
        gold = f"{head}\\boxed{{{total.strip()}}}"
        assert score_with(adapter, adapter.extract_answer(gold, sample), sample, gold) == {"acc": 1.0}, i
        wrong = f"{head}\\boxed{{{int(total.strip().replace(',', '')) * 2 + 7}}}"
        assert score_with(adapter, adapter.extract_answer(wrong, sample), sample, wrong) == {"acc": 0.0}, i


# --- MATH-500 (real data) ------------------------------------------------------------------------


def test_math500_reads_every_row_by_level_with_evalscope_prompt(data_dir: Path) -> None:
    rows = _rows(data_dir / "math500" / "default" / "test.jsonl")
    bench = _plan("math_500", dataset_id=str(data_dir / "math500"))
    assert len(bench.items) == len(rows) == 500
    levels = Counter(it.sample.subset for it in bench.items)
    assert dict(levels) == bench.spec.sample_counts
    first = next(it for it in bench.items if it.sample.id == rows[0]["unique_id"])
    assert first.request.messages[-1].content == rows[0]["problem"] + MATH_500_SUFFIX
    assert first.sample.target == rows[0]["answer"] and first.sample.subset == f"Level {rows[0]['level']}"


def test_math500_gold_solutions_score_one_and_wrong_answers_zero(data_dir: Path) -> None:
    adapter = _adapter("math_500")
    rows = _rows(data_dir / "math500" / "default" / "test.jsonl")
    samples = [adapter.record_to_sample(row, "default", i) for i, row in enumerate(rows)]
    failed = [s.id for s, row in zip(samples, rows, strict=True) if _acc(adapter, row["solution"], s) != 1.0]
    assert failed == []
    integers = [s for s in samples if isinstance(s.target, str) and s.target.isdigit()][:25]
    assert len(integers) == 25
    for s in integers:
        assert _acc(adapter, f"So the answer is \\boxed{{{int(str(s.target)) + 1}}}.", s) == 0.0, s.id


def test_math500_found_as_math500_in_the_data_dir_and_one_level_alone(data_dir: Path) -> None:
    config = load_task_config({**_config("math_500"), "data_dir": str(data_dir)})
    assert len(build_plan(config).benchmarks[0].items) == 500
    config = load_task_config({**_config("math_500", subset_list=["Level 1"]), "data_dir": str(data_dir)})
    items = build_plan(config).benchmarks[0].items
    assert len(items) == 43 and {it.sample.subset for it in items} == {"Level 1"}


def test_math500_end_to_end_scores_what_the_replies_imply(tmp_path: Path, data_dir: Path) -> None:
    rows = _rows(data_dir / "math500" / "default" / "test.jsonl")
    reply = {
        row["unique_id"]: f"Working... so \\boxed{{{row['answer']}}}." if i % 2 == 0 else "I give up."
        for i, row in enumerate(rows)
    }
    entries = [
        {"contains": row["problem"] + MATH_500_SUFFIX, "reply": reply[row["unique_id"]]} for row in rows
    ]
    args = {"math_500": {"dataset_id": str(data_dir / "math500")}}
    report = _run(tmp_path, entries, ["math_500"], limit=2, dataset_args=args)["math_500"]
    # --limit applies per level, as EvalScope applies it after splitting the table by level
    first_two = [r["unique_id"] for lv in range(1, 6) for r in [r for r in rows if r["level"] == lv][:2]]
    reviews = _reviews(tmp_path / "out", "math_500")
    assert sorted(r["id"] for r in reviews) == sorted(first_two)
    right = [i for i in first_two if reply[i] != "I give up."]
    assert report.num_samples == 10 and report.score() == pytest.approx(len(right) / 10)
    subsets = {s.name: s.num for c in report.metrics[0].categories for s in c.subsets}
    assert subsets == dict.fromkeys(LEVELS, 2)
    for r in reviews:  # the extracted answer is recorded per sample
        assert r["extracted"] == (extract(reply[r["id"]]) if r["id"] in right else "")


# --- Competition-MATH (fixture) ---------------------------------------------------------------------


def test_competition_math_targets_levels_and_four_shot_prompt() -> None:
    root = FIXTURES / "competition_math" / "default"
    test, train = _rows(root / "test.jsonl"), _rows(root / "train.jsonl")
    bench = _plan("competition_math", dataset_id=str(root.parent))
    assert len(bench.items) == len(test)
    assert Counter(it.sample.subset for it in bench.items) == Counter(r["level"] for r in test)
    fraction = next(it.sample for it in bench.items if "one half" in it.sample.input)
    assert fraction.target == "\\frac{3}{4}"  # the last \boxed{} of the solution
    # A Level 1 problem: EvalScope shows the first four Level 1 train problems, each with its answer only.
    examples = [r for r in train if r["level"] == "Level 1"][:4]
    shots = "\n\n".join(f"Problem:\n{r['problem']}\nSolution:\n{extract(r['solution'])}" for r in examples)
    expected = COMP_FEW_SHOT_HEAD + shots + "\n" + COMP_PROMPT.format(q=test[0]["problem"])
    assert bench.items[0].request.messages[-1].content == expected
    # ... and a Level 2 problem the first four Level 2 ones (not the 'Level ?' row, in no level).
    level2 = next(it for it in bench.items if it.sample.subset == "Level 2")
    examples = [r for r in train if r["level"] == "Level 2"][:4]
    shots = "\n\n".join(f"Problem:\n{r['problem']}\nSolution:\n{extract(r['solution'])}" for r in examples)
    assert level2.request.messages[-1].content == COMP_FEW_SHOT_HEAD + shots + "\n" + COMP_PROMPT.format(
        q=level2.sample.input
    )
    zero = _plan("competition_math", dataset_id=str(root.parent), few_shot_num=0)
    assert zero.items[0].request.messages[-1].content == COMP_PROMPT.format(q=test[0]["problem"])


def test_competition_math_gold_solutions_score_one_and_wrong_zero() -> None:
    adapter = _adapter("competition_math")
    for i, row in enumerate(_rows(FIXTURES / "competition_math" / "default" / "test.jsonl")):
        sample = adapter.record_to_sample(row, "default", i)
        assert _acc(adapter, row["solution"], sample) == 1.0
        assert _acc(adapter, "So the answer is \\boxed{-1}.", sample) == 0.0


def test_competition_math_end_to_end(tmp_path: Path) -> None:
    root = FIXTURES / "competition_math"
    test = _rows(root / "default" / "test.jsonl")
    right = [r["level"] in ("Level 1", "Level 3") for r in test]
    entries = [
        {
            "contains": COMP_PROMPT.format(q=r["problem"]),
            "reply": r["solution"] if ok else "The answer is $\\boxed{-1}$.",
        }
        for r, ok in zip(test, right, strict=True)
    ]
    report = _run(
        tmp_path, entries, ["competition_math"], dataset_args={"competition_math": {"dataset_id": str(root)}}
    )["competition_math"]
    assert report.num_samples == len(test)
    assert report.score() == pytest.approx(sum(right) / len(test))
    level3 = next(s for c in report.metrics[0].categories for s in c.subsets if s.name == "Level 3")
    assert (level3.num, level3.score) == (3, 1.0)


# --- AIME 2024 / 2025 (fixtures) --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["aime24", "aime25"])
def test_aime_prompt_gold_and_integer_only_answers(name: str) -> None:
    rows = _rows(FIXTURES / name / "default" / "test.jsonl")
    bench = _plan(name, dataset_id=str(FIXTURES / name))
    assert len(bench.items) == len(rows)
    assert bench.items[0].request.messages[-1].content == AIME_PROMPT.format(q=rows[0]["problem"])
    adapter = bench.adapter
    for item, row in zip(bench.items, rows, strict=True):
        gold = str(row.get("answer") or row["solution"])
        value = int(extract(gold))
        assert _acc(adapter, f"Thus the answer is {gold}.", item.sample) == 1.0
        assert _acc(adapter, f"\\boxed{{{value}.0}}", item.sample) == 1.0  # still an integer literal
        assert (
            _acc(adapter, f"\\boxed{{\\frac{{{2 * value}}}{{2}}}}", item.sample) == 0.0
        )  # equal, not a literal
        assert _acc(adapter, f"\\boxed{{{value + 1}}}", item.sample) == 0.0


def test_aime_both_years_end_to_end(tmp_path: Path) -> None:
    rows24 = _rows(FIXTURES / "aime24" / "default" / "test.jsonl")
    rows25 = _rows(FIXTURES / "aime25" / "default" / "test.jsonl")
    entries = [{"contains": r["problem"], "reply": f"... {r['solution']}"} for r in rows24[:2]]
    entries += [{"contains": rows25[0]["problem"], "reply": f"So \\boxed{{{rows25[0]['answer']}}}"}]
    args = {n: {"dataset_id": str(FIXTURES / n)} for n in ("aime24", "aime25")}
    reports = _run(tmp_path, entries, ["aime24", "aime25"], dataset_args=args)
    assert reports["aime24"].score() == pytest.approx(2 / 3)
    assert reports["aime25"].score() == pytest.approx(1 / 3)


# --- BBH (fixture; the prompt files are our own, in the release's format) ----------------------------

BBH_TASKS = ["boolean_expressions", "dyck_languages", "logical_deduction_three_objects"]


def _release_body(task: str) -> str:
    """The fixture prompt file minus its header lines, as EvalScope's embedded copy of the release has it."""
    lines = (FIXTURES / "bbh" / "cot_prompts" / f"{task}.txt").read_text(encoding="utf-8").splitlines()
    if lines[1] == "-----":
        lines = lines[2:]
    return "\n".join(lines).strip()


def test_bbh_three_shot_and_zero_shot_prompts_and_targets() -> None:
    bench = _plan("bbh", dataset_id=str(FIXTURES / "bbh"), subset_list=BBH_TASKS)
    by_task = {t: [it for it in bench.items if it.sample.subset == t] for t in BBH_TASKS}
    for task in BBH_TASKS:
        row = _rows(FIXTURES / "bbh" / task / "test.jsonl")[0]
        expected = _release_body(task) + "\n\n" + BBH_PROMPT.format(q=row["input"])
        assert by_task[task][0].request.messages[-1].content == expected
    assert not _release_body("boolean_expressions").startswith("FIXTURE HEADER")
    assert [it.sample.target for it in by_task["logical_deduction_three_objects"]] == ["A", "C"]
    assert by_task["dyck_languages"][0].sample.target == "} ] )"  # brackets are the answer: kept
    zero = _plan("bbh", dataset_id=str(FIXTURES / "bbh"), subset_list=["dyck_languages"], few_shot_num=0)
    row = _rows(FIXTURES / "bbh" / "dyck_languages" / "test.jsonl")[0]
    assert zero.items[0].request.messages[-1].content == BBH_PROMPT.format(q=row["input"])


def test_bbh_prompts_from_an_explicit_folder_and_a_clear_error_when_absent(tmp_path: Path) -> None:
    data = tmp_path / "bbh"
    shutil.copytree(FIXTURES / "bbh", data, ignore=shutil.ignore_patterns("cot_prompts"))
    with pytest.raises(DatasetNotFoundError) as err:
        _plan("bbh", dataset_id=str(data), subset_list=["boolean_expressions"])
    assert str(data / "cot_prompts" / "boolean_expressions.txt") in err.value.message
    assert '"few_shot_num": 0' in (err.value.hint or "")
    prompts = tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "bbh" / "cot_prompts", prompts)
    bench = _plan(
        "bbh",
        dataset_id=str(data),
        subset_list=["boolean_expressions"],
        extra_params={"cot_prompts_dir": str(prompts)},
    )
    assert bench.items[0].request.messages[-1].content.startswith(_release_body("boolean_expressions"))
    with pytest.raises(ConfigError, match="0 or 3"):
        _plan("bbh", dataset_id=str(FIXTURES / "bbh"), few_shot_num=2)


@pytest.mark.parametrize(
    ("task", "target", "reply", "extracted", "acc"),
    [
        ("logical_deduction_three_objects", "A", "Ann is first. So the answer is (A).", "A", 1.0),
        ("logical_deduction_three_objects", "A", "So the answer is (B) since (A) is wrong.", "B", 0.0),
        ("logical_deduction_three_objects", "C", "so the answer is C", "C", 1.0),  # no marker: first capital
        ("snarks", "B", "I think the answer is B", "I", 0.0),  # EvalScope's fallback takes the pronoun
        ("boolean_expressions", "True", "So the answer is **True**.", "True", 1.0),
        ("boolean_expressions", "False", "So the answer is true.\nWait, no.", "true", 0.0),
        ("dyck_languages", "} ] )", "So the answer is } ] ).", "} ] )", 1.0),
        ("dyck_languages", "} ] )", "So the answer is ) ] }.", ") ] }", 0.0),  # punctuation counts
        ("web_of_lies", "Yes", "So the answer is yes", "yes", 1.0),  # lower-cased
    ],
)
def test_bbh_answer_extraction_and_acc(
    task: str, target: str, reply: str, extracted: str, acc: float
) -> None:
    adapter = _adapter("bbh", few_shot_num=0)
    sample = adapter.record_to_sample({"input": "q", "target": target}, task, 0)
    assert adapter.extract_answer(reply, sample) == extracted
    assert _acc(adapter, reply, sample) == acc


def test_bbh_end_to_end(tmp_path: Path) -> None:
    replies = {
        "boolean_expressions": ["So the answer is True.", "So the answer is True.", "So the answer is True."],
        "dyck_languages": ["So the answer is } ] ).", "So the answer is ) > >."],
        "logical_deduction_three_objects": ["So the answer is (A).", "So the answer is (A)."],
    }
    entries = [
        {"contains": BBH_PROMPT.format(q=row["input"]), "reply": reply}
        for task, task_replies in replies.items()
        for row, reply in zip(_rows(FIXTURES / "bbh" / task / "test.jsonl"), task_replies, strict=True)
    ]
    args = {"bbh": {"dataset_id": str(FIXTURES / "bbh"), "subset_list": BBH_TASKS}}
    report = _run(tmp_path, entries, ["bbh"], dataset_args=args)["bbh"]
    scores = {s.name: s.score for c in report.metrics[0].categories for s in c.subsets}
    assert scores == {
        "boolean_expressions": pytest.approx(2 / 3),
        "dyck_languages": 0.5,
        "logical_deduction_three_objects": 0.5,
    }
    assert report.score() == pytest.approx(4 / 7)


def test_the_pool_starts_a_second_process_only_under_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = math_equivalence._Pool(size=2)
    monkeypatch.setattr(math_equivalence, "_worker", pool)
    monkeypatch.setattr(math_equivalence._Pool, "GROW_AFTER", 4)
    try:
        for n in range(4):  # one caller at a time: one process is enough, however many calls
            assert compare(str(n), str(n)).matched
        assert len(pool._workers) == 1
        pairs = [(str(n), str(n + n % 2)) for n in range(40)]  # odd n: off by one
        with ThreadPoolExecutor(max_workers=2) as threads:
            results = list(threads.map(lambda p: compare(*p), pairs))
        assert [r.matched for r in results] == [n % 2 == 0 for n in range(40)]
        assert len(pool._workers) == 2  # two callers past the threshold: a second process served
    finally:
        pool.close()
