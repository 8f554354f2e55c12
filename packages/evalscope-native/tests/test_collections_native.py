"""Collections on the native engine: members loaded from the real data, the `collection` command,
the data_collection benchmark's bad input, and mixed files in EvalScope 1.14.1's own format."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.collections import CollectionSchema, DatasetInfo, WeightedSampler, dump_jsonl_data
from evalscope.errors import DataFormatError, UsageError
from evalscope.testing import ScriptedServer
from evalscope_native.collections.members import NativeMemberLoader
from evalscope_native.collections.report import LEVELS
from native_helpers import GSM8K_SUFFIX, evalscope_cmd

SCHEMA = {
    "name": "mix",
    "datasets": [
        {
            "name": "math",
            "weight": 1,
            "datasets": [{"name": "gsm8k", "task_type": "math", "args": {"few_shot_num": 0}}],
        },
        {
            "name": "knowledge",
            "weight": 2,
            "datasets": [
                {
                    "name": "arc",
                    "task_type": "reasoning",
                    "tags": ["en"],
                    "args": {"subset_list": ["ARC-Easy"]},
                },
                {"name": "mmlu", "task_type": "knowledge", "args": {"subset_list": ["anatomy", "astronomy"]}},
            ],
        },
    ],
}


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(evalscope_cmd(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_members_are_rendered_as_the_benchmark_renders_them(data_dir: Path) -> None:
    """The prompt in a mixed file is the request the member's own run sends (template, 5 shots)."""
    from evalscope.config import TaskConfig
    from evalscope_native.engine.plan import build_plan

    info = DatasetInfo(name="mmlu", args={"subset_list": ["anatomy"]})
    samples = NativeMemberLoader(data_dir)(info)
    plan = build_plan(
        TaskConfig(model="mock_llm", datasets=["mmlu"], dataset_args={"mmlu": info.args}, data_dir=data_dir)
    )
    items = plan.benchmarks[0].items
    assert len(samples) == len(items) == 135
    for got, item in zip(samples, items, strict=True):
        assert got.subset == "anatomy" and got.prompt["id"] == item.index
        assert got.prompt["input"] == [m.model_dump() for m in item.request.messages]
        assert got.prompt["target"] == item.sample.target and got.prompt["choices"] == item.sample.choices
        assert got.member["id"] == item.sample.id and got.member["input"] == item.sample.input
        assert got.member["benchmark"] == "native/mmlu" and got.member["args"] == {"subset_list": ["anatomy"]}
    assert "Here are some examples" in samples[0].prompt["input"][0]["content"]  # mmlu is 5-shot


def test_sample_command_is_seeded_and_byte_identical(tmp_path: Path, cli_env: dict[str, str]) -> None:
    schema = _write(tmp_path / "s.json", SCHEMA)
    outs = {}
    for name, seed in (("a", "42"), ("b", "42"), ("c", "7")):
        out = tmp_path / f"{name}.jsonl"
        res = _run(["collection", "sample", "--schema", str(schema), "--count", "90", "--seed", seed, "--out", str(out)],
                   cli_env, tmp_path)  # fmt: skip
        assert res.returncode == 0, res.stderr
        outs[name] = out.read_bytes()
    assert outs["a"] == outs["b"] and outs["a"] != outs["c"]
    assert "wrote 90 samples" in res.stdout and "data_collection" in res.stdout
    records = _lines(tmp_path / "a.jsonl")
    by_member = {n: sum(1 for r in records if r["dataset_name"] == n) for n in ("gsm8k", "arc", "mmlu")}
    assert by_member == {"gsm8k": 30, "arc": 30, "mmlu": 30}
    mmlu = {s: sum(1 for r in records if r["subset_name"] == s) for s in ("anatomy", "astronomy")}
    assert mmlu == {"anatomy": 14, "astronomy": 16}  # 135 : 152 of 30 → 14.1, 15.9
    gsm8k = next(r for r in records if r["dataset_name"] == "gsm8k")
    assert gsm8k["prompt"]["input"][0]["content"].endswith(GSM8K_SUFFIX)
    assert gsm8k["categories"] == ["mix", "math"] and gsm8k["task_type"] == "math"
    assert abs(sum(r["weight"] for r in records) - 1.0) < 1e-9

    shown = _run(["collection", "show", "--schema", str(schema)], cli_env, tmp_path)
    assert shown.returncode == 0 and "0.3333" in shown.stdout and "mix/knowledge" in shown.stdout


