"""BFCL v3's multi-turn subsets: EvalScope 1.14.1's conversation loop and scoring.

EvalScope's `bfcl/v3/generation.py` and the multi-turn branch of its `match_score`, step for step:
for each user turn the model is asked, its calls are executed in BFCL's environments (the `bfcl`
engine, `bfcl_env.py`) and the results fed back (a `tool` message `{"response": result}` per call
with the tools API; a user message holding the `repr` of the results in prompt mode), until it answers
without a call or BFCL's step limit (20 steps after the first) is passed. A `miss_func` turn with no
user message adds the held-out functions then (to the tools, or listed in the message in prompt mode)
with BFCL's "I have updated some more functions" prompt. The sample's answer is every turn's responses
(`[{name: arguments}]` or text, per step), as EvalScope keeps them; BFCL's `multi_turn_checker`
then replays them and the ground truth on fresh instances and compares state and results per turn.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from evalscope.contracts import ChatMessage, GenerateRequest, ModelError, ModelOutput
from evalscope.scoring import Score

from evalscope_native.families.function_calling.bfcl_ast import decode_ast_prompting
from evalscope_native.families.function_calling.tool_schema import check_tools, parse_arguments

if TYPE_CHECKING:
    from evalscope.benchmark import AgentSession

    from evalscope_native.families.function_calling.bfcl_env import BFCLEnvironments

__all__ = [
    "MULTI_TURN_SUBSETS",
    "convert_to_function_call",
    "decode_execute_prompting",
    "run_conversation",
    "score",
]

log = logging.getLogger("evalscope.native")

MULTI_TURN_SUBSETS = (
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
)
# bfcl_eval.constants.default_prompts (2025.10.27.1)
MAXIMUM_STEP_LIMIT = 20
ADDED_FUNCTIONS_FC = "I have updated some more functions you can choose from. What about now?"
ADDED_FUNCTIONS_PROMPTING = "{functions}\n" + ADDED_FUNCTIONS_FC
# EvalScope grades with a stand-in model name (BFCL names the checker's instances after it)
CHECKER_MODEL = {True: "gpt-4o-2024-11-20-FC", False: "meta-llama/Llama-3.3-70B-Instruct-FC"}


def convert_to_function_call(function_call_list: Any) -> list[str]:
    """BFCL's `model_handler.utils.convert_to_function_call`, as written (that module needs tree-sitter)."""
    if type(function_call_list) == dict:  # noqa: E721 - BFCL's own test
        function_call_list = [function_call_list]
    execution_list = []
    for function_call in function_call_list:
        for key, value in function_call.items():
            if type(value) == str:  # noqa: E721
                value = json.loads(value)
            execution_list.append(f"{key}({','.join([f'{k}={repr(v)}' for k, v in value.items()])})")
    return execution_list


