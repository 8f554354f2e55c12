"""bfcl_v3's multi-turn subsets end to end: the scripted server answers tool calls by rule, BFCL's
environments (the `bfcl` engine, scripts/install_engines.sh bfcl) run them, BFCL's checker grades.

Fixtures of our own making in the hub's schema (AI-ModelScope/bfcl_v3's multi-turn rows: `turns`,
`tools`, `missed_functions`, `initial_config`, `involved_classes`, `ground_truth` as JSON strings),
a GorillaFileSystem of three entries, and one single-turn row. Tests marked `engine` fail without the
engine environment, naming the install command (deselect with `-m "not engine"`); the refusal without it
is tested everywhere. Where EvalScope 1.14.1 is installed (/tmp/evalscope-baseline or
$EVALSCOPE_BASELINE_PYTHON), its own conversation loop and `match_score` run the same rows against the
same scripted server (bfcl_eval from the engine environment on its path, the SDK-only imports stubbed)
and must send the same conversations and give the same per-sample verdicts.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.errors import MissingDependencyError
from evalscope.testing import InProcessServer

BASELINE = Path(os.environ.get("EVALSCOPE_BASELINE_PYTHON", "/tmp/evalscope-baseline/bin/python"))
FS_DESC = "This tool belongs to the Gorilla file system. Tool description: "


def _fs_tool(name: str, doc: str, **params: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": FS_DESC + doc,
        "parameters": {
            "type": "dict",
            "properties": {p: {"type": t, "description": p} for p, t in params.items()},
            "required": list(params),
        },
    }


CD = _fs_tool("cd", "Change the current working directory.", folder="string")
MKDIR = _fs_tool("mkdir", "Create a new directory.", dir_name="string")
MV = _fs_tool("mv", "Move a file or directory.", source="string", destination="string")
LS = {
    **_fs_tool("ls", "List the current directory."),
    "parameters": {"type": "dict", "properties": {}, "required": []},
}
CONFIG = {"GorillaFileSystem": {"root": {"alex": {"type": "directory", "contents": {"docs": {
    "type": "directory", "contents": {"a.txt": {"type": "file", "content": "hello"},
                                      "backup": {"type": "directory", "contents": {}}}}}}}}}  # fmt: skip


def _openai(fn: dict[str, Any]) -> dict[str, Any]:
    params = json.loads(json.dumps(fn["parameters"]).replace('"dict"', '"object"'))
    return {"type": "function", "function": {**fn, "parameters": params}}


SYSTEM = {"role": "system", "content": "You are an expert in composing functions."}
MAKE = "Go to docs and make a folder 'reports'."
MOVE = "Now move a.txt into reports."
MAKE_WRONG = "Go to docs and make a folder 'reports', please."  # the scripted model gets this one wrong
MOVE_HELD = "Move a.txt in docs into backup."
LOOK = "Go to docs and list what is there."  # the model goes there but never lists: a result is missing
VAGUE = "Make a folder for me."  # miss_param: the name is missing, the model asks
NAMED = "Call it 'reports', inside docs."
FACT = "What is 5 factorial?"  # a single-turn row next to the multi-turn ones
ADDED = "I have updated some more functions you can choose from. What about now?"
GT_MAKE = ["cd(folder='docs')", "mkdir(dir_name='reports')"]
GT_MOVE = ["mv(source='a.txt',destination='reports')"]

# (id, user turns, functions offered, held-out functions by turn, ground truth per turn); expected acc
ROWS: list[tuple[str, list[list[str]], list[dict[str, Any]], dict[str, Any], list[list[str]], float]] = [
    ("multi_turn_base_0", [[MAKE], [MOVE]], [CD, MKDIR, MV, LS], {}, [GT_MAKE, GT_MOVE], 1.0),
    ("multi_turn_base_1", [[MAKE_WRONG], [MOVE]], [CD, MKDIR, MV, LS], {}, [GT_MAKE, GT_MOVE], 0.0),
    ("multi_turn_base_2", [[LOOK]], [CD, MKDIR, MV, LS], {}, [["cd(folder='docs')", "ls()"]], 0.0),
    ("multi_turn_miss_param_0", [[VAGUE], [NAMED]], [CD, MKDIR, MV, LS], {}, [[], GT_MAKE], 1.0),
    # miss_func: `mv` is held out; the model cannot do turn 0, turn 1 adds it with no user message
    ("multi_turn_miss_func_0", [[MOVE_HELD], []], [CD, LS], {"1": [[MV]]},
     [[], ["cd(folder='docs')", "mv(source='a.txt',destination='backup')"]], 1.0),
    ("multi_turn_long_context_0", [[MAKE], [MOVE]], [CD, MKDIR, MV, LS], {}, [GT_MAKE, GT_MOVE], 1.0),
]  # fmt: skip

# the scripted model: the user's words → the calls it makes (then, given the results, it answers in text)
CALLS: dict[str, list[dict[str, Any]]] = {
    MAKE: [{"name": "cd", "arguments": {"folder": "docs"}}, {"name": "mkdir", "arguments": {"dir_name": "reports"}}],
    MOVE: [{"name": "mv", "arguments": {"source": "a.txt", "destination": "reports"}}],
    MAKE_WRONG: [{"name": "cd", "arguments": {"folder": "docs"}}, {"name": "mkdir", "arguments": {"dir_name": "rep"}}],
    FACT: [{"name": "math_factorial", "arguments": {"number": 5}}],
    LOOK: [{"name": "cd", "arguments": {"folder": "docs"}}],
    NAMED: [{"name": "cd", "arguments": {"folder": "docs"}}, {"name": "mkdir", "arguments": {"dir_name": "reports"}}],
    ADDED: [{"name": "cd", "arguments": {"folder": "docs"}},
            {"name": "mv", "arguments": {"source": "a.txt", "destination": "backup"}}],
}  # fmt: skip


SUBSETS = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")


def _write(root: Path) -> None:
    folder = root / "bfcl_v3"
    folder.mkdir(parents=True)
    rows = []
    for entry_id, turns, functions, missed, truth, _ in ROWS:
        subset = entry_id.rsplit("_", 1)[0]
        rows.append({
            "id": entry_id, "subset": subset, "test_category": subset, "language": "Python", "multi_turn": True,
            "functions": json.dumps(functions), "tools": json.dumps([_openai(f) for f in functions]),
            "turns": json.dumps([[SYSTEM, *({"role": "user", "content": t} for t in turn)] if turn else []
                                 for turn in turns]),
            "missed_functions": json.dumps(missed), "initial_config": json.dumps(CONFIG),
            "involved_classes": ["GorillaFileSystem"], "ground_truth": json.dumps(truth),
        })  # fmt: skip
    factorial = {
        "name": "math.factorial",
        "description": "n!",
        "parameters": {
            "type": "dict",
            "properties": {"number": {"type": "integer", "description": "n"}},
            "required": ["number"],
        },
    }
    rows.append({
        "id": "simple_0", "subset": "simple", "test_category": "simple", "language": "Python", "multi_turn": False,
        "functions": json.dumps([factorial]),
        "tools": json.dumps([_openai({**factorial, "name": "math_factorial"})]),
        "turns": json.dumps([[SYSTEM, {"role": "user", "content": FACT}]]), "missed_functions": "{}",
        "initial_config": "{}", "involved_classes": [], "ground_truth": json.dumps([{"math.factorial": {"number": [5]}}]),
    })  # fmt: skip
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _require_engine() -> Path:
    """The engine's site-packages; a test marked `engine` fails (never skips) without it, naming the fix."""
    from evalscope_native.families.function_calling.bfcl_env import find_bfcl

    try:
        return find_bfcl().package_dir.parent
    except MissingDependencyError as exc:
        pytest.fail(f"the bfcl engine environment is missing: run scripts/install_engines.sh bfcl ({exc})")


