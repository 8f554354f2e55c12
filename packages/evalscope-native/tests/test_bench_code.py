"""HumanEval and code_tests: extraction as EvalScope 1.14.1, sandboxed scoring, and an end-to-end run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks import humaneval as he
from evalscope_native.benchmarks.code_extraction import extract_code
from evalscope_native.sandbox import SandboxLimits, SandboxUnavailable, run_many
from native_helpers import score_with

FIXTURES = Path(__file__).parent / "fixtures" / "code_tests"
EVALSCOPE_PROMPT = (
    "Read the following function signature and docstring, and fully implement the function described. "
    "Your response should only contain the code for this function.\n"
)


def _adapter(name: str, **args: Any) -> Benchmark:
    spec = registry.benchmarks().resolve(name)
    return registry.load_impl(spec)(spec, DatasetArgs(**args))


@pytest.fixture(scope="module")
def humaneval_rows(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "humaneval" / "openai_humaneval" / "test.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_row_loads_and_prompt_matches_evalscope(humaneval_rows: list[dict[str, Any]]) -> None:
    adapter = _adapter("humaneval")
    samples = [adapter.record_to_sample(r, "openai_humaneval", i) for i, r in enumerate(humaneval_rows)]
    assert len(samples) == 164 and samples[0].id == "HumanEval/0"
    messages = adapter.build_messages(samples[3], [])
    assert messages[-1].content == EVALSCOPE_PROMPT + humaneval_rows[3]["prompt"]


def test_all_canonical_solutions_pass_through_the_scoring_path(humaneval_rows: list[dict[str, Any]]) -> None:
    adapter = _adapter("humaneval")
    samples = [adapter.record_to_sample(r, "openai_humaneval", i) for i, r in enumerate(humaneval_rows)]
    programs = [
        adapter.program_for(adapter.extract_answer(s.target, s), s)  # type: ignore[attr-defined]
        for s in samples
        if isinstance(s.target, str)
    ]
    start = time.monotonic()
    results = run_many(programs, limits=adapter.limits())  # type: ignore[attr-defined]
    failed = [
        (s.id, r.status, r.stderr[-300:]) for s, r in zip(samples, results, strict=True) if not r.passed
    ]
    assert failed == []
    assert time.monotonic() - start < 30


BROKEN = {
    "wrong return": "    return None\n",
    "exception": "    raise ValueError('nope')\n",
    "exit before asserts": "    return 0\nimport sys\nsys.exit(0)\n",
    "os._exit before asserts": "    return 0\nimport os\nos._exit(0)\n",
    "infinite loop": "    while True:\n        pass\n",
    "syntax error": "    return (\n",
}


def test_broken_variants_fail(humaneval_rows: list[dict[str, Any]]) -> None:
    adapter = _adapter("humaneval")
    sample = adapter.record_to_sample(humaneval_rows[0], "openai_humaneval", 0)
    programs = [adapter.program_for(code, sample) for code in BROKEN.values()]  # type: ignore[attr-defined]
    fast = SandboxLimits(timeout_s=2.0, cpu_s=1)
    results = run_many(programs, limits=fast)
    statuses = dict(zip(BROKEN, (r.status for r in results), strict=True))
    assert all(not r.passed for r in results), statuses
    assert statuses["infinite loop"] == "timeout"
    assert statuses["exception"] == "failed" and statuses["exit before asserts"] == "failed"


def test_score_records_execution_and_never_raises(humaneval_rows: list[dict[str, Any]]) -> None:
    adapter = _adapter("humaneval")
    sample = adapter.record_to_sample(humaneval_rows[2], "openai_humaneval", 2)
    wrong = "```python\ndef truncate_number(number):\n    raise RuntimeError('x' * 10000)\n```"
    assert score_with(adapter, adapter.extract_answer(wrong, sample), sample, wrong) == {"acc": 0.0}
    good = str(sample.target)
    assert score_with(adapter, adapter.extract_answer(good, sample), sample, good) == {"acc": 1.0}
    first, second = sample.metadata["executions"]
    assert first["status"] == "failed" and "RuntimeError" in first["stderr"]
    assert len(first["stderr"]) <= he.STDERR_KEEP and second["status"] == "passed"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("```python\ndef f():\n    return 1\n```\ntext", "def f():\n    return 1\n"),
        ("Here:\n```py\nA\n```\nand\n```python\nB\n```", "A\n"),  # the first block, any info word
        ("```\nplain\n```", "plain\n"),
        ("    return x + 1\n", "    return x + 1\n"),  # a bare completion is kept as is
        ("``` python\nx\n```", "``` python\nx\n```"),  # EvalScope's pattern needs \w* then a newline
        ("```python\nunclosed", "```python\nunclosed"),
    ],
)
def test_extraction_as_evalscope(reply: str, expected: str) -> None:
    assert extract_code(reply) == expected
    assert extract_code(reply, prompt="def f():\n") == expected


def test_full_redefinition_and_bare_completion_both_pass(humaneval_rows: list[dict[str, Any]]) -> None:
    adapter = _adapter("humaneval")
    row = humaneval_rows[0]
    sample = adapter.record_to_sample(row, "openai_humaneval", 0)
    fenced = "Sure:\n```python\n" + row["prompt"] + row["canonical_solution"] + "```\n"
    for reply in (fenced, row["canonical_solution"], row["prompt"] + row["canonical_solution"]):
        assert score_with(adapter, adapter.extract_answer(reply, sample), sample, reply) == {"acc": 1.0}


def test_missing_sandbox_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalscope_native.sandbox import runner

    def unavailable(allow_weak: bool | None = None) -> str:
        raise SandboxUnavailable("bwrap not found: sudo apt-get install -y bubblewrap")

    monkeypatch.setattr(runner, "choose_isolation", unavailable)
    import evalscope_native.sandbox as sandbox_pkg

    monkeypatch.setattr(sandbox_pkg, "choose_isolation", unavailable)
    with pytest.raises(ConfigError, match="bubblewrap"):
        _adapter("humaneval")


def test_code_tests_fixture_scores() -> None:
    adapter = _adapter("code_tests")
    rows = [json.loads(x) for x in (FIXTURES / "default" / "test.jsonl").read_text().splitlines()]
    samples = [adapter.record_to_sample(r, "default", i) for i, r in enumerate(rows)]
    replies = [
        "    return a + b\n",  # bare continuation of the signature prompt
        "```python\ndef mul(a, b):\n    return a * b\n```",
        "```python\ndef root(x):\n    return math.sqrt(x) + 1\n```",  # wrong
    ]
    scores = [
        score_with(adapter, adapter.extract_answer(r, s), s, r) for r, s in zip(replies, samples, strict=True)
    ]
    assert scores == [{"acc": 1.0}, {"acc": 1.0}, {"acc": 0.0}]


def test_end_to_end_humaneval(tmp_path: Path, data_dir: Path, humaneval_rows: list[dict[str, Any]]) -> None:
    rows = humaneval_rows[:4]
    replies = [
        "```python\n" + rows[0]["prompt"] + rows[0]["canonical_solution"] + "```",
        rows[1]["canonical_solution"],
        "```python\ndef truncate_number(number: float) -> float:\n    return number\n```",  # wrong
        "    import sys\n    sys.exit(0)\n",  # the early-exit cheat: a failure
    ]
    entries = [{"contains": r["prompt"], "reply": reply} for r, reply in zip(rows, replies, strict=True)]
    with ScriptedServer({"model": "scripted", "entries": entries, "default_reply": ""}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["humaneval"],
                "limit": 4,
                "data_dir": str(data_dir),
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["humaneval"]
    assert report.num_samples == 4 and report.num_errors == 0
    assert report.score() == pytest.approx(0.5)
    run_dir = next((tmp_path / "out").iterdir())
    reviews = [
        json.loads(x)
        for x in (run_dir / "reviews" / "scripted" / "humaneval.jsonl").read_text().split("\n")
        if x
    ]
    statuses = [r["metadata"]["executions"][-1]["status"] for r in reviews]
    assert statuses[:2] == ["passed", "passed"] and "passed" not in statuses[2:]


def test_code_verdicts_are_cached_and_scored_in_parallel(
    tmp_path: Path, data_dir: Path, humaneval_rows: list[dict[str, Any]]
) -> None:
    """A second run re-scores from the verdict cache; n completions run on every core at once."""
    from evalscope_native.benchmarks.humaneval import HumanEval

    assert HumanEval.scoring_workers == (os.cpu_count() or 1)
    rows = humaneval_rows[:3]
    entries = [
        {"contains": r["prompt"], "reply": "```python\n" + r["prompt"] + r["canonical_solution"] + "```"}
        for r in rows
    ]
    config = {
        "datasets": ["humaneval"],
        "limit": 3,
        "data_dir": str(data_dir),
        "generation_config": {"n": 2},
    }
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        for run in ("first", "second"):
            reports = run_task(
                {**config, "model": "scripted", "api_url": server.base_url, "work_dir": str(tmp_path / run)}
            )
            assert reports["humaneval"].score() == 1.0
    second = next((tmp_path / "second").iterdir())
    reviews = [
        json.loads(x)
        for x in (second / "reviews" / "scripted" / "humaneval.jsonl").read_text().split("\n")
        if x
    ]
    assert all(e["cached"] for r in reviews for e in r["metadata"]["executions"])
    first = next((tmp_path / "first").iterdir())
    reviews = [
        json.loads(x)
        for x in (first / "reviews" / "scripted" / "humaneval.jsonl").read_text().split("\n")
        if x
    ]
    # the two identical completions of a task: the second may hit the cache the first just filled
    assert [len(r["metadata"]["executions"]) for r in reviews] == [2, 2, 2]
