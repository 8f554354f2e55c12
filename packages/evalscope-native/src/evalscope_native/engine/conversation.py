"""Multi-turn samples (MT-Bench): each turn's request is built from the model's previous answer.

A benchmark that sets `multi_turn = True` answers `next_turn(sample, conversation)` with the next
request's messages, or None when the conversation is over. Each turn is its own request with its own
content-hash key in the prediction cache, so a resumed run replays the turns it has and asks only
for the rest; `--rerun-review` replays from the cache alone. The sample's output is the last turn's,
with every turn's answer in `ModelOutput.turns` for the scorer (a judge grades both turns).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from evalscope.contracts import ChatMessage, GenerateRequest, ModelOutput, Usage

from evalscope_native.engine.cache import PredictionCache
from evalscope_native.engine.retry import Outcome

__all__ = ["converse"]

MAX_TURNS = 16  # a benchmark bug must not loop for ever


async def converse(
    adapter: Any,
    item: Any,
    send: Callable[[GenerateRequest], Awaitable[Outcome]],
    cache: PredictionCache,
    key_of: Callable[[GenerateRequest], str],
    *,
    cache_only: bool = False,
) -> Outcome:
    request: GenerateRequest = item.request
    answers: list[str] = []
    outputs: list[ModelOutput] = []
    attempts = 0
    for _turn in range(MAX_TURNS):
        key = key_of(request)
        output = cache.get(key)
        if output is None:
            if cache_only:
                return Outcome(
                    None, attempts, f"turn {len(answers) + 1} has no cached answer (--rerun-review)"
                )
            outcome = await send(request)
            attempts += outcome.attempts
            if outcome.output is None:
                return Outcome(None, attempts, f"turn {len(answers) + 1}: {outcome.error}")
            output = outcome.output
            cache.put(
                key,
                output,
                {"attempts": outcome.attempts, "sample": item.sample.id, "turn": len(answers) + 1},
            )
        outputs.append(output)
        answer = output.completions[0] if output.completions else ""
        answers.append(answer)
        follow = adapter.next_turn(
            item.sample, [*request.messages, ChatMessage(role="assistant", content=answer)]
        )
        if follow is None:
            break
        request = GenerateRequest(
            messages=follow,
            config=adapter.turn_generation(item.sample, request.config),
            tools=request.tools,  # a function-calling conversation keeps its tools on every turn
            tool_choice=request.tool_choice,
        )
    last = outputs[-1]
    return Outcome(
        last.model_copy(update={"turns": answers, "usage": _total(outputs)}),
        attempts,
    )


def _total(outputs: list[ModelOutput]) -> Usage | None:
    usages = [o.usage for o in outputs if o.usage is not None]
    if not usages:
        return None
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in usages),
        completion_tokens=sum(u.completion_tokens for u in usages),
        total_tokens=sum(u.total_tokens for u in usages),
    )