def _chat(bodies: list[dict[str, Any]]) -> Any:
    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str | dict[str, Any]:
        bodies.append(body)
        last = messages[-1]
        if last["role"] == "tool":
            return "Done."
        calls = CALLS.get(str(last["content"]))
        return {"tool_calls": calls} if calls else "I cannot do that with these tools."

    return chat


def _chat_prompting(bodies: list[dict[str, Any]]) -> Any:
    """The same model without the tools API: it writes its calls as Python (`[cd(folder='docs')]`)."""

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        bodies.append(body)
        text = str(messages[-1]["content"])
        if text.startswith("[{'role': 'tool'"):  # the results of its calls, as BFCL's prompt mode feeds them
            return "Done."
        calls = CALLS.get(ADDED if text.endswith(ADDED) else text)
        if not calls:
            return "I cannot do that with these tools."
        return "[" + ", ".join(f"{c['name']}(" + ", ".join(f"{k}={v!r}" for k, v in c["arguments"].items()) + ")"
                               for c in calls) + "]"  # fmt: skip

    return chat


def _run(tmp_path: Path, chat: Any, use_cache: Path | None = None, **args: Any) -> Any:
    with InProcessServer({"model": "bfcl"}, chat=chat) as server:
        return run_task(
            {
                "model": "bfcl",
                "api_url": server.base_url,
                "datasets": ["bfcl_v3"],
                "data_dir": str(tmp_path / "data"),
                "work_dir": str(tmp_path / "out"),
                "dataset_args": {"bfcl_v3": args},
                **({"use_cache": str(use_cache)} if use_cache else {}),
            }
        )["bfcl_v3"]


