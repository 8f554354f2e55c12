"""`--dataset share_gpt`: ShareGPT conversations, replayed turn by turn (`evalscope_perf.multi_turn`).

The file is ShareGPT's JSON list (or JSONL) of `{"id": ..., "conversations": [{"from": "human" |
"gpt" | "system", "value": "..."}]}`; `{"messages": [{"role": "user", "content": ...}]}` items are
read too. The user turns are kept (the replies come from the service under test); a conversation
without one is skipped; `--min/--max-prompt-length` filter on the first turn. A malformed line or
item fails with its file and line.
"""

from __future__ import annotations

from typing import Any

from evalscope.data_files import iter_jsonl, iter_lines, read_json
from evalscope.errors import DataFormatError

from evalscope_perf.datasets.base import DatasetContext, filter_by_length, require_path
from evalscope_perf.multi_turn import Conversation

__all__ = ["share_gpt"]

_USER = ("human", "user")


def _turns(item: Any) -> list[str] | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("conversations"), list):
        return [
            str(m.get("value", ""))
            for m in item["conversations"]
            if isinstance(m, dict) and m.get("from") in _USER
        ]
    if isinstance(item.get("messages"), list):
        return [
            str(m.get("content", ""))
            for m in item["messages"]
            if isinstance(m, dict) and m.get("role") in _USER
        ]
    return None


def share_gpt(ctx: DatasetContext) -> list[Any]:
    path = require_path(ctx, "a ShareGPT JSON (or JSONL) file of conversations")
    first = next(iter_lines(path), (0, ""))[1]
    items: list[tuple[int | None, Any]]
    if first.startswith("["):
        items = [(None, x) for x in read_json(path)]
    else:
        items = list(iter_jsonl(path))
    conversations: list[Any] = []
    for i, (lineno, item) in enumerate(items):
        turns = _turns(item)
        if turns is None:
            where = f"line {lineno}" if lineno else f"item {i}"
            raise DataFormatError(
                str(path), f"{where} needs a 'conversations' (or 'messages') list", line=lineno
            )
        turns = [t for t in turns if t.strip()]
        if turns:
            conversations.append(Conversation(turns, str(item.get("id", i))))
        if len(conversations) >= ctx.count:  # at least one turn per request: enough
            break
    kept = set(map(id, filter_by_length(ctx, [c.turns[0] for c in conversations])))
    out = [c for c in conversations if id(c.turns[0]) in kept]
    if not out:
        raise DataFormatError(str(path), "no conversation with a user turn (within the length limits)")
    return out
