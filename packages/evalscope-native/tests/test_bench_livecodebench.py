"""live_code_bench: prompts and test cases as EvalScope 1.14.1, safe decoding, host-judged cases.

The fixture (fixtures/live_code_bench, written by its make_fixture.py) holds four problems of our
own in the hub's schema: two stdin problems (AtCoder, Codeforces) and two LeetCode functional ones,
private cases base64+zlib+pickle encoded as the hub stores them (one as plain JSON).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import secrets
import zlib
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError, DataFormatError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks import live_code_bench_data as lcb_data
from evalscope_native.benchmarks.code_extraction import extract_last_fenced_block
from evalscope_native.benchmarks.live_code_bench_cases import IMPORT_PRELUDE, TestCase, parse_cases, run_cases
from evalscope_native.sandbox import SandboxCache, SandboxLimits, choose_isolation
from native_helpers import score_with
from sandbox_helpers import FAST, require_bwrap

FIXTURE = Path(__file__).parent / "fixtures" / "live_code_bench"
ROWS = [json.loads(x) for x in (FIXTURE / "release_latest" / "test.jsonl").read_text().splitlines() if x]
SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests. You will NOT "
    "return anything except for the program."
)

# Programs per problem id, and whether each must pass. Each is judged case by case in the sandbox.
SUM_AVG = "n = int(input())\na = list(map(int, input().split()))\n"
PROGRAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "abc900_a": {
        "correct": (SUM_AVG + "print(sum(a), sum(a) / n)\n", True),
        # Decimal equality, as LiveCodeBench: 2.000 == 2.0, and extra spaces/blank lines are stripped
        "decimal and spaces": (
            SUM_AVG + "print('  ', sum(a), '  ', '%.3f' % (sum(a) / n), ' ')\nprint()\n",
            True,
        ),
        "reads sys.stdin at once": (
            "import sys\nd = sys.stdin.read().split()\nn = int(d[0]); a = list(map(int, d[1:]))\n"
            "if __name__ == '__main__':\n    print(sum(a), sum(a) / n)\n",
            True,
        ),
        "exit(0) after printing": (SUM_AVG + "print(sum(a), sum(a) / n)\nexit(0)\n", True),
        "wrong output": (SUM_AVG + "print(sum(a) + 1, sum(a) / n)\n", False),
        "sys.exit(0) before printing": (
            "import sys\nsys.exit(0)\n" + SUM_AVG + "print(sum(a), sum(a) / n)\n",
            False,
        ),
        "os._exit(0) before printing": ("import os\nos._exit(0)\n", False),
        "prints the answer then crashes": (
            SUM_AVG + "print(sum(a), sum(a) / n)\nraise ValueError('late')\n",
            False,
        ),
    },
    "1900A": {
        "correct, prelude names": (  # defaultdict without an import: LiveCodeBench's import prelude
            "seen = defaultdict(int)\nfor _ in range(int(input())):\n    print('YES' if int(input()) % 2 == 0 else 'NO')\n",
            True,
        ),
        "wrong case": (
            "for _ in range(int(input())):\n    print('yes' if int(input()) % 2 == 0 else 'no')\n",
            False,
        ),
    },
    "9001": {
        "correct": (
            "class Solution:\n    def pairWithSum(self, nums: List[int], target: int) -> List[int]:\n"
            "        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n"
            "                return [seen[target - x], i]\n            seen[x] = i\n",
            True,
        ),
        "tuple, with debug prints": (
            "class Solution:\n    def pairWithSum(self, nums, target):\n        print('debug', nums)\n"
            "        return next((i, j) for i in range(len(nums)) for j in range(i + 1, len(nums))"
            " if nums[i] + nums[j] == target)\n",
            True,
        ),
        "always [0, 1]": (
            "class Solution:\n    def pairWithSum(self, nums, target):\n        return [0, 1]\n",
            False,
        ),
        "__eq__ always true": (
            "class Always(list):\n    def __eq__(self, other):\n        return True\n"
            "class Solution:\n    def pairWithSum(self, nums, target):\n        return Always()\n",
            False,
        ),
        "sys.exit(0) in the method": (
            "import sys\nclass Solution:\n    def pairWithSum(self, nums, target):\n        sys.exit(0)\n",
            False,
        ),
    },
    "9002": {
        "correct": (
            "class Solution:\n    def countVowelWords(self, words):\n        return sum(w[0] in 'aeiou' for w in words)\n",
            True,
        ),
        "a string, not a number": (
            "class Solution:\n    def countVowelWords(self, words):\n        return str(sum(w[0] in 'aeiou' for w in words))\n",
            False,
        ),
    },
}


@pytest.fixture(autouse=True)
def _bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALSCOPE_SANDBOX", raising=False)
    require_bwrap()


def _adapter(**args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve("live_code_bench")
    return registry.load_impl(spec)(spec, DatasetArgs(**args))


def _samples(adapter: Benchmark) -> dict[str, Sample]:
    return {r["question_id"]: adapter.record_to_sample(r, "release_latest", i) for i, r in enumerate(ROWS)}


def _hub_private(obj: Any) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def _fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\nIt reads the input."


def test_prompts_and_cases_match_evalscope() -> None:
    adapter = _adapter()
    samples = _samples(adapter)
    stdin_msgs = adapter.build_messages(samples["abc900_a"], [])
    assert [m.role for m in stdin_msgs] == ["system", "user"] and stdin_msgs[0].content == SYSTEM
    assert stdin_msgs[1].content == (
        "### Question:\n"
        + ROWS[0]["question_content"]
        + "\n\n### Format: Read the inputs from stdin solve the "
        "problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code "
        "within delimiters as follows.\n```python\n# YOUR CODE HERE\n```\n\n ### Answer: (use the provided "
        "format with backticks)\n\n"
    )
    functional = adapter.build_messages(samples["9001"], [])[1].content
    starter = ROWS[2]["starter_code"]
    assert functional == (
        f"### Question:\n{ROWS[2]['question_content']}\n\n### Format: You will use the following starter code to "
        f"write the solution to the problem and enclose your code within delimiters.\n```python\n{starter}\n```"
        "\n\n ### Answer: (use the provided format with backticks)\n\n"
    )
    assert IMPORT_PRELUDE == (  # LiveCodeBench's import_string, put in front of every program
        "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
        "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\n"
        "from statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\n"
        "from io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n"
        "import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\n"
        "import copy\nimport math\nimport random\nimport statistics\nimport itertools\nimport functools\n"
        "import operator\nimport io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
    )
    # public cases first, then the private ones decoded from base64+zlib+pickle (or plain JSON)
    cases = adapter.cases_for(samples["abc900_a"])  # type: ignore[attr-defined]
    assert [c.output for c in cases] == [
        "6 2.0\n",
        "100 25.0\n",
        "-7 -7.0\n",
        "4000000000000 2000000000000.0\n",
    ]
    assert [len(adapter.cases_for(s)) for s in samples.values()] == [4, 3, 3, 3]  # type: ignore[attr-defined]
    assert samples["9001"].metadata["fn_name"] == "pairWithSum" and samples["1900A"].metadata["fn_name"] == ""
    assert adapter.limits() == SandboxLimits(timeout_s=12, cpu_s=6)  # type: ignore[attr-defined]
    assert not adapter.build_messages(samples["9001"], [])[0].content.startswith("###")
    quiet = _adapter(system_prompt="")
    assert [m.role for m in quiet.build_messages(_samples(quiet)["9001"], [])] == ["user"]


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("```python\nA\n```\ntext\n```python\nB\nC\n```", "B\nC"),  # the LAST two fence lines
        ("x ```python y\nA\nz ``` w", "A"),  # a fence anywhere in a line counts
        ("```python\nonly an opening fence", ""),
        ("print(1)", ""),
    ],
)
def test_extraction_as_livecodebench(reply: str, code: str) -> None:
    assert extract_last_fenced_block(reply) == code


def test_a_reply_without_code_fails_without_running() -> None:
    adapter = _adapter()
    sample = _samples(adapter)["abc900_a"]
    reply = "n = int(input())\nprint(n)"  # no fences: LiveCodeBench extracts nothing
    assert score_with(adapter, adapter.extract_answer(reply, sample), sample, reply) == {"acc": 0.0}
    summary = sample.metadata["executions"][0]
    assert (
        summary["detail"].startswith("no code")
        and summary["case_statuses"] == []
        and summary["cases_total"] == 4
    )


def test_restricted_unpickler_refuses_code_execution(tmp_path: Path) -> None:
    marker = tmp_path / f"pwned-{secrets.token_hex(4)}"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    with pytest.raises(lcb_data.UnsafePickleError, match=r"asks for posix\.system, which is refused"):
        lcb_data.decode_private(_hub_private(Evil()))
    with pytest.raises(lcb_data.UnsafePickleError, match=r"builtins\.eval"):
        lcb_data.decode_private(_hub_private_reduce(eval, "__import__('os')"))
    assert not marker.exists()
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert lcb_data.decode_private(_hub_private(json.dumps(cases))) == cases  # the hub's format
    assert lcb_data.decode_private(_hub_private(cases)) == cases  # plain list/dict pickles are fine
    with pytest.raises(ValueError, match="neither JSON nor base64"):
        lcb_data.decode_private("not base64 !!")


def _hub_private_reduce(fn: Any, arg: str) -> str:
    class Reduce:
        def __reduce__(self) -> tuple[Any, ...]:
            return (fn, (arg,))

    return _hub_private(Reduce())


def test_a_malicious_row_stops_the_run_before_any_request(tmp_path: Path) -> None:
    folder = tmp_path / "lcb" / "release_latest"
    folder.mkdir(parents=True)
    evil = dict(ROWS[0], private_test_cases=_hub_private_reduce(os.system, "true"))
    (folder / "test.jsonl").write_text(json.dumps(ROWS[1]) + "\n" + json.dumps(evil) + "\n")
    with ScriptedServer({"model": "scripted", "entries": []}) as server:
        with pytest.raises(DataFormatError, match=r"test\.jsonl.*2.*posix\.system"):
            run_task(
                {
                    "model": "scripted",
                    "api_url": server.base_url,
                    "datasets": ["live_code_bench"],
                    "dataset_args": {"live_code_bench": {"local_path": str(tmp_path / "lcb")}},
                    "work_dir": str(tmp_path / "out"),
                }
            )
        assert server.stats()["requests"] == 0


def test_decompression_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lcb_data, "MAX_DECODED_BYTES", 1 << 16)
    with pytest.raises(ValueError, match="decompressed"):
        lcb_data.decode_private(_hub_private("x" * (1 << 20)))


def test_each_program_is_judged_case_by_case() -> None:
    adapter = _adapter()
    samples = _samples(adapter)
    verdicts, expected = {}, {}
    for qid, programs in PROGRAMS.items():
        for name, (code, should_pass) in programs.items():
            sample, reply = samples[qid], _fenced(code)
            verdicts[f"{qid}: {name}"] = score_with(
                adapter, adapter.extract_answer(reply, sample), sample, reply
            )
            expected[f"{qid}: {name}"] = {"acc": 1.0 if should_pass else 0.0}
    assert verdicts == expected
    wrong = samples["abc900_a"].metadata["executions"][PROGRAMS_INDEX["abc900_a"]["wrong output"]]
    assert wrong["case_statuses"] == ["failed"] and wrong["cases_total"] == 4
    failure = wrong["first_failure"]
    assert (failure["case"], failure["expected"], failure["got"]) == (0, "6 2.0\n", "7 2.0\n")
    assert "wrong answer at line 1: got '7 2.0', expected '6 2.0'" in failure["detail"]
    crash = samples["abc900_a"].metadata["executions"][
        PROGRAMS_INDEX["abc900_a"]["prints the answer then crashes"]
    ]
    assert "exit code 1 (ValueError)" in crash["detail"] and "late" in crash["first_failure"]["stderr"]
    early = samples["abc900_a"].metadata["executions"][
        PROGRAMS_INDEX["abc900_a"]["sys.exit(0) before printing"]
    ]
    assert "ended early: SystemExit" in early["detail"]
    eq_cheat = samples["9001"].metadata["executions"][PROGRAMS_INDEX["9001"]["__eq__ always true"]]
    assert eq_cheat["first_failure"]["got"] == "[]"
    correct = samples["9001"].metadata["executions"][0]
    assert correct["status"] == "passed" and correct["case_statuses"] == ["passed"] * 3


PROGRAMS_INDEX = {qid: {name: i for i, name in enumerate(progs)} for qid, progs in PROGRAMS.items()}


def test_timeout_is_per_case_and_stops_the_later_cases(tmp_path: Path) -> None:
    cases = [TestCase("1\n", "1\n"), TestCase("2\n", "2\n"), TestCase("3\n", "3\n")]
    program = "x = int(input())\nwhile x == 2:\n    pass\nprint(x)\n"
    cache = SandboxCache(tmp_path / "cache")
    summary = run_cases(program, cases, limits=FAST, isolation=choose_isolation(), cache=cache)
    assert summary["status"] == "timeout" and summary["case_statuses"] == ["passed", "timeout"]
    assert summary["first_failure"]["case"] == 1 and summary["cases_passed"] == 1
    # the verdict cache keys on stdin: case 3 (never run) is not a hit, cases 1 and 2 are
    again = run_cases(program, [cases[0], cases[2]], limits=FAST, isolation=choose_isolation(), cache=cache)
    assert again["status"] == "passed" and not again["cached"]
    assert run_cases(program, cases[:2], limits=FAST, isolation=choose_isolation(), cache=cache)["cached"]


def test_a_large_expected_output_still_compares() -> None:
    big = "".join(f"{i}\n" for i in range(40_000))  # ~230 KB, over the default 64 KiB kept per stream
    cases, where = (
        [TestCase("40000\n", big)],
        {"limits": FAST, "isolation": choose_isolation(), "cache": None},
    )
    good = run_cases("print('\\n'.join(map(str, range(int(input())))))\n", cases, **where)
    bad = run_cases("print('\\n'.join(map(str, range(int(input()) - 1))))\n", cases, **where)
    assert good["status"] == "passed", good
    assert bad["status"] == "failed" and "39999 output line(s), expected 40000" in bad["detail"]


def test_date_filter_and_extra_params(tmp_path: Path) -> None:
    adapter = _adapter(extra_params={"start_date": "2023-09-01", "end_date": "2024-03-01"})
    kept = [r["question_id"] for r in ROWS if adapter.keep_record(r, "release_latest")]
    assert kept == ["1900A", "9001"]
    assert adapter.report_extra()["start_date"] == "2023-09-01"
    with pytest.raises(ConfigError, match="did you mean 'start_date'"):
        _adapter(extra_params={"start_dat": "2023-09-01"})
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        _adapter(extra_params={"end_date": "01/03/2024"})


def test_parse_cases_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_cases("[{", functional=False)
    with pytest.raises(ValueError, match="case 2 must be an object"):
        parse_cases([{"input": "1", "output": "1"}, {"input": "2"}], functional=False)
    with pytest.raises(ValueError, match="needs fn_name"):
        parse_cases([{"input": "1", "output": "1", "testtype": "functional"}], functional=False)
    with pytest.raises(ValueError, match="must be JSON text"):
        parse_cases([{"input": "[1]", "output": "abc"}], functional=True)
    # a jsonl row may give the argument values themselves
    assert parse_cases([{"input": [[2, 7], 9], "output": [0, 1]}], functional=True) == [
        TestCase("[2, 7]\n9", "[0, 1]")
    ]


def _run(tmp_path: Path, entries: list[dict[str, str]], **config: Any) -> tuple[Any, list[dict[str, Any]]]:
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": ""}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["live_code_bench"],
                "dataset_args": {"live_code_bench": {"local_path": str(FIXTURE)}},
                "work_dir": str(tmp_path / "out"),
                **config,
            }
        )
    run_dir = next((tmp_path / "out").iterdir())
    lines = (run_dir / "reviews" / "scripted" / "live_code_bench.jsonl").read_text().splitlines()
    return reports["live_code_bench"], [json.loads(x) for x in lines if x]


@pytest.mark.slow
def test_end_to_end_and_pass_at_k(tmp_path: Path) -> None:
    replies = {
        "Sum and Average": _fenced(PROGRAMS["abc900_a"]["correct"][0]),
        "Even Split": _fenced(PROGRAMS["1900A"]["wrong case"][0]),
        "pair-with-sum": "```python\nclass Solution:\n    def pairWithSum(self, nums, target):\n        "
        "return [0, 1]\n```",  # public case passes, the first private one does not
        "count-vowel-words": _fenced(PROGRAMS["9002"]["correct"][0]),
    }
    titles = {r["question_title"]: r["question_content"] for r in ROWS}
    entries = [{"contains": titles[t], "reply": reply} for t, reply in replies.items()]
    report, reviews = _run(tmp_path / "n1", entries)
    assert report.num_samples == 4 and report.num_errors == 0 and report.score() == pytest.approx(0.5)
    assert report.extra["sandbox_isolation"] == "bwrap"
    by_id = {r["id"]: r["metadata"]["executions"] for r in reviews}
    assert [by_id[q][0]["status"] for q in ("abc900_a", "1900A", "9001", "9002")] == [
        "passed", "failed", "failed", "passed",
    ]  # fmt: skip
    private_failure = by_id["9001"][0]["first_failure"]
    assert by_id["9001"][0]["case_statuses"] == ["passed", "failed"]
    assert (private_failure["case"], private_failure["expected"], private_failure["got"]) == (
        1,
        "[1, 2]",
        "[0, 1]",
    )
    assert "private_test_cases" not in json.dumps(reviews)  # the cases stay out of the reviews
    # n = 2 completions per problem: mean-of-n and pass@k still come out of the same verdicts
    report2, reviews2 = _run(tmp_path / "n2", entries, generation_config={"n": 2})
    assert report2.score() == pytest.approx(0.5) and report2.score("pass@2") == pytest.approx(0.5)
    assert all(len(r["metadata"]["executions"]) == 2 for r in reviews2)