@pytest.mark.engine
def test_bfcl_v3_multi_turn_end_to_end(tmp_path: Path) -> None:
    _require_engine()
    _write(tmp_path / "data")
    bodies: list[dict[str, Any]] = []
    report = _run(tmp_path, _chat(bodies), subset_list=[*SUBSETS, "simple"])  # one single-turn row beside

    by_subset = {s.name: (s.score, s.num) for c in report.metrics[0].categories for s in c.subsets}
    assert by_subset == {"multi_turn_base": (pytest.approx(1 / 3), 3), "multi_turn_miss_func": (1.0, 1),
                         "multi_turn_miss_param": (1.0, 1), "multi_turn_long_context": (1.0, 1),
                         "simple": (1.0, 1)}  # fmt: skip
    assert {c.name for c in report.metrics[0].categories} == {"MULTI_TURN", "AST_NON_LIVE"}
    # EvalScope's summary: multi_turn = mean(base, weighted mean of the augmented subsets)
    assert report.extra["bfcl"]["multi_turn"] == {"score": pytest.approx((1 / 3 + 1.0) / 2), "num": 6}

    review_file = next((tmp_path / "out").rglob("reviews/*/bfcl_v3.jsonl"))
    reviews = [json.loads(line) for line in review_file.open()]
    by_id = {r["id"]: r for r in reviews}
    assert {i: r["scores"]["acc"] for i, r in by_id.items()} == {
        **{row[0]: row[-1] for row in ROWS},
        "simple_0": 1.0,
    }
    wrong = by_id["multi_turn_base_1"]
    assert wrong["metadata"]["error_type"] == "multi_turn:instance_state_mismatch"
    assert "does not match the state" in wrong["explanation"]
    assert by_id["multi_turn_base_2"]["metadata"]["error_type"] == "multi_turn:execution_response_mismatch"
    # per-turn records: the calls made, the environment's results, in order
    turns = [json.loads(t) for t in by_id["multi_turn_base_0"]["metadata"]["answers"]]
    assert [t["turn"] for t in turns] == [0, 1]
    first = turns[0]["steps"]
    assert first[0]["calls"] == ["cd(folder='docs')", "mkdir(dir_name='reports')"]
    assert first[0]["results"] == ['{"current_working_directory": "docs"}', "None"]
    assert first[1]["response"] == ["Done."] and "calls" not in first[1]
    assert turns[1]["steps"][0]["calls"] == ["mv(source='a.txt',destination='reports')"]
    assert json.loads(by_id["multi_turn_base_0"]["prediction"]) == [
        [{"cd": {"folder": "docs"}}, {"mkdir": {"dir_name": "reports"}}, "Done."],
        [{"mv": {"source": "a.txt", "destination": "reports"}}, "Done."],
    ]

    # the conversation sent: tool results as `tool` messages after the assistant's calls, system dropped
    step2 = next(
        b for b in bodies if b["messages"][-1]["role"] == "tool" and b["messages"][0]["content"] == MAKE
    )
    roles = [m["role"] for m in step2["messages"]]
    assert roles == ["user", "assistant", "tool", "tool"]
    assert step2["messages"][1]["tool_calls"][0]["function"]["name"] == "cd"
    assert step2["messages"][2] == {"role": "tool", "content": json.dumps({"response": '{"current_working_directory": "docs"}'}),
                                    "tool_call_id": "call_0"}  # fmt: skip
    # miss_func: `mv` is offered only from the turn that adds it, with BFCL's prompt
    held = [b for b in bodies if b["messages"][0]["content"] == MOVE_HELD]
    assert [t["function"]["name"] for t in held[0]["tools"]] == ["cd", "ls"]
    added = next(b for b in held if b["messages"][-1]["content"] == ADDED)
    assert [t["function"]["name"] for t in added["tools"]] == ["cd", "ls", "mv"]
    assert added["tools"][2]["function"]["parameters"]["type"] == "object"

    # resumed: every step is read back from the prediction cache, the environments replay the calls
    again: list[dict[str, Any]] = []
    resumed = _run(tmp_path, _chat(again), use_cache=review_file.parents[2], subset_list=[*SUBSETS, "simple"])
    assert again == []
    assert {s.name: s.score for c in resumed.metrics[0].categories for s in c.subsets} == {
        name: score for name, (score, _) in by_subset.items()
    }


