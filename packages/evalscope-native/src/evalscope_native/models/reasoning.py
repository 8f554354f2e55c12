"""Split a reasoning model's `<think>…</think>` block from its answer.

Answer extraction must not see the thinking (it restates options and numbers); the record keeps
it so nothing the model said is lost.
"""

from __future__ import annotations

import re

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def split_reasoning(text: str) -> tuple[str, str | None]:
    """(answer, reasoning). An unclosed `<think>` means the model never answered: answer is ''."""
    if "</think>" in text:
        head, _, answer = text.rpartition("</think>")
        reasoning = head.replace("<think>", "", 1).strip()
        return answer.strip(), reasoning
    if text.lstrip().startswith("<think>"):
        return "", text.lstrip()[len("<think>") :].strip()
    return text, None
