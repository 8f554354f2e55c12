"""Custom datasets as EvalScope 1.14.1 reads them: general_mcq and general_qa from a local folder.

Layout, prompts, parsing and scores follow EvalScope's custom-dataset guide and adapters; the
fixtures (tests/fixtures/general_mcq, tests/fixtures/general_qa) are in its `<subset>_<split>.csv` /
`<subset>.jsonl` naming. Bad rows are run through the CLI: the message names file, line and field,
and nothing is written.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs, load_task_config
from evalscope.contracts import Sample
from evalscope.datasets import DataSource
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks import text_overlap
from evalscope_native.benchmarks.general_mcq import ZH_MULTIPLE_COT, ZH_SINGLE
from evalscope_native.data.loader import candidate_roots, find_split_files, pick_loader, subsets_in
from evalscope_native.engine.plan import build_plan
from native_helpers import evalscope_cmd, score_with

FIXTURES = Path(__file__).parent / "fixtures"
MCQ, QA = FIXTURES / "general_mcq", FIXTURES / "general_qa"


def _adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    adapter: Benchmark = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return adapter


def _samples(adapter: Benchmark, folder: Path, subset: str, split: str) -> list[Sample]:
    source = DataSource(benchmark=adapter.name, dataset_id=str(folder), subset=subset, split=split)
    records = pick_loader(source).load(source).records
    return [adapter.record_to_sample(r, subset, i) for i, r in enumerate(records)]


def _user_prompt(adapter: Benchmark, sample: Sample, fewshot: list[Sample] | None = None) -> str:
    return adapter.build_messages(sample, fewshot or [])[-1].content


def _score(adapter: Benchmark, sample: Sample, reply: str) -> dict[str, float]:
    scores = score_with(adapter, adapter.extract_answer(reply, sample), sample, reply)
    assert scores is not None
    return scores


# --- the layout ---------------------------------------------------------------------------------


def test_evalscope_custom_file_naming(tmp_path: Path) -> None:
    for name in ("ex_val.csv", "ex_val.jsonl", "ex_dev.csv", "ex.jsonl", "solo.parquet"):
        (tmp_path / name).write_text("")
    assert find_split_files(tmp_path, "ex", "val") == [
        tmp_path / "ex_val.jsonl"
    ]  # EvalScope tries .jsonl first
    assert find_split_files(tmp_path, "ex", "test") == [
        tmp_path / "ex.jsonl"
    ]  # <subset>.<ext> serves any split
    # EvalScope's order is by format, then name: ex.jsonl comes before ex_dev.csv
    assert find_split_files(tmp_path, "ex", "dev") == [tmp_path / "ex.jsonl"]
    (tmp_path / "ex.jsonl").unlink()
    assert find_split_files(tmp_path, "ex", "dev") == [tmp_path / "ex_dev.csv"]
    assert find_split_files(tmp_path, "solo", "val") == [tmp_path / "solo.parquet"]
    assert find_split_files(tmp_path, "other", "val") == []
    # the hub layout keeps precedence where both exist
    (tmp_path / "ex").mkdir()
    (tmp_path / "ex" / "val.jsonl").write_text("")
    assert find_split_files(tmp_path, "ex", "val") == [tmp_path / "ex" / "val.jsonl"]


def test_data_dir_holds_custom_folders_too() -> None:
    cfg = load_task_config(
        {"model": "mock_llm", "datasets": ["general_mcq"], "data_dir": str(FIXTURES),
         "dataset_args": {"general_mcq": {"subset_list": ["example", "other"]}}}
    )  # fmt: skip
    bench = build_plan(cfg).benchmarks[0]
    assert [it.sample.subset for it in bench.items] == ["example"] * 4 + ["other"] * 3


# --- general_mcq --------------------------------------------------------------------------------


def test_general_mcq_prompt_is_evalscopes_chinese_template() -> None:
    adapter = _adapter("general_mcq")
    samples = _samples(adapter, MCQ, "example", "val")
    assert [s.id for s in samples] == ["example/1", "example/2", "example/3", "example/4"]
    # EvalScope keeps an empty CSV cell as a choice: row 3 has no D, yet shows "D) " and offers A-D
    third = samples[2]
    expected = (
        '回答下面的单项选择题，请选出其中的正确答案。你的回答的全部内容应该是这样的格式："答案：[LETTER]"（不带引号），'
        "其中 [LETTER] 是 A,B,C,D 中的一个。\n\n问题：Which gas do plants take in for photosynthesis, mostly?\n"
        "选项：\nA) Oxygen\nB) Carbon dioxide\nC) Nitrogen\nD) \n"
    )
    assert _user_prompt(adapter, third) == expected
    # few-shot examples come from <subset>_dev under EvalScope's English header, answers as 'ANSWER: X'
    dev = _samples(adapter, MCQ, "example", "dev")
    shots = (
        "Here are some examples of how to answer similar questions:\n\n"
        "水的化学式是____\nA) H2O\nB) CO2\nC) O2\nD) NaCl\nANSWER: A\n\n"
        "一年有几个季节____\nA) 2\nB) 3\nC) 4\nD) 5\nANSWER: C\n\n"
    )
    first = samples[0]
    body = ZH_SINGLE.format(
        question=first.input, choices="A) 4种\nB) 22种\nC) 20种\nD) 19种", letters="A,B,C,D"
    )
    assert _user_prompt(adapter, first, dev) == shots + body
    # JSONL numbers become text (EvalScope 1.14.1 fails on them); ids fall back to the row index
    other = _samples(adapter, MCQ, "other", "val")
    assert other[1].choices == ["6", "8", "10"] and other[2].id == "other/2"
    assert len(other[0].choices or []) == 5


def test_general_mcq_parsing_and_scores() -> None:
    adapter = _adapter("general_mcq")
    samples = _samples(adapter, MCQ, "example", "val")
    first, fourth = samples[0], samples[3]
    assert _score(adapter, first, "答案：C") == {"acc": 1.0}
    assert _score(adapter, first, "分析……\n答案：（C）。") == {"acc": 1.0}
    assert _score(adapter, first, "答案：A\n再想想。\n答案：C") == {"acc": 1.0}  # the last marker wins
    assert _score(adapter, first, "答案：B") == {"acc": 0.0}
    assert _score(adapter, first, "答案：C、D") == {"acc": 0.0}  # two letters for one answer
    assert _score(adapter, first, "我选 C") == {"acc": 1.0}  # no marker: the last capital letter
    assert _score(adapter, fourth, "答案：A") == {"acc": 1.0}  # the CSV says 'a'
    # a user's own template is read like EvalScope does: 'ANSWER: X', not '答案：X'
    custom = _adapter(
        "general_mcq", prompt_template="Q: {question}\n{choices}\nReply 'ANSWER: X' ({letters})."
    )
    assert _score(custom, first, "ANSWER: C") == {"acc": 1.0}
    assert _score(custom, first, "答案：C 不对，ANSWER: B") == {"acc": 0.0}
    assert (
        _user_prompt(custom, first)
        == f"Q: {first.input}\nA) 4种\nB) 22种\nC) 20种\nD) 19种\nReply 'ANSWER: X' (A,B,C,D)."
    )


def test_general_mcq_multiple_correct_partial_credit() -> None:
    adapter = _adapter("general_mcq", extra_params={"multiple_correct": True, "use_cot": True})
    assert adapter.metrics == ["multi_choice_acc"] and adapter.prompt_template == ZH_MULTIPLE_COT
    samples = _samples(adapter, MCQ, "multi", "val")
    whale = samples[0]
    assert whale.target == ["A", "C"]
    assert _score(adapter, whale, "思考…\n答案：A、C") == {"multi_choice_acc": 1.0}
    assert _score(adapter, whale, "答案：C,A") == {"multi_choice_acc": 1.0}
    assert _score(adapter, whale, "答案：A") == {"multi_choice_acc": 0.5}  # one of two right letters
    assert _score(adapter, whale, "答案：AB") == {"multi_choice_acc": 0.0}  # a wrong letter spoils it
    few = _adapter("general_mcq", extra_params={"multiple_correct": True})
    assert few.sample_to_fewshot(whale).endswith("\nANSWER: AC")
    # a CSV cannot hold a list: 'AC' or 'A,C' is read as two letters
    row = {"question": "q", "A": "x", "B": "y", "C": "z", "answer": "A, C"}
    assert few.record_to_sample(row, "s", 0).target == ["A", "C"]


def test_general_mcq_bad_templates_and_metrics_fail_before_the_run() -> None:
    with pytest.raises(ConfigError, match=r"\{question\} and \{choices\}"):
        _adapter("general_mcq", prompt_template="Answer: {question}")
    with pytest.raises(ConfigError, match="unknown placeholder"):
        _adapter("general_mcq", prompt_template="{query} {question} {choices}")
    with pytest.raises(ConfigError, match="did you mean 'acc'"):
        _adapter("general_mcq", metric_list=["accc"])


def test_general_mcq_end_to_end(tmp_path: Path) -> None:
    entries = [
        {"contains": "组成动物蛋白质", "reply": "答案：C"},
        {"contains": "代谢终产物", "reply": "答案：A"},
        {"contains": "photosynthesis", "reply": "答案：B"},
        {"contains": "7 × 6", "reply": "答案：A"},
        {"contains": "largest?", "reply": "答案：C"},
        {"contains": "prime", "reply": "I think C."},
    ]
    with ScriptedServer({"model": "scripted", "default_reply": "答案：E", "entries": entries}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["general_mcq"],
                "dataset_args": {
                    "general_mcq": {"local_path": str(MCQ), "subset_list": ["example", "other"]}
                },
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["general_mcq"]
    metric = report.metrics[0]
    assert metric.name == "mean_acc" and report.num_samples == 7
    subsets = {s.name: s.score for c in metric.categories for s in c.subsets}
    assert subsets == {"example": pytest.approx(3 / 4), "other": pytest.approx(2 / 3)}
    assert report.score() == pytest.approx(5 / 7)


# --- general_qa ---------------------------------------------------------------------------------

# EvalScope 1.14.1's calculate_metric_score('BLEU' / 'Rouge', prediction, reference) for these pairs
# (nltk 3.10 with its punkt_tab model, rouge_chinese 1.0.3).
EVALSCOPE_SCORES = {
    ("It is Mount Everest, the highest mountain.", "It is Mount Everest"): {
        "bleu-1": 0.4444444444444444, "bleu-2": 0.375, "bleu-3": 0.2857142857142857, "bleu-4": 0.16666666666666669,
        "Rouge-1-R": 0.75, "Rouge-1-P": 0.42857142857142855, "Rouge-1-F": 0.5454545408264463,
        "Rouge-2-R": 0.6666666666666666, "Rouge-2-P": 0.3333333333333333, "Rouge-2-F": 0.44444444000000005,
        "Rouge-L-R": 0.75, "Rouge-L-P": 0.42857142857142855, "Rouge-L-F": 0.5454545408264463,
    },
    ("Mr. Smith met Dr. Jones. They talked.", "Smith met Jones. They talked for hours."): {
        "bleu-1": 0.7777777777777778, "bleu-2": 0.5, "bleu-3": 0.2857142857142857, "bleu-4": 0.16666666666666669,
        "Rouge-1-R": 0.5714285714285714, "Rouge-1-P": 0.5714285714285714, "Rouge-1-F": 0.5714285664285715,
        "Rouge-2-R": 0.3333333333333333, "Rouge-2-P": 0.3333333333333333, "Rouge-2-F": 0.3333333283333334,
        "Rouge-L-R": 0.5714285714285714, "Rouge-L-P": 0.5714285714285714, "Rouge-L-F": 0.5714285664285715,
    },
}  # fmt: skip


def test_general_qa_bleu_and_rouge_equal_evalscopes() -> None:
    adapter = _adapter("general_qa")
    for (prediction, reference), expected in EVALSCOPE_SCORES.items():
        sample = Sample(id="x", input="q", target=reference)
        assert _score(adapter, sample, prediction) == pytest.approx(expected, rel=1e-12)
    same = _score(
        adapter, Sample(id="x", input="q", target="The capital is Beijing."), "The capital is Beijing."
    )
    assert same["bleu-4"] == 1.0 and same["Rouge-L-R"] == 1.0 and same["Rouge-L-F"] == pytest.approx(1.0)
    empty = _score(adapter, Sample(id="x", input="q", target="anything"), "")
    assert set(empty.values()) == {0.0}
    assert adapter.metrics[0] == "Rouge-L-R" and len(adapter.metrics) == 13
    assert _adapter("general_qa", metric_list=["Rouge"]).metrics == list(text_overlap.ROUGE_KEYS)
    with pytest.raises(ConfigError, match="did you mean 'BLEU'"):
        _adapter("general_qa", metric_list=["BLUE"])


def test_chinese_without_jieba_is_split_per_character(monkeypatch: pytest.MonkeyPatch) -> None:
    assert text_overlap._per_character("北京是 capital 3.5%！") == [
        "北",
        "京",
        "是",
        " ",
        "capital",
        " ",
        "3.5%",
        "！",
    ]
    monkeypatch.setattr(text_overlap, "segment", text_overlap._per_character)
    scores = text_overlap.rouge_scores("北京是首都", "首都是北京")
    assert scores["Rouge-1-R"] == 1.0 and scores["Rouge-L-R"] == pytest.approx(2 / 5)


def test_general_qa_records_become_messages_as_in_evalscope() -> None:
    adapter = _adapter("general_qa", system_prompt="Be brief.")
    samples = _samples(adapter, QA, "example", "test")
    roles = [[(m.role, m.content) for m in adapter.build_messages(s, [])] for s in samples]
    assert roles[0] == [("system", "You are a geographer."), ("user", "What is the capital of China?")]
    assert roles[1] == [("system", "Be brief."), ("user", "What is the highest mountain in the world?")]
    assert [r for r, _ in roles[2]] == ["system", "user", "assistant", "user"]  # the record's own system wins
    assert roles[3] == [("system", "Be brief."), ("user", "Who met Jones?")]  # question/answer keys work too
    assert samples[3].target == "Smith met Jones. They talked for hours."
    # EvalScope ignores prompt_template for general_qa; here a template the user gives is applied
    templated = _adapter("general_qa", prompt_template="Answer briefly: {question}")
    assert (
        templated.build_messages(samples[2], [])[-1].content
        == "Answer briefly: Why are there none in the Arctic?"
    )
    with pytest.raises(ConfigError, match="no few-shot"):
        _adapter("general_qa", few_shot_num=1)


def test_general_qa_end_to_end(tmp_path: Path) -> None:
    entries = [
        {"contains": "capital of China", "reply": "The capital of China is Beijing."},
        {"contains": "highest mountain", "reply": "It is Mount Everest, the highest mountain."},
        {
            "contains": "none in the Arctic",
            "reply": "Penguins live in the Antarctic. None live in the Arctic!",
        },
        {"contains": "Who met Jones", "reply": "Mr. Smith met Dr. Jones. They talked."},
    ]
    with ScriptedServer({"model": "scripted", "default_reply": "?", "entries": entries}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["general_qa"],
                "dataset_args": {"general_qa": {"local_path": str(QA), "subset_list": ["example"]}},
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["general_qa"]
    assert report.num_samples == 4 and report.metrics[0].name == "mean_Rouge-L-R"
    # EvalScope's per-pair values (penguins: Rouge-L-R 4/7, bleu-1 0.41667)
    assert report.score() == pytest.approx((1 + 0.75 + 0.5714285714285714 + 0.5714285714285714) / 4)
    assert report.score("bleu-1") == pytest.approx(
        (1 + 0.4444444444444444 + 0.4166666666666667 + 0.7777777777777778) / 4
    )


# --- bad rows: file, line and field; nothing written ------------------------------------------------


def _run_cli(
    tmp_path: Path, env: dict[str, str], bench: str, folder: Path, **args: Any
) -> subprocess.CompletedProcess[str]:
    dataset_args = json.dumps({bench: {"local_path": str(folder), **args}})
    cmd = evalscope_cmd("eval", "--model", "mock_llm", "--datasets", bench, "--dataset-args", dataset_args,
                        "--work-dir", str(tmp_path / "out"))  # fmt: skip
    return subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def _assert_clean_failure(res: subprocess.CompletedProcess[str], tmp_path: Path, message: str) -> None:
    assert res.returncode == 2, res.stderr
    assert message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    work = tmp_path / "out"
    assert not work.exists() or not any(work.iterdir()), list(work.rglob("*"))


def test_csv_row_short_of_the_answer_column(tmp_path: Path, cli_env: dict[str, str]) -> None:
    data = tmp_path / "mcq"
    data.mkdir()
    (data / "quiz_val.csv").write_text(
        "id,question,A,B,answer\n1,Q1?,x,y,A\n2,Q2?,x,y,B\n3,Q3?,x,y\n", encoding="utf-8"
    )
    res = _run_cli(tmp_path, cli_env, "general_mcq", data, subset_list=["quiz"])
    _assert_clean_failure(res, tmp_path, f"{data / 'quiz_val.csv'}:4: missing field(s) answer")


def test_jsonl_row_without_a_question(tmp_path: Path, cli_env: dict[str, str]) -> None:
    data = tmp_path / "mcq"
    data.mkdir()
    good = '{"question": "Q?", "A": "x", "B": "y", "answer": "A"}'
    (data / "quiz_val.jsonl").write_text(
        good + "\n" + '{"A": "x", "B": "y", "answer": "B"}\n', encoding="utf-8"
    )
    res = _run_cli(tmp_path, cli_env, "general_mcq", data, subset_list=["quiz"])
    _assert_clean_failure(
        res,
        tmp_path,
        f"{data / 'quiz_val.jsonl'}:2: record is missing field 'question' needed by general_mcq",
    )


def test_few_shot_row_without_an_answer(tmp_path: Path, cli_env: dict[str, str]) -> None:
    data = tmp_path / "mcq"
    data.mkdir()
    (data / "quiz_val.csv").write_text("question,A,B,answer\nQ?,x,y,A\n", encoding="utf-8")
    (data / "quiz_dev.csv").write_text("question,A,B\nD?,x,y\n", encoding="utf-8")
    res = _run_cli(tmp_path, cli_env, "general_mcq", data, subset_list=["quiz"], few_shot_num=1)
    _assert_clean_failure(
        res, tmp_path, f"{data / 'quiz_dev.csv'}:2: record is missing field 'answer' needed by general_mcq"
    )


def test_qa_record_without_a_query(tmp_path: Path, cli_env: dict[str, str]) -> None:
    data = tmp_path / "qa"
    data.mkdir()
    rows = [
        '{"query": "a?", "response": "b"}',
        '{"query": "c?", "response": "d"}',
        '{"response": "no question"}',
    ]
    (data / "mine.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = _run_cli(tmp_path, cli_env, "general_qa", data, subset_list=["mine"])
    _assert_clean_failure(
        res, tmp_path, f"{data / 'mine.jsonl'}:3: record is missing field 'query' needed by general_qa"
    )


def test_missing_subset_file_names_what_was_looked_for(tmp_path: Path, cli_env: dict[str, str]) -> None:
    res = _run_cli(tmp_path, cli_env, "general_mcq", MCQ, subset_list=["nosuch"])
    _assert_clean_failure(res, tmp_path, f"looked in {MCQ} for nosuch/val.*, val.*, nosuch_val.*, nosuch.*.")
    assert f"Found in {MCQ}: subsets 'example', 'multi', 'other'" in res.stderr


def test_misspelt_subset_lists_each_path_once_and_the_subsets_there(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """The first-hour typo: `subset_list: ["exmple"]` for example.jsonl, with EVALSCOPE_DATA_DIR set (which
    used to add the same folder a second time, so every path was listed twice)."""
    data = tmp_path / "qa"
    data.mkdir()
    (data / "example.jsonl").write_text('{"query": "a?", "response": "b"}\n', encoding="utf-8")
    (data / "other_test.jsonl").write_text('{"query": "c?", "response": "d"}\n', encoding="utf-8")
    (data / "notes.txt").write_text("not data", encoding="utf-8")
    assert cli_env["EVALSCOPE_DATA_DIR"]
    res = _run_cli(tmp_path, cli_env, "general_qa", data, subset_list=["exmple"])
    _assert_clean_failure(
        res,
        tmp_path,
        f"No local copy of general_qa subset 'exmple' split 'test'; "
        f"looked in {data} for exmple/test.*, test.*, exmple_test.*, exmple.*. "
        f"Found in {data}: subsets 'example', 'other' (files example.jsonl, other_test.jsonl). "
        "Did you mean 'example'?",
    )
    assert res.stderr.count("exmple_test.*") == 1 and "notes.txt" not in res.stderr


def test_the_same_folder_reached_two_ways_is_searched_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "qa").mkdir()
    monkeypatch.chdir(tmp_path)
    for dataset_id in ("qa", str(tmp_path / "qa")):  # relative, then absolute (data_dir / absolute == itself)
        source = DataSource(
            benchmark="general_qa", dataset_id=dataset_id, subset="x", split="test", data_dir=tmp_path
        )
        roots = candidate_roots(source)
        assert [r.resolve() for r in roots].count((tmp_path / "qa").resolve()) == 1, roots


def test_subsets_a_folder_offers_in_either_layout(tmp_path: Path) -> None:
    for name in ("example_val.csv", "example_dev.csv", "quiz.jsonl", "test.jsonl", "readme.md"):
        (tmp_path / name).write_text("")
    for folder in ("main", "socratic", "data", ".cache"):
        (tmp_path / folder).mkdir()
    subsets, files = subsets_in(tmp_path, "val")
    assert subsets == ["example", "main", "quiz", "socratic"]  # test.jsonl is a split, data/ the shard folder
    assert files == ["example_dev.csv", "example_val.csv", "quiz.jsonl", "test.jsonl"]
