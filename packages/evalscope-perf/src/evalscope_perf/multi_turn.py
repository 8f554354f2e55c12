"""Multi-turn replay (`--dataset share_gpt`, or any loader returning `Conversation`s).

A conversation's turns are sent one after the other, each only once the previous reply has ended,
and each carries the whole history: the earlier user turns and the replies the SERVICE gave (not
the dataset's recorded ones), which is what a chat client sends and what a prefix cache can reuse.
`--parallel` is the number of conversations in flight; with `--rate` a conversation STARTS at each
arrival. `--number` counts requests (turns); a conversation cut by it ends early.

Each record's `prefix_tokens` is the previous turn's prompt + completion tokens: the part of this
prompt the service has already seen. `prefix_cache_share` of a run = sum(prefix_tokens) / sum(prompt
tokens): the share of prompt tokens a perfect prefix cache would hit (the server's own figure, from
`usage.prompt_tokens_details.cached_tokens`, is reported beside it as `cached_tokens_share`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from evalscope_perf.apis.base import ApiFormat

__all__ = ["Conversation", "ConversationPlan", "plan_conversations"]


@dataclass
class Conversation:
    """What a multi-turn loader yields: the user turns of one conversation, in order."""

    turns: list[str]
    id: str = ""


@dataclass
class ConversationPlan:
    """Prompt k of the flattened dataset is turn `turn_of[k]` of conversation `conv_of[k]`."""

    api: ApiFormat
    conv_of: list[int]
    turn_of: list[int]
    texts: list[str]

    def units(self, indices: list[int], first_prompt: int) -> list[list[tuple[int, int]]]:
        """Group request indices into conversations: lists of (request index, prompt index), each a
        run of consecutive turns of one conversation starting wherever the indices enter it."""
        n = len(self.texts)
        units: list[list[tuple[int, int]]] = []
        for i in indices:
            p = (first_prompt + i) % n
            last = units[-1][-1][1] if units else None
            if (
                last is not None
                and self.conv_of[last] == self.conv_of[p]
                and self.turn_of[p] == self.turn_of[last] + 1
            ):
                units[-1].append((i, p))
            else:
                units.append([(i, p)])
        return units

    def body(self, history: list[dict[str, Any]], p: int) -> tuple[list[dict[str, Any]], bytes]:
        messages = [*history, {"role": "user", "content": self.texts[p]}]
        return messages, json.dumps(self.api.build_body(messages), ensure_ascii=False).encode()


def plan_conversations(api: ApiFormat, items: list[Any]) -> tuple[list[Any], ConversationPlan | None]:
    """Flatten `Conversation`s into one prompt per turn (the first turn's body is the fallback
    body); None when the dataset has no conversations."""
    if not any(isinstance(x, Conversation) for x in items):
        return items, None
    prompts: list[Any] = []
    conv_of: list[int] = []
    turn_of: list[int] = []
    for c, item in enumerate(items):
        turns = item.turns if isinstance(item, Conversation) else [item]
        for t, text in enumerate(turns):
            prompts.append(text)
            conv_of.append(c)
            turn_of.append(t)
    return prompts, ConversationPlan(api, conv_of, turn_of, [str(p) for p in prompts])


def conversation_sender(
    plan: ConversationPlan,
    request: Callable[[bytes, str], Coroutine[Any, Any, Any]],
    on_record: Callable[[Any], None],
    api: ApiFormat,
    id_prefix: str,
    warmup: bool,
) -> Callable[[list[tuple[int, int]]], Coroutine[Any, Any, None]]:
    """`send(unit)`: one conversation's turns in order, each with the history so far."""
    from evalscope_perf.record import finalize

    async def send(unit: list[tuple[int, int]]) -> None:
        history: list[dict[str, Any]] = []
        prefix = 0
        for i, p in unit:
            messages, body = plan.body(history, p)
            ex = await request(body, f"{id_prefix}-{i}")
            rec = finalize(ex, api, i, p, warmup)
            rec.prefix_tokens = prefix
            on_record(rec)
            if not rec.success:
                return  # a conversation whose turn failed cannot go on
            history = [*messages, {"role": "assistant", "content": rec.text}]
            prefix = (rec.prompt_tokens or 0) + (rec.completion_tokens or 0)

    return send