def _parse_nested_value(value: Any) -> str:
    """BFCL's `parse_nested_value`."""
    if isinstance(value, dict):
        if all(isinstance(v, dict) for v in value.values()):
            func_name = list(value.keys())[0]
            args = value[func_name]
            return f"{func_name}({', '.join(f'{k}={_parse_nested_value(v)}' for k, v in args.items())})"
        return "{" + ", ".join(f"'{k}': {_parse_nested_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def decode_execute_prompting(result: str) -> list[str]:
    """BFCL's `default_decode_execute_prompting` (Python calls `[f(a=1)]` to executable strings)."""
    return [
        f"{key}({', '.join(f'{k}={_parse_nested_value(v)}' for k, v in value.items())})"
        for call in decode_ast_prompting(result)
        for key, value in call.items()
    ]


async def run_conversation(
    sample: Any, request: GenerateRequest, session: AgentSession, env: BFCLEnvironments, *, fc: bool
) -> ModelOutput:
    """One multi-turn sample through the model and BFCL's environments (EvalScope's `predict`)."""
    meta = sample.metadata
    tools = copy.deepcopy(meta["tools"])
    missed: dict[str, Any] = copy.deepcopy(meta.get("missed_functions") or {})
    messages: list[ChatMessage] = []
    generation: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    last: ModelOutput | None = None
    session_id = uuid.uuid4().hex  # the driver keeps this conversation's instances under it

    async def execute(calls: list[str]) -> list[str]:
        done = await asyncio.to_thread(
            env.request,
            "execute",
            session=session_id,
            calls=calls,
            entry_id=meta["entry_id"],
            initial_config=meta["initial_config"],
            involved_classes=meta["involved_classes"],
            long_context="long_context" in meta["test_category"] or "composite" in meta["test_category"],
        )
        return list(done["results"])

    try:
        for turn_idx, turn in enumerate(meta["turns"]):
            messages += [ChatMessage(role=m["role"], content=str(m.get("content") or "")) for m in turn]
            record: dict[str, Any] = {"turn": turn_idx, "user": [str(m.get("content") or "") for m in turn]}
            held = missed.get(str(turn_idx))
            if held is not None:  # a miss_func turn: the held-out functions arrive now
                if fc:
                    for new_tool in held:
                        cur = new_tool[0] if isinstance(new_tool, list) else new_tool
                        cur["parameters"]["type"] = "object"
                        tools.append({"type": "function", "function": cur})
                    messages.append(ChatMessage(role="user", content=ADDED_FUNCTIONS_FC))
                else:
                    messages.append(
                        ChatMessage(role="user", content=ADDED_FUNCTIONS_PROMPTING.format(functions=held))
                    )
                record["added_functions"] = [
                    (f[0] if isinstance(f, list) else f).get("name")
                    for f in held
                    if isinstance(f, (list, dict))
                ]
            try:
                sent_tools = check_tools(tools) if fc else None
            except ValueError as exc:
                raise ModelError(
                    f"bfcl_v3 sample {sample.id}, turn {turn_idx}: {exc}", kind="bad_input"
                ) from None
            responses: list[Any] = []
            steps: list[dict[str, Any]] = []
            n_steps = 0
            while True:
                last = await session.generate(
                    GenerateRequest(
                        messages=list(messages),
                        config=request.config,
                        tools=sent_tools or None,
                        tool_choice="auto" if sent_tools else None,
                    )
                )
                text = last.completions[0] if last.completions else ""
                calls = (last.tool_calls[0] if last.tool_calls else []) if fc else []
                messages.append(ChatMessage(role="assistant", content=text, tool_calls=tuple(calls) or None))
                call_strs: list[str] | None
                if fc and calls:
                    step_responses: list[Any] = [
                        {c["function"]["name"]: parse_arguments(c["function"].get("arguments", ""), c["function"]["name"], tools)}
                        for c in calls
                    ]  # fmt: skip
                    try:
                        call_strs = convert_to_function_call(step_responses)
                    except Exception:  # noqa: BLE001 - EvalScope: calls that do not convert end the turn
                        call_strs = None
                elif fc:
                    step_responses, call_strs = [text], None
                else:
                    step_responses = [text]
                    try:
                        call_strs = decode_execute_prompting(text)
                    except Exception:  # noqa: BLE001 - a reply that is not a call list ends the turn
                        call_strs = None
                responses.extend(step_responses)
                if call_strs is None:
                    steps.append({"response": step_responses})
                    break
                results = await execute(call_strs)
                steps.append({"response": step_responses, "calls": call_strs, "results": results})
                if fc:
                    for i, (call, result) in enumerate(zip(calls, results, strict=False)):
                        messages.append(
                            ChatMessage(
                                role="tool",
                                tool_call_id=str(call.get("id") or f"call_{turn_idx}_{n_steps}_{i}"),
                                content=json.dumps({"response": result}),
                            )
                        )
                else:
                    shown = [
                        {"role": "tool", "name": c, "content": r}
                        for c, r in zip(call_strs, results, strict=False)
                    ]
                    messages.append(ChatMessage(role="user", content=repr(shown)))
                n_steps += 1
                if n_steps > MAXIMUM_STEP_LIMIT:
                    log.warning(
                        "bfcl_v3 %s turn %d: more than %d steps, turn ended",
                        sample.id,
                        turn_idx,
                        MAXIMUM_STEP_LIMIT,
                    )
                    record["step_limit"] = True
                    break
            generation.append(responses)
            records.append({**record, "steps": steps})
    finally:
        await asyncio.to_thread(env.request, "close", session=session_id)
    assert last is not None
    return ModelOutput(
        completions=[json.dumps(generation, ensure_ascii=False, indent=2)],
        model=last.model,
        finish_reasons=last.finish_reasons[:1],
        turns=[json.dumps(r, ensure_ascii=False) for r in records],
    )


def score(sample: Any, completion: str, env: BFCLEnvironments, *, fc: bool, underscore_to_dot: bool) -> Score:
    """EvalScope's multi-turn `match_score`: decode each step, then BFCL's `multi_turn_checker`."""
    meta = sample.metadata
    try:
        generation = json.loads(completion)
    except json.JSONDecodeError:
        return Score(values={"acc": 0.0}, explanation="the answer is not the conversation's JSON record")
    decoded: list[list[Any]] = []
    for single_turn in generation:
        steps: list[Any] = []
        for response in single_turn:
            try:
                steps.append(convert_to_function_call(response) if fc else decode_execute_prompting(response))
            except Exception:  # noqa: BLE001 - EvalScope keeps a response that does not decode as it is
                steps.append([response])
        decoded.append(steps)
    result = env.request(
        "check",
        decoded=decoded,
        ground_truth=meta["ground_truth"],
        entry={
            "id": meta["entry_id"],
            "initial_config": meta["initial_config"],
            "involved_classes": meta["involved_classes"],
        },
        test_category=meta["test_category"],
        model_name=CHECKER_MODEL[underscore_to_dot],
    )
    valid = bool(result.get("valid"))
    return Score(
        values={"acc": float(valid)},
        answer=json.dumps(decoded, ensure_ascii=False),
        explanation=result.get("error_message") or None,
        metadata={} if valid else {"error_type": result.get("error_type", "")},
    )