def test_sample_command_says_when_a_member_is_short(tmp_path: Path, cli_env: dict[str, str]) -> None:
    schema = _write(tmp_path / "s.json", SCHEMA)
    out = tmp_path / "mix.jsonl"
    res = _run(
        ["collection", "sample", "--schema", str(schema), "--count", "900", "--out", str(out)],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "warning: mmlu has 287 sample(s), fewer than its share of 300.00 of 900" in res.stderr
    counts = {n: sum(1 for r in _lines(out) if r["dataset_name"] == n) for n in ("gsm8k", "arc", "mmlu")}
    assert counts == {
        "gsm8k": 307,
        "arc": 306,
        "mmlu": 287,
    }  # the 13 missing: 6.5 each, the tie to the first


def test_collection_command_is_listed_and_lazy(tmp_path: Path, cli_env: dict[str, str]) -> None:
    top = _run(["--help"], cli_env, tmp_path)
    assert top.returncode == 0 and "collection" in top.stdout
    sub = _run(["collection", "--help"], cli_env, tmp_path)
    assert sub.returncode == 0 and "sample" in sub.stdout and "show" in sub.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["datasets"][0].update(weight=-1), "schema 'mix' > 'math': weight -1 is negative"),
        (lambda s: [d.update(weight=0) for d in s["datasets"]], "the weights of its 2 member(s) add up to 0"),
        (lambda s: s["datasets"][0]["datasets"][0].update(name="gsm8kk"), "Unknown benchmark 'gsm8kk'"),
        (
            lambda s: s["datasets"][1]["datasets"][0]["args"].update(subset_lst=["x"]),
            "Did you mean 'subset_list'?",
        ),
        (lambda s: s["datasets"][0]["datasets"].append({"name": "mt_bench"}), "mt_bench is multi-turn"),
        (lambda s: s["datasets"][0]["datasets"].append({"name": "data_collection"}), "cannot be a member"),
    ],
)
def test_bad_schema_exits_2_and_writes_nothing(
    change: Any, expected: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    change(schema)
    path = _write(tmp_path / "s.json", schema)
    out = tmp_path / "mix.jsonl"
    out.write_text("previous mix\n", encoding="utf-8")
    res = _run(
        ["collection", "sample", "--schema", str(path), "--count", "10", "--out", str(out)], cli_env, tmp_path
    )
    assert res.returncode == 2, res.stderr
    assert expected in res.stderr and "Traceback" not in res.stderr
    if "gsm8kk" in expected:
        assert "Did you mean: 'native/gsm8k'" in res.stderr
    assert out.read_text(encoding="utf-8") == "previous mix\n"
    assert {p.name for p in tmp_path.iterdir()} - {"evalscope-cache"} == {"mix.jsonl", "s.json"}


def test_bad_schema_file_and_flags_exit_2(tmp_path: Path, cli_env: dict[str, str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"name": "mix",\n "datasets": [\n  {"name": "gsm8k" "weight": 1}\n ]}\n', encoding="utf-8"
    )
    out = tmp_path / "mix.jsonl"
    res = _run(
        ["collection", "sample", "--schema", str(broken), "--count", "5", "--out", str(out)],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 2 and f"{broken}:3: invalid JSON" in res.stderr
    good = _write(tmp_path / "s.json", SCHEMA)
    for args, expected in (
        (["--count", "0"], "positive whole number"),
        (["--count", "5", "--sampler", "stratifed"], "Did you mean 'stratified'?"),
        (["--count", "many"], "Invalid value"),
        (["--count", "5", "--data-dir", str(tmp_path / "nowhere")], "is not a folder"),
    ):
        res = _run(
            ["collection", "sample", "--schema", str(good), "--out", str(out), *args], cli_env, tmp_path
        )
        assert res.returncode == 2 and expected in res.stderr, res.stderr
    assert not out.exists()


def _mix(tmp_path: Path, data_dir: Path, count: int = 12) -> Path:
    schema = CollectionSchema.from_dict(json.loads(json.dumps(SCHEMA)))
    out = tmp_path / "mix.jsonl"
    dump_jsonl_data(WeightedSampler(schema, seed=3, loader=NativeMemberLoader(data_dir)).sample(count), out)
    return out


def _eval_args(mix: Path, work: Path) -> list[str]:
    return ["eval", "--model", "mock_llm", "--datasets", "data_collection", "--dataset-args",
            json.dumps({"data_collection": {"local_path": str(mix)}}), "--work-dir", str(work)]  # fmt: skip


def test_malformed_mix_line_names_file_and_line(
    tmp_path: Path, data_dir: Path, cli_env: dict[str, str]
) -> None:
    mix = _mix(tmp_path, data_dir)
    lines = mix.read_text(encoding="utf-8").splitlines(keepends=True)
    mix.write_text("".join([*lines[:2], lines[2][:40] + "\n", *lines[3:]]), encoding="utf-8")
    work = tmp_path / "out"
    res = _run(_eval_args(mix, work), cli_env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert f"{mix}:3: invalid JSON" in res.stderr and "Traceback" not in res.stderr
    assert not work.exists()


def test_unknown_member_in_mix_names_line_and_closest(tmp_path: Path, data_dir: Path) -> None:
    mix = _mix(tmp_path, data_dir)
    records = _lines(mix)
    unknown = json.loads(json.dumps(records))
    unknown[4]["dataset_name"] = "mmluu"
    no_prompt = json.loads(json.dumps(records))
    no_prompt[4].pop("prompt")
    for broken, expected in (
        (unknown, f"{mix}:5: cannot read record for data_collection: member 'mmluu': Unknown benchmark"),
        (no_prompt, f"{mix}:5: record is missing field 'prompt'"),
    ):
        dump_jsonl_data(broken, mix)
        with pytest.raises(DataFormatError) as err:
            run_task({"model": "mock_llm", "datasets": ["data_collection"], "work_dir": str(tmp_path / "out"),
                      "dataset_args": {"data_collection": {"local_path": str(mix)}}})  # fmt: skip
        assert expected in str(err.value)
        if "mmluu" in expected:
            assert "Did you mean: 'native/mmlu'" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_data_collection_needs_its_file(tmp_path: Path) -> None:
    for args, expected in (
        ({}, "name it with local_path"),
        ({"local_path": str(tmp_path / "nope.jsonl")}, "does not exist"),
    ):
        with pytest.raises(UsageError, match=expected):
            run_task({"model": "mock_llm", "datasets": ["data_collection"], "work_dir": str(tmp_path / "out"),
                      "dataset_args": {"data_collection": args}})  # fmt: skip


# Three lines in EvalScope 1.14.1's own format (its sampler's output, questions of our making): messages
# with EvalScope's `id` field, an int `id` and `group_id`, no `member` field.
EVALSCOPE_LINES = [
    {"index": 0, "prompt": {"input": [{"id": "0f3c9a1b", "content": "Tom has 3 apples and buys 4 more. How many apples does he have?\nPlease reason step by step, and put your final answer within \\boxed{}.", "role": "user"}],
                            "target": "7", "id": 12, "group_id": 12, "metadata": {"reasoning": "3 + 4 = 7"}},
     "tags": ["en", "math"], "categories": ["mix", "math"], "task_type": "math", "weight": 0.25, "dataset_name": "gsm8k", "subset_name": "main"},
    {"index": 1, "prompt": {"input": [{"id": "77aa01c2", "content": "Tom has 5 pears and eats 2. How many pears are left?\nPlease reason step by step, and put your final answer within \\boxed{}.", "role": "user"}],
                            "target": "3", "id": 40, "group_id": 40, "metadata": {"reasoning": "5 - 2 = 3"}},
     "tags": ["en", "math"], "categories": ["mix", "math"], "task_type": "math", "weight": 0.25, "dataset_name": "gsm8k", "subset_name": "main"},
    {"index": 2, "prompt": {"input": [{"id": "5b2e90d4", "content": "Answer the following multiple choice question. The entire content of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D.\n\nWhich planet is closest to the Sun?\n\nA) Venus\nB) Mercury\nC) Earth\nD) Mars", "role": "user"}],
                            "choices": ["Venus", "Mercury", "Earth", "Mars"], "target": "B", "id": 3, "group_id": 3, "metadata": {"id": "demo_3"}},
     "tags": ["en"], "categories": ["mix", "reason"], "task_type": "reasoning", "weight": 0.5, "dataset_name": "arc", "subset_name": "ARC-Easy"},
]  # fmt: skip


def test_a_mix_written_by_evalscope_is_scored_by_its_members(tmp_path: Path) -> None:
    """EvalScope's folder layout too: `<folder>/test.jsonl`, as its data_collection reads it."""
    folder = tmp_path / "their_mix"
    dump_jsonl_data(EVALSCOPE_LINES, folder / "test.jsonl")
    script = {
        "model": "scripted",
        "default_reply": "no idea",
        "entries": [
            {"contains": "How many apples", "reply": "3 + 4 gives \\boxed{7}."},
            {"contains": "How many pears", "reply": "The answer is \\boxed{4}."},
            {"contains": "closest to the Sun", "reply": "ANSWER: B"},
        ],
    }
    with ScriptedServer(script) as server:
        reports = run_task({"model": "scripted", "api_url": server.base_url, "api_key": "EMPTY",
                            "datasets": ["data_collection"], "work_dir": str(tmp_path / "out"),
                            "dataset_args": {"data_collection": {"local_path": str(folder)}}})  # fmt: skip
        assert server.stats()["requests"] == 3
    report = reports["data_collection"]
    assert report.score() == pytest.approx(2 / 3)
    levels = report.extra["collection"]
    assert [(r["dataset_name"], r["micro_avg."], r["weighted_avg."]) for r in levels["dataset_level"]] == [
        ("gsm8k", 0.5, 0.5),
        ("arc", 1.0, 1.0),
    ]
    category = {
        tuple(v for k, v in r.items() if k.startswith("category")): r for r in levels["category_level"]
    }
    assert category[("mix", "math")]["count"] == 2
    # weighted: gsm8k's two lines weigh 0.25 each, arc's one 0.5 → (0.25·1 + 0.25·0 + 0.5·1) / 1
    tag = levels["tag_level"][0]
    assert (tag["tags"], tag["count"], tag["weighted_avg."]) == ("en", 3, 0.75)
    run_dir = next((tmp_path / "out").iterdir())
    reviews = _lines(run_dir / "reviews" / "scripted" / "data_collection.jsonl")
    assert [r["id"] for r in reviews] == ["gsm8k/main/12", "gsm8k/main/40", "arc/ARC-Easy/3"]
    assert [r["extracted"] for r in reviews] == ["7", "4", "B"]
    assert reviews[2]["metadata"]["collection_info"]["metric"] == "acc"
    detailed = json.loads((run_dir / "reports" / "scripted" / "collection_detailed_report.json").read_text())
    assert list(detailed) == ["subset_level", "dataset_level", "task_level", "tag_level", "category_level"]
    # Every average has a 95 % interval: normal (± 1.96 stderr) by default, none for one sample.
    gsm8k = levels["dataset_level"][0]  # 1 and 0: stderr 0.5
    assert gsm8k["micro_ci"] == pytest.approx([0.5 - 0.98, 0.5 + 0.98])
    assert gsm8k["macro_ci"] == pytest.approx([0.5 - 0.98, 0.5 + 0.98])
    assert levels["dataset_level"][1]["micro_ci"] is None  # arc: one sample
    for level in LEVELS[1:]:
        for row in levels[level]:
            for kind in ("micro", "macro", "weighted"):
                ci = row[f"{kind}_ci"]
                assert ci is None or ci[0] <= row[f"{kind}_avg."] <= ci[1], (level, kind, row)

    with ScriptedServer(script) as server:
        boot = run_task({"model": "scripted", "api_url": server.base_url, "api_key": "EMPTY",
                         "datasets": ["data_collection"], "work_dir": str(tmp_path / "boot"),
                         "dataset_args": {"data_collection": {"local_path": str(folder),
                                                              "aggregation": "bootstrap"}}})  # fmt: skip
    en = boot["data_collection"].extra["collection"]["tag_level"][0]
    assert (
        0.0 <= en["micro_ci"][0] <= en["micro_avg."] <= en["micro_ci"][1] <= 1.0
    )  # percentile: within [0, 1]
    assert en["macro_ci"] == pytest.approx([en["macro_avg."] - 1.96 * en["macro_stderr"],
                                            en["macro_avg."] + 1.96 * en["macro_stderr"]])  # fmt: skip


BASELINE = Path(os.environ.get("EVALSCOPE_BASELINE", "/tmp/evalscope-baseline"))


@pytest.mark.skipif(not (BASELINE / "bin" / "python").exists(), reason="EvalScope 1.14.1 venv not available")
def test_evalscope_reads_our_mixed_file(tmp_path: Path, data_dir: Path) -> None:
    """EvalScope 1.14.1's own models accept every line we write (its DatasetEntry and Sample)."""
    mix = _mix(tmp_path, data_dir, count=30)
    probe = (
        "import json, sys\n"
        "from evalscope.collections import DatasetEntry\n"
        "from evalscope.api.dataset import Sample\n"
        "n = 0\n"
        "for line in open(sys.argv[1], encoding='utf-8'):\n"
        "    entry = DatasetEntry.model_validate(json.loads(line))\n"
        "    sample = Sample.model_validate(entry.prompt)\n"
        "    assert sample.input[0].role == 'user' and sample.target\n"
        "    n += 1\n"
        "print(n)\n"
    )
    out = subprocess.run([str(BASELINE / "bin" / "python"), "-c", probe, str(mix)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": ""})  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "30"
