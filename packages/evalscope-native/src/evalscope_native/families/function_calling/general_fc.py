"""general_fc: your own function-calling data in EvalScope's format (`evalscope/GeneralFunctionCall-Test`).

A record is `{"messages": [...], "tools": [...], "should_call_tool": bool}` (messages and tools may
be JSON strings). The messages are sent as they are with the OpenAI `tools` list; the model either
calls tools (finish reason `tool_calls`) or answers. Scored as EvalScope 1.14.1 scores it: a call
is *successful* when every call's arguments validate against its tool's JSON Schema; a sample
passes when it calls successfully and should, or does not call and should not. The report gives the
F1 of the call / no-call decision against `should_call_tool` (`tool_call_f1`), the share of
attempted calls that validate (`schema_accuracy`) and the two counts (metrics.py).
"""

from __future__ import annotations

import json
from typing import Any

from evalscope.benchmark import Benchmark, SampleInputError
from evalscope.contracts import ChatMessage, Sample
from evalscope.scoring import Score

from evalscope_native.families.function_calling.tool_schema import check_tools, validate_tool_calls

__all__ = ["GeneralFC", "GeneralFCScorer", "general_fc_scorer", "is_tool_call"]

_ROLES = ("system", "user", "assistant", "tool")


def is_tool_call(finish_reason: str | None) -> bool:
    """EvalScope's `stop_reason == 'tool_calls'` (OpenAI's `tool_calls` and legacy `function_call`)."""
    return finish_reason in ("tool_calls", "function_call")


class GeneralFC(Benchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        messages = record.get("messages", [])
        tools = record.get("tools", [])
        if isinstance(messages, str):
            messages = json.loads(messages)
        if isinstance(tools, str):
            tools = json.loads(tools)
        sample_id = str(record.get("id", f"{subset}/{index}"))
        problem = None
        try:
            sent = check_tools(tools)
        except ValueError as exc:
            sent, problem = None, str(exc)
        roles = sorted({str(m.get("role")) for m in messages if m.get("role") not in _ROLES})
        if problem is None and roles:
            problem = (
                f"messages with role(s) {', '.join(roles)} cannot be sent, only system, user, assistant (with "
                "its tool_calls) and tool messages; rewrite them in the record (a legacy function message "
                "as a tool message with its tool_call_id)"
            )
        user = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
        return Sample(
            id=sample_id,
            input=user[-1] if user else "",
            target="",
            subset=subset,
            metadata={
                "should_call_tool": bool(record.get("should_call_tool", False)),
                "tools": tools,
                "messages": messages,
                "sent_tools": sent,
                "input_problem": problem,
            },
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages: list[ChatMessage] = []
        if self.args.system_prompt:
            messages.append(ChatMessage(role="system", content=self.args.system_prompt))
        for m in sample.metadata["messages"]:
            if m.get("role") not in _ROLES:
                continue
            calls = m.get("tool_calls") if m["role"] == "assistant" else None
            messages.append(
                ChatMessage(
                    role=m["role"],
                    content=str(m.get("content") or ""),
                    tool_calls=tuple(calls) if calls else None,  # an earlier call, sent back as it was
                    tool_call_id=str(m["tool_call_id"])
                    if m["role"] == "tool" and "tool_call_id" in m
                    else None,
                )
            )
        return messages

    def request_tools(
        self, sample: Sample
    ) -> tuple[list[dict[str, Any]] | None, str | dict[str, Any] | None]:
        problem = sample.metadata.get("input_problem")
        if problem:
            raise SampleInputError(f"{self.name} sample {sample.id}: {problem}")
        sent = sample.metadata["sent_tools"]
        return (sent, "auto") if sent else (None, None)  # EvalScope: tool_choice auto, no tools when none


VALUES = ("tool_call_f1", "schema_accuracy", "count_finish_reason_tool_call", "count_successful_tool_call")


class GeneralFCScorer:
    """EvalScope's `match_score`: did the model call (finish reason), do its calls validate, did it
    pass (called successfully when it should, did not call when it should not). Per sample the values
    are the call decision and its success; metrics.py turns them into F1, schema accuracy and counts."""

    values = VALUES

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        calls = sample.metadata.get("tool_calls") or []
        called = is_tool_call(sample.metadata.get("finish_reason"))
        valid, reason = validate_tool_calls(calls, sample.metadata["tools"])
        successful = called and valid
        should = bool(sample.metadata.get("should_call_tool"))
        return Score(
            values={
                "tool_call_f1": float(called),
                "schema_accuracy": float(successful),
                "count_finish_reason_tool_call": float(called),
                "count_successful_tool_call": float(successful),
            },
            answer=json.dumps(calls, ensure_ascii=False) if called else extracted,
            explanation=reason or None,
            metadata={"passed": int(successful if should else not called)},
        )


def general_fc_scorer(benchmark: Any) -> GeneralFCScorer:
    """The `general_fc` scorer's factory (`ScorerSpec.impl`)."""
    return GeneralFCScorer()
