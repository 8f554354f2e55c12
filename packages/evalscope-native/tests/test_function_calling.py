"""Function-calling benchmarks (general_fc, tool_bench) end to end against the scripted server.

The data are fixtures of our own making in the hub datasets' schemas (evalscope/GeneralFunctionCall-Test,
AI-ModelScope/ToolBench-Static), written under tmp_path and read through `data_dir` like every other
benchmark. The scripted server's chat responder answers with `tool_calls` (plain and streamed). Where
EvalScope 1.14.1 is installed (/tmp/evalscope-baseline, or $EVALSCOPE_BASELINE_PYTHON), its own code
scores the same replies and the per-sample values must be equal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import InProcessServer
from evalscope_native.families.function_calling.general_fc import GeneralFCScorer
from evalscope_native.families.function_calling.tool_bench import calculate_metrics

BASELINE = Path(os.environ.get("EVALSCOPE_BASELINE_PYTHON", "/tmp/evalscope-baseline/bin/python"))

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
            "required": ["city"],
        },
    },
}
BROKEN = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "objekt"}}}

# (user text with the reply the responder gives, should_call_tool, tools); the reply directive is
# `#call:<name>:<raw arguments>` or `#text`.
FC_CASES: list[tuple[str, bool, list[dict[str, Any]]]] = [
    ('Weather in Paris? #call:get_weather:{"city": "Paris"}', True, [WEATHER]),  # TP, valid
    ('Weather in Rome? #call:get_weather:{"unit": "C"}', True, [WEATHER]),  # TP, misses a required key
    ("Weather in Oslo? #text", True, [WEATHER]),  # FN
    ("Tell me a joke. #text", False, [WEATHER]),  # TN
    ('Just chat. #call:get_weather:{"city": "Lima"}', False, [WEATHER]),  # FP, valid
    ('Weather in Bern? #call:get_wether:{"city": "Bern"}', True, [WEATHER]),  # TP, unknown tool
    ("What time is it? #text", True, [BROKEN]),  # not sent: the schema is invalid (FN)
    ("Weather in Kyiv? #call:get_weather:Kyiv", True, [WEATHER]),  # TP, YAML onto the first parameter
]
# tool_call_f1: TP 4, FP 1, FN 2 -> P 0.8, R 2/3; schema_accuracy 3 valid / 5 attempted
FC_F1 = 2 * 0.8 * (4 / 6) / (0.8 + 4 / 6)

TB_TOOLS = [
    {"name": "search_hotels", "description": "Find hotels"},
    {"name": "book", "description": "Book"},
    {"name": "Finish", "description": "Answer or give up"},
]  # ToolBench lists Finish as a tool
# (subset, target, reply)
TB_CASES = [
    ("in_domain", 'Action: search_hotels\nAction Input: {"city": "Paris", "stars": 4}',
     'Thought: look.\nAction: search_hotels\nAction Input: {"city": "Paris", "stars": 5}'),
    ("in_domain", 'Action: book\nAction Input: {"id": 7}', "Action: book\nAction Input: {\"id\": 7}"),
    ("in_domain", 'Action: Finish\nAction Input: {"return_type": "give_answer", "final_answer": "Hotel Lutetia is free"}',
     'Action: Finish\nAction Input: {"return_type": "give_answer", "final_answer": "the Hotel Lutetia is free"}'),
    ("out_of_domain", 'Action: book\nAction Input: {"id": 3}', 'Action: teleport\nAction Input: {"to": "Mars"}'),
    ("out_of_domain", 'Action: search_hotels\nAction Input: {}', "I would rather not."),
]  # fmt: skip


def _fc_responder(calls: list[dict[str, Any]]) -> Any:
    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str | dict[str, Any]:
        calls.append(body)
        text = str(messages[-1]["content"])
        found = re.search(r"#call:(\w+):(.*)$", text)
        if found is None:
            return "No tool needed."
        return {"content": "", "tool_calls": [{"name": found[1], "arguments": found[2]}]}

    return chat


def _write_fc_data(root: Path) -> None:
    folder = root / "general_fc"
    folder.mkdir(parents=True)
    rows = [
        {"messages": [{"role": "system", "content": "You may use tools."}, {"role": "user", "content": text}],
         "tools": json.dumps(tools) if i % 2 else tools,  # EvalScope's data may hold JSON strings
         "should_call_tool": should}
        for i, (text, should, tools) in enumerate(FC_CASES)
    ]  # fmt: skip
    # a conversation with an earlier call and its tool result is sent as it is (the model answers: a TN)
    rows.append({"messages": [{"role": "user", "content": "Weather?"},
                              {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                               "function": {"name": "get_weather", "arguments": "{}"}}]},
                              {"role": "tool", "tool_call_id": "c", "content": "sunny"}],
                 "tools": [WEATHER], "should_call_tool": False})  # fmt: skip
    # a legacy `function` message cannot be sent: that sample fails, the others run (a TN in EvalScope's
    # confusion matrix either way, so the figures do not move)
    rows.append({"messages": [{"role": "user", "content": "Weather?"},
                              {"role": "function", "name": "get_weather", "content": "sunny"}],
                 "tools": [WEATHER], "should_call_tool": False})  # fmt: skip
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_general_fc_end_to_end(tmp_path: Path, stream: bool) -> None:
    _write_fc_data(tmp_path / "data")
    bodies: list[dict[str, Any]] = []
    with InProcessServer({"model": "fc"}, chat=_fc_responder(bodies)) as server:
        reports = run_task(
            {
                "model": "fc",
                "api_url": server.base_url,
                "datasets": ["general_fc"],
                "data_dir": str(tmp_path / "data"),
                "work_dir": str(tmp_path / "out"),
                "stream": stream,
            }
        )
    report = reports["general_fc"]
    figures = {m.name: m.score for m in report.metrics}
    assert figures == pytest.approx(
        {
            "mean_tool_call_f1": FC_F1,
            "mean_schema_accuracy": 0.6,
            "mean_count_finish_reason_tool_call": 5.0,
            "mean_count_successful_tool_call": 3.0,
        }
    )
    # the broken schema was never sent; it is a counted failure naming the sample and the fix
    assert len(bodies) == 8 and report.num_errors == 2
    schema_error, role_error = report.errors
    assert schema_error.id == "default/6" and "get_time" in schema_error.error
    assert "valid JSON Schema" in schema_error.error and "fix the tool's schema" in schema_error.error
    assert role_error.id == "default/9" and "role(s) function" in role_error.error
    # the earlier call and its result travel as OpenAI messages (assistant tool_calls, tool + tool_call_id)
    (with_result,) = [b for b in bodies if b["messages"][-1]["role"] == "tool"]
    assert with_result["messages"][1:] == [
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c", "type": "function",
                                                             "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "content": "sunny", "tool_call_id": "c"},
    ]  # fmt: skip
    # sent as EvalScope sends tools: an object schema with additionalProperties false, tool_choice auto
    sent = {
        **WEATHER["function"],
        "parameters": {**WEATHER["function"]["parameters"], "additionalProperties": False},
    }
    assert all(
        b["tools"] == [{"type": "function", "function": sent}] and b["tool_choice"] == "auto" for b in bodies
    )
    assert bodies[0]["messages"][0] == {"role": "system", "content": "You may use tools."}
    reviews = (tmp_path / "out").glob("*/reviews/fc/general_fc.jsonl")
    records = [json.loads(line) for line in next(reviews).read_text().splitlines()]
    assert (
        records[1]["explanation"]
        == "Schema validation failed for tool 'get_weather': 'city' is a required property"
    )
    assert records[5]["explanation"] == "No schema found for tool 'get_wether'"
    assert records[0]["metadata"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }


def test_tool_bench_end_to_end(tmp_path: Path) -> None:
    for subset in ("in_domain", "out_of_domain"):
        rows = [
            {"id": f"{subset}-{i}",
             "messages": [{"role": "system", "content": "Tools: search_hotels, book."},
                          {"role": "user", "content": f"case {i}"},
                          {"role": "function", "name": "search_hotels", "content": '{"hotels": []}'}],
             "target": target, "tools": TB_TOOLS}
            for i, (sub, target, _) in enumerate(TB_CASES) if sub == subset
        ]  # fmt: skip
        folder = tmp_path / "data" / "tool_bench" / subset
        folder.mkdir(parents=True)
        (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    seen: list[list[dict[str, Any]]] = []

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages)
        case = int(str(messages[1]["content"]).split()[-1])
        return TB_CASES[case][2]

    with InProcessServer({"model": "tb"}, chat=chat) as server:
        reports = run_task(
            {
                "model": "tb",
                "api_url": server.base_url,
                "datasets": ["tool_bench"],
                "data_dir": str(tmp_path / "data"),
                "work_dir": str(tmp_path / "out"),
            }
        )
    report = reports["tool_bench"]
    # the function result reaches the model as a user message holding its JSON (name dropped), as EvalScope sends it
    assert seen[0][2] == {"role": "user", "content": '{"role": "function", "content": "{\\"hotels\\": []}"}'}
    per_sample = [
        calculate_metrics({"target": t, "predictions": r, "tools": TB_TOOLS}) for _, t, r in TB_CASES
    ]
    assert per_sample[0]["F1"] == pytest.approx(0.75) and per_sample[1]["F1"] == 1.0
    assert per_sample[3] == {
        "Act.EM": 0.0,
        "F1": 0.0,
        "HalluRate": 1.0,
        "plan_em": 1.0,
        "Easy_F1": 0.0,
        "Hard_F1": 0.0,
    }
    assert "Rouge-L" in per_sample[2] and "F1" not in per_sample[2]
    figures = {m.name: m for m in report.metrics}
    for value in ("F1", "Act.EM", "Rouge-L", "HalluRate", "plan_em"):
        applies = [s[value] for s in per_sample if value in s]
        assert figures[f"mean_{value}"].score == pytest.approx(sum(applies) / len(applies)), value
    subsets = {s.name: s.score for c in figures["mean_F1"].categories for s in c.subsets}
    assert subsets == pytest.approx({"in_domain": (0.75 + 1.0) / 2, "out_of_domain": 0.0})


# --- fidelity with EvalScope 1.14.1's own code ------------------------------------------------------

_BASELINE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from evalscope.api.benchmark.adapters.function_call_adapter import FunctionCallAdapter
    from evalscope.api.tool import ToolInfo
    from evalscope.api.tool.utils import parse_tool_call
    from evalscope.benchmarks.tool_bench.utils import calculate_metrics
    job = json.load(sys.stdin)
    fc = []
    for case in job["fc"]:
        infos = [ToolInfo.model_validate(t["function"]) for t in case["tools"]]
        calls = [parse_tool_call(c["id"], c["function"]["name"], c["function"]["arguments"], infos)
                 for c in case["calls"]]
        ok, reason = FunctionCallAdapter.validate_tool_call(calls, case["tools"])
        fc.append([ok, reason])
    tb = [calculate_metrics(d) for d in job["tb"]]
    print(json.dumps({"fc": fc, "tb": tb}))
    """
)