@pytest.mark.engine
def test_bfcl_v3_multi_turn_prompt_mode(tmp_path: Path) -> None:
    _require_engine()
    _write(tmp_path / "data")
    bodies: list[dict[str, Any]] = []
    report = _run(
        tmp_path, _chat_prompting(bodies), subset_list=list(SUBSETS), extra_params={"is_fc_model": False}
    )
    reviews = [json.loads(line) for line in next((tmp_path / "out").rglob("reviews/*/bfcl_v3.jsonl")).open()]
    assert {r["id"]: r["scores"]["acc"] for r in reviews} == {row[0]: row[-1] for row in ROWS}
    assert report.extra["bfcl"]["multi_turn"]["num"] == len(ROWS)
    assert all("tools" not in b and b["messages"][0] == SYSTEM for b in bodies)  # the system prompt is kept
    fed = next(b for b in bodies if b["messages"][-1]["content"].startswith("[{'role': 'tool'"))
    assert fed["messages"][-1]["role"] == "user" and fed["messages"][-2]["role"] == "assistant"
    held = next(b for b in bodies if b["messages"][-1]["content"].endswith(ADDED))
    assert held["messages"][-1]["content"].startswith("[[{'name': 'mv'")  # the held-out docs, listed


def test_bfcl_v3_multi_turn_needs_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "data")
    monkeypatch.setenv("EVALSCOPE_BFCL_PYTHON", str(tmp_path / "no-such-venv" / "bin" / "python"))
    with pytest.raises(
        MissingDependencyError, match="multi_turn_base run BFCL's executable environments"
    ) as info:
        _run(tmp_path, lambda m, b: "", subset_list=["simple", "multi_turn_base"])
    assert "scripts/install_engines.sh bfcl" in str(info.value)
    assert not (tmp_path / "out").exists()  # refused before the run


