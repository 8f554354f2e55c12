"""MBPP: loaders over the real data, EvalScope 1.14.1's prompts and extraction, sandboxed scoring.

The reference `code` of every test row of both subsets must pass its own asserts in the sandbox,
except the tasks listed in KNOWN_BROKEN (docs/benchmarks/mbpp.md says why).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.testing import ScriptedServer
from evalscope_native.benchmarks.mbpp import MBPP, check_program, extract_mbpp_code
from evalscope_native.sandbox import SandboxLimits, run_many
from native_helpers import DATA_DIR, score_with

MBPP_DIR = DATA_DIR / "mbpp"
#: (subset, task_id) whose reference code fails its tests under EvalScope's program layout
KNOWN_BROKEN = {("full", "367")}
SUBSETS = {"full": 500, "sanitized": 257}


def _rows(subset: str, split: str = "test") -> list[dict[str, Any]]:
    path = MBPP_DIR / subset / f"{split}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _adapter(**args: Any) -> MBPP:
    spec = registry.benchmarks().resolve("mbpp")
    adapter: MBPP = registry.load_impl(spec)(spec, DatasetArgs(**args))
    return adapter


def _samples(subset: str) -> list[Sample]:
    adapter = _adapter()
    return [adapter.record_to_sample(r, subset, i) for i, r in enumerate(_rows(subset))]


def test_loaders_read_every_row() -> None:
    adapter = _adapter()
    for subset, count in SUBSETS.items():
        samples = _samples(subset)
        assert len(samples) == count == adapter.spec.sample_counts[subset]
        assert all(s.metadata["test_list"] and s.target for s in samples)
        for split in ("prompt", "train", "validation"):
            for i, r in enumerate(_rows(subset, split)):
                adapter.record_to_sample(r, subset, i)
    sanitized = _samples("sanitized")[0]
    assert sanitized.metadata["test_setup_code"] == "\n".join(_rows("sanitized")[0]["test_imports"])


def test_reference_code_passes_except_known_broken() -> None:
    """Reference code, laid out as EvalScope runs it (set-up code, code, asserts), in the sandbox."""
    samples = [s for subset in SUBSETS for s in _samples(subset)]
    programs = [check_program(s.metadata["test_setup_code"] + "\n" + str(s.target), s) for s in samples]
    results = run_many(programs, limits=SandboxLimits(timeout_s=20, cpu_s=20))
    failing = {(s.subset, s.id) for s, r in zip(samples, results, strict=True) if not r.passed}
    assert failing == KNOWN_BROKEN
    broken = next(r for s, r in zip(samples, results, strict=True) if (s.subset, s.id) == ("full", "367"))
    assert "NameError" in broken.detail and "Node" in broken.stderr


def test_wrong_code_fails_and_right_code_passes_through_score() -> None:
    adapter = _adapter()
    sample = _samples("full")[0]
    right = f"```python\n{sample.target}\n```"
    assert score_with(adapter, adapter.extract_answer(right, sample), sample, right) == {"acc": 1.0}
    for wrong in (
        "```python\ndef min_cost(cost, m, n):\n    return 0\n```",
        "I cannot solve this.",
        "```python\nimport sys\nsys.exit(0)\n```",
    ):
        assert score_with(adapter, adapter.extract_answer(wrong, sample), sample, wrong) == {"acc": 0.0}


def test_prompts_match_evalscope() -> None:
    sample = _samples("full")[1]
    tests = "\n".join(sample.metadata["test_list"])
    zero = _adapter(few_shot_num=0)
    head = f"You are an expert Python programmer, and here is your task: {sample.input} Your code should pass these tests:\n\n"
    assert zero.format_prompt(sample, None) == head + tests
    few = _adapter().format_prompt(sample, "\n\n")
    assert few.endswith("[DONE]\n" + head + tests + "\n[BEGIN]\n")
    assert few.startswith(
        "You are an expert Python programmer, and here is your task: Write a function to find the similar "
        "elements from the given two tuple lists. Your code should pass these tests:\n\n"
        "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)\n"
    )
    assert few.count("[BEGIN]") == 4 and few.count("[DONE]") == 3
    assert "def is_not_prime(n):\r\n    result = False\r\n" in few


@pytest.mark.parametrize(
    ("reply", "setup", "expected"),
    [
        ("def f(x):\n    return x\n[DONE]\nmore text", "", "\ndef f(x):\n    return x\n"),
        (
            "Here:\n```python\ndef f():\r\n  return 1\n```\n```python\nx = 2\n```",
            "",
            "\ndef f():\n  return 1",
        ),
        (
            "```py\ndef f():\n  return 1\nassert f() == 1\n",
            "import math",
            "import math\ndef f():\n  return 1",
        ),
        ('```\ndef f():\n  return 1\nif __name__ == "__main__":\n  f()\n```', "", "\ndef f():\n  return 1"),
        (
            "import os\n\ndef f():\n  return 1\n\ndef g():\n  return 2\n",
            "",
            "\nimport os\ndef f():\n  return 1\n",
        ),
        ("no code at all", "S", "S\n"),
    ],
)
def test_extraction_matches_evalscope(reply: str, setup: str, expected: str) -> None:
    assert extract_mbpp_code(reply, setup) == expected


def test_run_task_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSCOPE_DATA_DIR", str(DATA_DIR))
    samples = _samples("full")[:4]
    entries = []
    for i, s in enumerate(samples):
        tests = "\n".join(s.metadata["test_list"])
        code = str(s.target) if i in (0, 2) else "def nothing():\n    return None"
        entries.append(
            {
                "contains": f"task: {s.input} Your code should pass these tests:\n\n{tests}\n[BEGIN]",
                "reply": f"```python\n{code}\n```\n[DONE]",
            }
        )
    with ScriptedServer({"model": "scripted", "default_reply": "no idea", "entries": entries}) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["mbpp"],
                "limit": 4,
                "eval_batch_size": 4,
                "work_dir": str(tmp_path / "out"),
                "offline": True,
            }
        )
    assert reports["mbpp"].score() == pytest.approx(0.5)
