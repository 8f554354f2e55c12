"""Answer extraction follows EvalScope 1.x on the replies models really give."""

from __future__ import annotations

import pytest
from evalscope_native.benchmarks.math_answer import extract_answer, numeric_equal
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


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("so the answer is \\boxed{18}.", "18"),
        ("\\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}"),
        ("The answer is 1,234.", "1234"),
        ("Total: 3 apples, then 5, final 42", "42"),
        ("ANSWER: $70,000", "70000"),
        ("\\boxed{18.0}", "18"),
        ("\\boxed{\\text{18}}", "18"),
        ("\\boxed{18 \\text{ dollars}}", "18"),
    ],
)
def test_math_extraction(reply: str, expected: str) -> None:
    assert extract_answer(reply) == expected


def test_numeric_equal() -> None:
    assert numeric_equal("18", "18")
    assert numeric_equal("1,234", "1234")
    assert numeric_equal("0.5", "1/2")
    assert numeric_equal("50", "0.5")  # a percentage of the reference is accepted, as EvalScope does
    assert not numeric_equal("19", "18")
    assert not numeric_equal("", "18")


def test_think_block_is_split_from_the_answer() -> None:
    assert split_reasoning("<think>A or B?</think>ANSWER: B") == ("ANSWER: B", "A or B?")
    assert split_reasoning("<think>still thinking") == ("", "still thinking")
    assert split_reasoning("ANSWER: A") == ("ANSWER: A", None)
