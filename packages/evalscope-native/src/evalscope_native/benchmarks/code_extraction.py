"""Code extraction from model replies, as EvalScope 1.14.1's HumanEval and LiveCodeBench adapters do it.

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


def extract_last_fenced_block(completion: str) -> str:
    """LiveCodeBench's ``extract_code_generation`` (chat models), used by EvalScope 1.14.1.

    The lines strictly between the LAST two lines that contain a fence (```` ``` ```` anywhere in
    the line, any info word); fewer than two such lines give ``""`` (no code).
    """
    lines = completion.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1 : fences[-1]])