def test_bfcl_v3_default_subsets_without_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Not named, the multi-turn subsets are left out with a warning; the single-turn ones still run."""
    _write(tmp_path / "data")
    monkeypatch.setenv("EVALSCOPE_BFCL_PYTHON", str(tmp_path / "no-such-venv" / "bin" / "python"))
    bodies: list[dict[str, Any]] = []
    with caplog.at_level("WARNING", logger="evalscope.native"):
        report = _run(tmp_path, _chat(bodies))
    assert {s.name: s.score for c in report.metrics[0].categories for s in c.subsets} == {"simple": 1.0}
    assert "multi-turn subsets left out" in caplog.text and "install_engines.sh bfcl" in caplog.text
    assert len(bodies) == 1


# --- EvalScope 1.14.1's own loop and scoring --------------------------------------------------------

_EVALSCOPE_SCRIPT = textwrap.dedent(
    """
    import json, sys, types
    sys.path.insert(0, sys.argv[1])  # the bfcl engine's site-packages: bfcl_eval + mpmath
    class _Cfg:
        underscore_to_dot = True
    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = {"gpt-4o-2024-11-20-FC": _Cfg()}
    sys.modules[stub.__name__] = stub
    for m, fn in (("java_parser", "parse_java_function_call"), ("js_parser", "parse_javascript_function_call")):
        mod = types.ModuleType("bfcl_eval.model_handler.parser." + m); setattr(mod, fn, None)
        sys.modules[mod.__name__] = mod
    ten = types.ModuleType("tenacity"); ten.__getattr__ = lambda name: (lambda *a, **k: None)
    sys.modules["tenacity"] = ten
    from evalscope.api.model import get_model
    from evalscope.benchmarks.bfcl.v3.bfcl_v3_adapter import BFCLV3Adapter
    from evalscope.benchmarks.bfcl.v3.generation import predict

    job = json.load(sys.stdin)
    model = get_model(model="bfcl", eval_type="openai_api", base_url=job["base_url"], api_key="EMPTY", memoize=False)
    fake = types.SimpleNamespace(is_fc_model=job["fc"], underscore_to_dot=True)
    fake.preprocess_row = lambda row: BFCLV3Adapter.preprocess_row(fake, row)
    out = {}
    for row in job["rows"]:
        sample = BFCLV3Adapter.record_to_sample(fake, dict(row))
        result = predict(model, sample)
        state = types.SimpleNamespace(metadata=sample.metadata, sample_id=row["id"])
        text = result.output.completion
        score = BFCLV3Adapter.match_score(fake, text, text, sample.target, state)
        out[row["id"]] = {"acc": score.value["acc"], "explanation": score.explanation,
                          "generation": sample.metadata["generation"]}
    print(json.dumps(out))
    """
)


@pytest.mark.engine
@pytest.mark.skipif(not BASELINE.exists(), reason="EvalScope 1.14.1 is not installed")
@pytest.mark.parametrize("fc", [True, False], ids=["tools_api", "prompt_mode"])
def test_multi_turn_equals_evalscope(tmp_path: Path, fc: bool) -> None:
    site = _require_engine()
    _write(tmp_path / "data")
    rows = [json.loads(line) for line in (tmp_path / "data" / "bfcl_v3" / "train.jsonl").open()]
    rows = [r for r in rows if r["multi_turn"]]
    theirs: list[dict[str, Any]] = []
    chat = _chat if fc else _chat_prompting
    with InProcessServer({"model": "bfcl"}, chat=chat(theirs)) as server:
        proc = subprocess.run(
            [str(BASELINE), "-c", _EVALSCOPE_SCRIPT, str(site)],
            input=json.dumps({"base_url": server.base_url, "rows": rows, "fc": fc}),
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
            check=False,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    evalscope = json.loads(proc.stdout.strip().splitlines()[-1])

    ours: list[dict[str, Any]] = []
    _run(tmp_path, chat(ours), subset_list=list(SUBSETS), extra_params={"is_fc_model": fc})
    reviews = [json.loads(line) for line in next((tmp_path / "out").rglob("reviews/*/bfcl_v3.jsonl")).open()]
    assert len(reviews) == len(evalscope) == len(ROWS)
    for r in reviews:
        want = evalscope[r["id"]]
        assert r["scores"]["acc"] == want["acc"], r["id"]
        assert (r["explanation"] or "") == want["explanation"], r["id"]
        assert json.loads(r["prediction"]) == want["generation"], r["id"]
    # the same conversations, message for message (identical requests are answered from our cache)
    assert {json.dumps(b["messages"], sort_keys=True) for b in ours} == {
        json.dumps(b["messages"], sort_keys=True) for b in theirs
    }
    assert all(b.get("tool_choice") == ("auto" if fc else None) for b in ours + theirs)
