"""code_tests end to end: a user's own csv of problems (asserts, or stdin/stdout and functional cases),
scored in the sandbox."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.errors import DataFormatError
from evalscope.testing import ScriptedServer
from native_helpers import evalscope_cmd

ROWS = [
    {
        "id": "add",
        "prompt": "Write add(a, b) returning their sum.",
        "tests": "assert add(2, 3) == 5",
        "setup": "",
    },
    {"id": "neg", "prompt": "Write neg(x) returning -x.", "tests": "assert neg(4) == -4", "setup": ""},
    {
        "id": "root",
        "prompt": "Write root(x): the square root.",
        "tests": "assert root(9) == 3",
        "setup": "import math",
    },
]
REPLIES = {
    "add(a, b)": "```python\ndef add(a, b):\n    return a + b\n```",
    "neg(x)": "```python\ndef neg(x):\n    return x\n```",  # wrong
    "root(x)": "```python\nimport sys\nsys.exit(0)\n```",  # the early-exit cheat: a failure
}


def test_code_tests_from_a_csv_through_the_cli(tmp_path: Path, cli_env: dict[str, str]) -> None:
    folder = tmp_path / "mine" / "default"
    folder.mkdir(parents=True)
    with (folder / "test.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "prompt", "tests", "setup"])
        writer.writeheader()
        writer.writerows(ROWS)
    entries = [{"contains": k, "reply": v} for k, v in REPLIES.items()]
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        args = '{"code_tests": {"local_path": "%s"}}' % (tmp_path / "mine")
        res = subprocess.run(
            evalscope_cmd("eval", "--model", "scripted", "--api-url", server.base_url, "--datasets", "code_tests",
                          "--dataset-args", args, "--work-dir", str(tmp_path / "out")),
            env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "out").iterdir())
    report = json.loads((run_dir / "reports" / "scripted" / "code_tests.json").read_text())
    assert report["num_samples"] == 3 and report["metrics"][0]["score"] == 1 / 3
    assert report["extra"]["sandbox_isolation"] == "bwrap"
    reviews = [
        json.loads(x)
        for x in (run_dir / "reviews" / "scripted" / "code_tests.jsonl").read_text().split("\n")
        if x
    ]
    assert [r["metadata"]["executions"][0]["status"] for r in reviews] == ["passed", "failed", "failed"]


# --- stdin/stdout and functional test cases in a csv (LiveCodeBench-style), judged on the host ---

CASE_ROWS = [
    {  # stdin cases only, given as JSON text in the csv cell
        "id": "double",
        "prompt": "Read n from stdin and print 2n.",
        "tests": "",
        "test_cases": json.dumps([{"input": "21\n", "output": "42\n"}, {"input": "-4\n", "output": "-8"}]),
        "fn_name": "",
    },
    {
        "id": "sum-lines",
        "prompt": "Read two lines of integers and print the sum of each line.",
        "tests": "",
        "test_cases": json.dumps(
            [{"input": "1 2\n3 4\n", "output": "3\n7\n"}, {"input": "5\n0 0\n", "output": "5\n0\n"}]
        ),
        "fn_name": "",
    },
    {  # functional: call a function with JSON arguments, compare the JSON return value
        "id": "merge",
        "prompt": "Write merge(a, b) returning the sorted union of two lists.",
        "tests": "",
        "test_cases": json.dumps([{"input": "[3, 1]\n[2]", "output": "[1, 2, 3]"}]),
        "fn_name": "merge",
    },
    {  # asserts AND cases: both must pass
        "id": "both",
        "prompt": "Write square(x), and make the program print square of the integer on stdin.",
        "tests": "assert square(3) == 9",
        "test_cases": json.dumps([{"input": "4\n", "output": "16\n"}]),
        "fn_name": "",
    },
    {
        "id": "cheat",
        "prompt": "Read n and print n factorial.",
        "tests": "",
        "test_cases": json.dumps([{"input": "5\n", "output": "120\n"}]),
        "fn_name": "",
    },
]
CASE_REPLIES = {
    "print 2n": "```python\nprint(2 * int(input()))\n```",
    "sum of each line": "```python\nimport sys\nfor line in sys.stdin:\n    print(sum(map(int, line.split())) + 1)\n```",
    "sorted union": "```python\ndef merge(a, b):\n    return sorted(set(a) | set(b))\n```",
    # the asserts run once with an empty stdin, so the program reads stdin without failing on EOF
    "square of the integer": "```python\nimport sys\ndef square(x):\n    return x * x\ndata = sys.stdin.read().split()\n"
    "if data:\n    print(square(int(data[0])))\n```",
    "n factorial": "```python\nimport sys\nsys.exit(0)\n```",  # exits before printing: a failure
}


def test_code_tests_stdin_cases_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "mine" / "default"
    folder.mkdir(parents=True)
    with (folder / "test.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "prompt", "tests", "test_cases", "fn_name"])
        writer.writeheader()
        writer.writerows(CASE_ROWS)
    entries = [{"contains": k, "reply": v} for k, v in CASE_REPLIES.items()]
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["code_tests"],
                "dataset_args": {"code_tests": {"local_path": str(tmp_path / "mine")}},
                "work_dir": str(tmp_path / "out"),
            }
        )
    assert reports["code_tests"].score() == pytest.approx(3 / 5)
    run_dir = next((tmp_path / "out").iterdir())
    lines = (run_dir / "reviews" / "scripted" / "code_tests.jsonl").read_text().splitlines()
    runs = {r["id"]: r["metadata"]["executions"][0] for r in map(json.loads, lines)}
    assert {k: v["status"] for k, v in runs.items()} == {
        "double": "passed", "sum-lines": "failed", "merge": "passed", "both": "passed", "cheat": "failed",
    }  # fmt: skip
    assert runs["double"]["case_statuses"] == ["passed", "passed"] and runs["merge"]["kind"] == "functional"
    failure = runs["sum-lines"]["first_failure"]
    assert (failure["case"], failure["expected"], failure["got"]) == (0, "3\n7\n", "4\n8\n")
    assert runs["both"]["asserts"]["status"] == "passed"
    assert "got '', expected '120'" in runs["cheat"]["detail"]


def test_code_tests_bad_test_cases_name_the_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "mine" / "default"
    folder.mkdir(parents=True)
    rows = [
        {"prompt": "p", "test_cases": [{"input": "1", "output": "1"}]},
        {"prompt": "q", "test_cases": "[{"},
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataFormatError, match=r"test\.jsonl:2: .*test_cases is not valid JSON"):
        run_task(
            {
                "model": "mock_llm",
                "datasets": ["code_tests"],
                "dataset_args": {"code_tests": {"local_path": str(tmp_path / "mine")}},
                "work_dir": str(tmp_path / "out"),
            }
        )
