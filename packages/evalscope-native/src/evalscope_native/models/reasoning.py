"""Split a reasoning model's `<think>…</think>` block from its answer, as EvalScope 1.14.1 does.

Answer extraction must not see the thinking (it restates options and numbers); the record keeps it
so nothing the model said is lost. The rule is EvalScope's on purpose (a score depends on it): the
*first* complete block is the reasoning and is cut out; everything else — an unclosed `<think>`, a
stray `</think>`, a second block — stays in the text that is parsed (docs/fidelity.md, D1).
"""

from __future__ import annotations

import re

_THINK = re.compile(r'<think(?:\s+signature="[^"]*")?(?:\s+redacted="true")?\s*>(.*?)</think>', re.DOTALL)


def split_reasoning(text: str) -> tuple[str, str | None]:
    """(answer, reasoning); reasoning is None when the reply holds no complete `<think>` block."""
    m = _THINK.search(text)
    if m is None:
        return text, None
    return (text[: m.start()] + text[m.end() :]).strip(), m.group(1).strip()
