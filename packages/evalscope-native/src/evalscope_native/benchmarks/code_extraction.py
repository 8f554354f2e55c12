"""Code extraction from model replies, as EvalScope 1.14.1's HumanEval adapter does it.

EvalScope takes the FIRST fenced block (```` ```lang\\n ... ``` ````, any info word or none) and
otherwise keeps the reply unchanged, so a bare completion that continues the prompt stays as it is;
the check program then prepends the prompt, which also makes a full re-definition of the function
work (the later ``def`` wins). Shared with the MBPP adapter.
"""

from __future__ import annotations

import re

#: EvalScope's pattern: an info word (``\\w*``) right after the fence, then a newline
FENCED_BLOCK = re.compile(r"```\w*\n(.*?)```", re.DOTALL)


def extract_code(completion: str, prompt: str | None = None) -> str:
    """The code of a reply: its first fenced block, else the reply unchanged.

    ``prompt`` is accepted for callers that want to know what the reply continues; EvalScope's
    extraction does not use it (the check program prepends the prompt itself), so neither do we.
    """
    del prompt  # kept in the signature for the shared contract; see the docstring
    blocks = FENCED_BLOCK.findall(completion)
    return blocks[0] if blocks else completion


def defines(code: str, name: str) -> bool:
    """Whether ``code`` has a top-level-looking ``def name(`` (a cheap test, no parsing)."""
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None
