"""Knowledge family: cmmlu, ceval, mmlu_pro, mmlu_redux, gpqa_diamond, race.

Expected prompts are written out here from EvalScope 1.14.1's templates (adapters under
`evalscope/benchmarks/<name>/`, `evalscope/utils/multi_choices.py`); expected parses, corrected
targets and shuffled option orders are those EvalScope's own functions give for the same input.
CMMLU runs on the real release in `../shared/data`; the others on small fixtures of our own making
in the hubs' schemas (`fixtures/<name>/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evalscope import registry
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs, load_task_config
from evalscope.contracts import Sample
from evalscope.data_files import read_records
from evalscope.errors import ConfigError
from evalscope_native.benchmarks.multiple_choice_zh import parse_single_answer_zh
from evalscope_native.engine.plan import Plan, build_plan
from knowledge_helpers import FIXTURES, mmlu_pro_root, rows
from native_helpers import accuracy

# EvalScope 1.14.1 templates, verbatim
ZH_COT = (
    '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），'
    "其中 [LETTER] 是 A,B,C,D 中的一个。请在回答前进行一步步思考。\n\n问题：{question}\n选项：\n{choices}\n"
)
CEVAL_PROMPT = (
    '以下是中国关于{subject}的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），'
    "其中 [LETTER] 是 A、B、C、D 中的一个。\n\n问题：{question}\n选项：\n{choices}\n"
)
EN_COT_HEAD = (
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before "
    "answering.\n\n"
)


def adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    bench: Benchmark = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return bench


def plan(name: str, data_dir: Path | None = None, **args: Any) -> Plan:
    config: dict[str, Any] = {"model": "mock_llm", "datasets": [name], "dataset_args": {name: args}}
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    return build_plan(load_task_config(config))


def prompts(p: Plan) -> list[str]:
    return [item.request.messages[-1].content for item in p.benchmarks[0].items]


def lettered(options: list[str], sep: str = ") ") -> str:
    return "\n".join(f"{'ABCDEFGHIJ'[i]}{sep}{o}" for i, o in enumerate(options))


# --- registration -------------------------------------------------------------------------------


def test_specs_carry_evalscope_defaults() -> None:
    expected = {  # name: (dataset_id, eval split, few-shot split, few-shot number, subsets, rows)
        "cmmlu": ("haonan-li/cmmlu", "test", "dev", 0, 67, 11582),
        "ceval": ("ceval/ceval-exam", "val", "dev", 5, 52, 1346),
        "mmlu_pro": ("TIGER-Lab/MMLU-Pro", "test", "validation", 5, 14, 12032),
        "mmlu_redux": ("edinburgh-dawg/mmlu-redux-2.0", "test", None, 0, 57, 5700),
        "gpqa_diamond": ("Idavidrein/gpqa", "train", None, 0, 1, 198),
        "race": ("ehovy/race", "test", "train", 3, 2, 4934),
    }
    for name, (dataset_id, split, fs_split, fs_num, n_subsets, n_rows) in expected.items():
        spec = registry.benchmarks().resolve(name)
        got = (spec.dataset_id, spec.eval_split, spec.few_shot_split, spec.few_shot_num)
        assert got == (dataset_id, split, fs_split, fs_num), name
        assert len(spec.subsets) == n_subsets and sum(spec.sample_counts.values()) == n_rows, name
        assert spec.metrics == ("acc",) and spec.version == "1.0.0"


# --- CMMLU on the real release ------------------------------------------------------------------


def test_cmmlu_reads_every_real_row_and_scores_gold_one(data_dir: Path) -> None:
    bench = adapter("cmmlu")
    spec = bench.spec
    assert sorted(p.name for p in (data_dir / "cmmlu").iterdir() if p.is_dir()) == sorted(spec.subsets)
    categories = set()
    for subject in spec.subsets:
        for split in ("test", "dev"):
            records, _ = read_records(data_dir / "cmmlu" / subject / f"{split}.jsonl")
            samples = [bench.record_to_sample(r, subject, i) for i, r in enumerate(records)]
            if split == "test":
                assert len(samples) == spec.sample_counts[subject], subject
            for s, r in zip(samples, records, strict=True):
                assert s.target in ("A", "B", "C", "D") and s.choices == [r[k].strip() for k in "ABCD"], s.id
                right = bench.extract_answer(f"让我们一步步思考。\n答案：{s.target}", s)
                wrong = bench.extract_answer(f"答案：{'B' if s.target == 'A' else 'A'}", s)
                assert accuracy(right, s) == 1.0 and accuracy(wrong, s) == 0.0, s.id
        categories.add(bench.category_of(subject))
    assert categories == {"STEM", "Humanities", "Social Science", "China specific", "Other"}
    assert bench.category_of("chinese_history") == "China specific"
    assert bench.category_of("world_history") == "Humanities"


def test_cmmlu_prompts_equal_evalscope(data_dir: Path) -> None:
    test0 = rows(data_dir / "cmmlu" / "agronomy" / "test.jsonl")[0]
    dev = rows(data_dir / "cmmlu" / "agronomy" / "dev.jsonl")[:5]

    def options(r: dict[str, Any]) -> str:
        return lettered([r[k].strip() for k in "ABCD"])

    zero = ZH_COT.format(question=test0["Question"], choices=options(test0))
    assert zero.startswith("回答下面的单项选择题") and "A) 农业生产工具\nB) 土地" in zero
    assert prompts(plan("cmmlu", data_dir, subset_list=["agronomy"]))[0] == zero

    shots = "\n\n".join(f"问题：{r['Question']}\n选项：\n{options(r)}\n答案：{r['Answer']}" for r in dev)
    five = "以下是一些示例问题：\n\n" + shots + "\n\n" + zero
    assert prompts(plan("cmmlu", data_dir, subset_list=["agronomy"], few_shot_num=5))[0] == five


# Replies to a Chinese prompt → the letter EvalScope 1.14.1's `parse_answers_zh` gives (4 options).
ZH_REPLIES = [
    ("答案：B", "B"),
    ("分析……\n答案: C", "C"),
    ("**答案：** D", "D"),
    ("答案：（A）", "A"),
    ("答案：【C】", "C"),
    ("答案：$\\boxed{B}$", "B"),
    ("答案：B。", "B"),
    ("答案：B，因为C不对", "B"),
    ("先写答案：A，再想想，答案：D", "D"),
    ("答案：[LETTER]\n答案：C", "C"),
    ("答案：AB", ""),
    ("答案：A and B", ""),
    ("答案：E", ""),
    ("我选B", "B"),
    ("没有答案", ""),
    ("The answer is ANSWER: C", "C"),
    ("答案：不确定 E", ""),
]


@pytest.mark.parametrize(("reply", "expected"), ZH_REPLIES)
def test_chinese_answer_parsing(reply: str, expected: str) -> None:
    assert parse_single_answer_zh(reply, 4) == expected


def test_cmmlu_english_prompt_is_read_as_english() -> None:
    bench = adapter("cmmlu", prompt_template="{question}\n{choices}\nReply 'ANSWER: X'.")
    sample = Sample(id="x", input="q", choices=["a", "b", "c", "d"], target="C")
    assert bench.extract_answer("ANSWER: C", sample) == "C"
    assert adapter("cmmlu").extract_answer("ANSWER: C 答案：A", sample) == "A"


# --- C-Eval -------------------------------------------------------------------------------------


def test_ceval_five_shot_prompt_equals_evalscope() -> None:
    root = FIXTURES / "ceval"
    p = plan("ceval", dataset_id=str(root), subset_list=["law", "computer_network"])
    items = p.benchmarks[0].items
    assert [i.sample.subset for i in items] == ["law"] * 3 + ["computer_network"] * 3
    assert p.benchmarks[0].adapter.category_of("law") == "Humanities"
    assert p.benchmarks[0].adapter.category_of("computer_network") == "STEM"

    dev, val0 = rows(root / "law" / "dev.jsonl"), rows(root / "law" / "val.jsonl")[0]

    def options(r: dict[str, Any]) -> str:
        return lettered([r[k] for k in "ABCD"], sep=". ")

    shots = "\n\n".join(
        f"问题：{r['question']}\n选项：\n{options(r)}\n解析：{r['explanation']}\n答案：{r['answer']}"
        for r in dev
    )
    question = CEVAL_PROMPT.format(subject="法学", question=val0["question"], choices=options(val0))
    expected = "以下是一些示例问题：\n\n" + shots + "\n\n" + "\n" + question
    assert prompts(p)[0] == expected

    zero = prompts(plan("ceval", dataset_id=str(root), subset_list=["computer_network"], few_shot_num=0))
    assert zero[0].startswith("以下是中国关于计算机网络的单项选择题")


def test_ceval_scores_chinese_answers() -> None:
    bench = adapter("ceval")
    records = rows(FIXTURES / "ceval" / "law" / "val.jsonl")
    for i, record in enumerate(records):
        s = bench.record_to_sample(record, "law", i)
        assert accuracy(bench.extract_answer(f"解析略。\n答案：{s.target}", s), s) == 1.0
        other = "A" if s.target != "A" else "B"
        assert accuracy(bench.extract_answer(f"答案：{s.target}？不，答案：{other}", s), s) == 0.0


# --- MMLU-Pro -----------------------------------------------------------------------------------


def test_mmlu_pro_prompt_fewshot_from_validation_by_category(tmp_path: Path) -> None:
    root = mmlu_pro_root()
    p = plan("mmlu_pro", dataset_id=str(root), subset_list=["computer science", "math"])
    items = p.benchmarks[0].items
    assert [i.sample.subset for i in items] == ["computer science"] * 3 + ["math"] * 3
    assert items[0].sample.id == "2001" and items[0].sample.target == "B"

    val = [r for r in rows(FIXTURES / "mmlu_pro" / "validation.jsonl") if r["category"] == "computer science"]
    test0 = rows(FIXTURES / "mmlu_pro" / "test.jsonl")[3]

    def shot(r: dict[str, Any]) -> str:
        cot = r["cot_content"].replace(f"The answer is ({r['answer']}).", f"ANSWER: {r['answer']}.")
        return f"Question:\n{r['question']}\nOptions:\n{lettered(r['options'], sep=' ')}\n{cot}"

    expected = (
        "The following are multiple choice questions (with answers) about computer science. Think step by step "
        "and then finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct "
        "letter choice.\n\n"
        + "\n\n".join(shot(r) for r in val)
        + "\n\n"
        + EN_COT_HEAD.format(letters="A,B,C,D")
        + f"Question:\n{test0['question']}\nOptions:\n{lettered(test0['options'])}\n"
    )
    assert prompts(p)[0] == expected
    assert "ANSWER: D.\n\nQuestion:" in expected  # '(D)' rewritten as the prompt's own answer format
    ten = prompts(plan("mmlu_pro", dataset_id=str(root), subset_list=["math"], few_shot_num=0))[0]
    assert "one of A,B,C,D,E,F,G,H,I,J." in ten and "\nJ) 149\n" in ten


def test_mmlu_pro_reads_the_hubs_one_table() -> None:
    p = plan("mmlu_pro", dataset_id=str(FIXTURES / "mmlu_pro"), subset_list=["math"])
    assert [i.sample.id for i in p.benchmarks[0].items] == ["1001", "1002", "1003"]
    assert "about math." in prompts(p)[0] and "2 bits" not in prompts(p)[0]


# --- MMLU-Redux ---------------------------------------------------------------------------------


def test_mmlu_redux_scores_against_corrected_answers() -> None:
    bench = adapter("mmlu_redux")
    expected = {  # (subset, row): (choices, accepted letters), as EvalScope 1.14.1 corrects them
        ("abstract_algebra", 0): (["2", "3", "6", "12"], ["C"]),  # ok
        ("abstract_algebra", 1): (["0", "1", "2", "infinitely many"], ["B"]),  # wrong_groundtruth '1'
        ("abstract_algebra", 2): (["S_3", "Z_4", "D_4", "Q_8"], ["B"]),  # wrong_groundtruth 'B'
        ("abstract_algebra", 3): (["0", "-1", "2", "e"], ["A"]),  # no_correct_answer: '0' replaces '1'
        ("abstract_algebra", 4): (["1", "4", "3", "5"], ["A", "C"]),  # multiple '0, 2'
        ("abstract_algebra", 5): (["Z", "N", "Q", "the odd integers"], ["A", "C"]),  # multiple 'A or C'
        ("anatomy", 0): (["Femur", "Tibia", "Humerus", "Radius"], ["A"]),
        ("anatomy", 1): (["Liver", "Heart", "Lung", "Kidney"], ["B"]),  # bad_question_clarity: unchanged
        ("anatomy", 2): (["Cerebellum", "Femur", "Medulla", "Aorta"], ["A", "C"]),  # choice texts
        ("anatomy", 3): (
            ["Ligament", "Cartilage", "Fascia", "Bursa"],
            ["A", "B", "C", "D"],
        ),  # unreadable '()'
    }
    for (subset, i), (choices, accepted) in expected.items():
        record = rows(FIXTURES / "mmlu_redux" / subset / "test.jsonl")[i]
        s = bench.record_to_sample(record, subset, i)
        assert (s.choices, s.target) == (choices, accepted), (subset, i)
        for label in "ABCD":
            score = accuracy(bench.extract_answer(f"Reasoning.\nANSWER: {label}", s), s)
            assert score == (1.0 if label in accepted else 0.0), (subset, i, label)
    assert bench.category_of("formal_logic") == "Humanities"


def test_mmlu_redux_is_zero_shot_only() -> None:
    root = str(FIXTURES / "mmlu_redux")
    with pytest.raises(ConfigError, match="few_shot_num"):  # EvalScope 1.14.1 refuses it too
        plan("mmlu_redux", dataset_id=root, subset_list=["anatomy"], few_shot_num=3)
    p = plan("mmlu_redux", dataset_id=root, subset_list=["anatomy"])
    first = rows(FIXTURES / "mmlu_redux" / "anatomy" / "test.jsonl")[0]
    assert prompts(p)[0] == EN_COT_HEAD.format(letters="A,B,C,D") + first["question"] + "\n\n" + lettered(
        first["choices"]
    )


# --- GPQA-Diamond -------------------------------------------------------------------------------


def test_gpqa_options_are_shuffled_as_evalscope_shuffles_them() -> None:
    p = plan("gpqa_diamond", dataset_id=str(FIXTURES / "gpqa_diamond"))
    samples = [i.sample for i in p.benchmarks[0].items]
    # EvalScope 1.14.1 GPQAAdapter._process_input on the same rows:
    assert [(s.choices, s.target) for s in samples] == [
        (["2.48 eV", "4.96 eV", "1.24 eV", "0.62 eV"], "A"),
        (["Uracil", "Thymine", "Guanine", "Cytosine"], "B"),
        (["dsp2", "sp", "sp3", "sp2"], "C"),
        (["Henry", "Weber", "Gauss", "Tesla"], "B"),
    ]
    assert [s.id for s in samples] == ["recFIX001", "recFIX002", "recFIX003", "recFIX004"]
    first = rows(FIXTURES / "gpqa_diamond" / "gpqa_diamond" / "train.jsonl")[0]
    assert prompts(p)[0] == EN_COT_HEAD.format(letters="A,B,C,D") + first["Question"] + "\n\n" + lettered(
        samples[0].choices or []
    )
    with pytest.raises(ConfigError, match="zero-shot"):
        plan("gpqa_diamond", dataset_id=str(FIXTURES / "gpqa_diamond"), few_shot_num=5)


# --- RACE ---------------------------------------------------------------------------------------


def test_race_three_shot_prompt_equals_evalscope() -> None:
    root = FIXTURES / "race"
    p = plan("race", dataset_id=str(root))
    assert [i.sample.subset for i in p.benchmarks[0].items] == ["high"] * 3 + ["middle"] * 2

    def block(r: dict[str, Any]) -> str:
        return f"Article:\n{r['article']}\nQuestion:\n{r['question']}"

    train, test0 = rows(root / "middle" / "train.jsonl")[:3], rows(root / "middle" / "test.jsonl")[0]
    expected = (
        "Here are some examples of how to answer similar questions:\n\n"
        + "\n\n".join(f"{block(r)}\n{lettered(r['options'])}\nANSWER: {r['answer']}" for r in train)
        + "\n\n"
        + EN_COT_HEAD.format(letters="A,B,C,D")
        + block(test0)
        + "\n\n"
        + lettered(test0["options"])
    )
    assert prompts(p)[3] == expected
    with pytest.raises(ConfigError, match="at most 3"):
        plan("race", dataset_id=str(root), few_shot_num=4)