@pytest.mark.skipif(not BASELINE.exists(), reason="EvalScope 1.14.1 is not installed at " + str(BASELINE))
def test_per_sample_values_equal_evalscope_1_14_1() -> None:
    def call(name: str, args: str) -> dict[str, Any]:
        return {"id": "c0", "type": "function", "function": {"name": name, "arguments": args}}

    multi = {"type": "function", "function": {"name": "pair", "description": "A pair", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "string"}}},
        "required": ["a"], "additionalProperties": False}}}  # fmt: skip
    fc = [
        ([WEATHER], [call("get_weather", '{"city": "Paris"}')]),
        ([WEATHER], [call("get_weather", '{"unit": "C"}')]),
        ([WEATHER], [call("get_weather", '{"city": "Rome", "unit": "K"}')]),
        ([WEATHER], [call("get_wether", '{"city": "Bern"}')]),
        ([WEATHER], [call("get_weather", "Kyiv")]),
        ([WEATHER], [call("get_weather", '{"city": ')]),  # malformed JSON: {} -> a required key is missing
        ([WEATHER], [call("get_weather", "")]),
        ([multi], [call("pair", '{"a": 1, "b": ["x"]}')]),
        ([multi], [call("pair", '{"a": "1"}')]),
        ([multi], [call("pair", '{"a": 1, "c": 2}')]),
        ([multi], [call("pair", "3")]),
        ([multi, WEATHER], [call("pair", '{"a": 2}'), call("get_weather", "{}")]),
        ([WEATHER], []),
    ]
    tb = [{"target": t, "predictions": r, "tools": TB_TOOLS} for _, t, r in TB_CASES] + [
        {"target": 'Action: book\nAction Input: {"id": 1, "when": "now"}', "predictions": 'Action: book\nAction Input: {"id": 1}', "tools": TB_TOOLS},
        {"target": 'Action: book\nAction Input: {"id": 1}', "predictions": "Action: book\nAction Input: not json", "tools": TB_TOOLS},
        {"target": 'Action: Finish\nAction Input: {"return_type": "give_up_and_restart"}', "predictions": "Action: Finish\nAction Input: {}", "tools": TB_TOOLS},
        {"target": 'Action: invalid_hallucination_function_name\nAction Input: {}', "predictions": "Action: book", "tools": TB_TOOLS},
        {"target": 'Action: Finish\nAction Input: {"return_type": "give_answer", "final_answer": "a b c d"}', "predictions": 'Action: Finish\nAction Input: {"return_type": "give_answer", "final_answer": "c a b"}', "tools": TB_TOOLS},
    ]  # fmt: skip
    job = {"fc": [{"tools": tools, "calls": calls} for tools, calls in fc], "tb": tb}
    done = subprocess.run(
        [str(BASELINE), "-c", _BASELINE_SCRIPT], input=json.dumps(job), capture_output=True, text=True,
        timeout=120, cwd="/", check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    scorer = GeneralFCScorer()
    from evalscope.contracts import Sample

    for (tools, calls), (ok, reason) in zip(fc, theirs["fc"], strict=True):
        sample = Sample(id="x", input="", target="", metadata={"tools": tools, "tool_calls": calls,
                                                                "finish_reason": "tool_calls", "should_call_tool": True})  # fmt: skip
        score = scorer(sample, "", "")
        assert (score.values["schema_accuracy"] == 1.0, score.explanation or "") == (ok, reason), calls
    ours = [calculate_metrics(d) for d in tb]
    assert ours == [pytest.approx({k: float(v) for k, v in t.items()}) for t in theirs["tb"]]


def test_tool_calls_are_cached_and_reused(tmp_path: Path) -> None:
    """A resumed run reads the calls back from the prediction cache: no request, the same figures."""
    _write_fc_data(tmp_path / "data")
    bodies: list[dict[str, Any]] = []
    config = {"model": "fc", "datasets": ["general_fc"], "data_dir": str(tmp_path / "data")}
    with InProcessServer({"model": "fc"}, chat=_fc_responder(bodies)) as server:
        first = run_task({**config, "api_url": server.base_url, "work_dir": str(tmp_path / "out")})[
            "general_fc"
        ]
        (run_dir,) = (tmp_path / "out").iterdir()
        again = run_task({**config, "api_url": server.base_url, "use_cache": str(run_dir)})["general_fc"]
    assert len(bodies) == 8  # the second run sent nothing
    assert [m.score for m in again.metrics] == [m.score for m in first.metrics]


def test_cache_keys_of_requests_without_tools_are_unchanged() -> None:
    """The tools fields are added to the key only when set: every earlier run's cache stays valid."""
    import hashlib

    from evalscope.config import GenerationConfig
    from evalscope.contracts import ChatMessage, GenerateRequest
    from evalscope_native.engine.cache import cache_key

    request = GenerateRequest(messages=[ChatMessage(role="user", content="hi")], config=GenerationConfig())
    old = json.dumps(
        {"model": {"m": 1}, "messages": [{"role": "user", "content": "hi"}],
         "generation": GenerationConfig().model_dump(exclude_none=True)},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    assert cache_key({"m": 1}, request) == hashlib.sha256(old.encode()).hexdigest()
    with_tools = request.model_copy(update={"tools": [WEATHER]})
    assert cache_key({"m": 1}, with_tools) != cache_key({"m": 1}, request)


def test_function_calling_benchmarks_are_refused_as_collection_members() -> None:
    from evalscope.errors import ConfigError
    from evalscope_native.collections.members import member_adapter

    with pytest.raises(ConfigError, match="sends tools with its requests"):
        member_adapter("general_fc", {})
