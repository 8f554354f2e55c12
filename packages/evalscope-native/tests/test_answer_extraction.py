"""Multiple-choice answer extraction follows EvalScope 1.14.1 on the replies models really give.

Math answers (Math-Verify) are tested in test_bench_math.py."""

from __future__ import annotations

import pytest
from evalscope_native.benchmarks.multiple_choice import parse_single_answer
from evalscope_native.models.reasoning import split_reasoning


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("ANSWER: B", "B"),
        ("Let me think. A is wrong.\nANSWER: C", "C"),
        ("ANSWER: [LETTER]\n...\nANSWER: D", "D"),  # echoed placeholder, then the real answer
        ("ANSWER: (B)", "B"),
        ("ANSWER: B, not C", "B"),
        ("answer: a", ""),  # a lower-case label is not a label
        ("I pick B", "B"),  # fallback: the last capital letter
        ("I think E", ""),  # not one of A-D
        ("no idea", ""),
        ("ANSWER: $\\boxed{B}$ (not D)", "B"),  # math wrappers are skipped, as EvalScope 1.14.1 does
        ("ANSWER: A/C", ""),  # several labels are not one answer
        ("ANSWER: A or B", ""),
    ],
)
def test_multiple_choice(reply: str, expected: str) -> None:
    assert parse_single_answer(reply, 4) == expected


def test_think_block_is_split_from_the_answer() -> None:
    """EvalScope 1.14.1's rule: the first complete block is cut out, everything else is parsed."""
    assert split_reasoning("<think>A or B?</think>ANSWER: B") == ("ANSWER: B", "A or B?")
    assert split_reasoning("<think>still thinking") == ("<think>still thinking", None)
    assert split_reasoning("ANSWER: C\n</think>") == ("ANSWER: C\n</think>", None)
    two = "<think>Maybe C.</think>\nANSWER: B\n<think>Checked.</think>"
    assert split_reasoning(two) == ("ANSWER: B\n<think>Checked.</think>", "Maybe C.")
    assert split_reasoning("ANSWER: A") == ("ANSWER: A", None)
