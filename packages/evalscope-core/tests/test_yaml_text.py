"""`evalscope.yaml_text.dump_yaml`: what it writes reads back to the same data with PyYAML."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import yaml
from evalscope.config import TaskConfig
from evalscope.yaml_text import dump_yaml

TRICKY = [
    "",
    " ",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "~",
    "NULL",
    ".inf",
    "-.inf",
    ".NaN",
    "1",
    "-1",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    "1.5",
    "+1",
    "2026-12-07",
    "12:30",
    "1:20:30",
    "-",
    "- a",
    "a: b",
    "a #b",
    "#c",
    "&anchor",
    "*alias",
    "!tag",
    "%dir",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "[x]",
    "{y}",
    "a,b",
    "?",
    "?x",
    "|",
    ">",
    "<<",
    "=",
    "trailing ",
    " leading",
    "two  spaces",
    "tab\there",
    "line\nbreak",
    "cr\rlf",
    "\u2028sep",
    "\x85nel",
    "中文提示：请逐步思考",
    "emoji 🙂",
    "back\\slash",
    'quote"in',
    "a/b/c.json",
    "http://127.0.0.1:8000/v1",
    "C:\\path",
    "Let's think step by step.",
    "{question}\nAnswer:",
    "\x00nul",
    "\x1bESC",
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(TRICKY)
    if kind == 1:
        return rng.randint(-(10**12), 10**12)
    if kind == 2:
        return rng.choice(
            [0.0, -0.0, 0.5, 1e-05, 1e20, -3.25e-12, 123456789.125, float("inf"), float("-inf")]
        )
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return "".join(rng.choice("ab :#-'\"\\\n\t{}[],&*!|>%@`yn01.") for _ in range(rng.randrange(6)))
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(TRICKY + ["k"]) + str(i): _random_value(rng, depth + 1) for i in range(rng.randrange(4))
    }


@pytest.mark.parametrize("value", TRICKY)
def test_each_tricky_string_reads_back_as_itself(value: str) -> None:
    data = {value: value, "list": [value, [value]], "nested": {"k": value}}
    assert yaml.safe_load(dump_yaml(data)) == data


def test_random_documents_read_back_equal() -> None:
    rng = random.Random(7)
    for _ in range(500):
        data = {f"key{i}": _random_value(rng) for i in range(rng.randrange(1, 6))}
        assert yaml.safe_load(dump_yaml(data)) == data, dump_yaml(data)


def test_floats_keep_their_type_and_value() -> None:
    data = {"a": 1e-05, "b": 1e20, "c": 0.1, "nan": float("nan"), "neg": -2.5e-300}
    back = yaml.safe_load(dump_yaml(data))
    assert all(isinstance(v, float) for v in back.values())
    assert back["a"] == 1e-05 and back["b"] == 1e20 and back["c"] == 0.1 and back["neg"] == -2.5e-300
    assert math.isnan(back["nan"])


def test_a_run_config_reads_back_and_is_readable() -> None:
    config = TaskConfig.model_validate({
        "model": "qwen", "api_url": "http://127.0.0.1:8000/v1", "datasets": ["gsm8k", "arc"],
        "dataset_args": {"gsm8k": {"few_shot_num": 0, "prompt_template": "{question}\n请逐步思考。"}},
        "generation_config": {"temperature": 0.0, "max_tokens": 512}, "limit": 0.5,
    })  # fmt: skip
    data = config.public_dump()
    text = dump_yaml(data)
    assert yaml.safe_load(text) == data
    assert "model: qwen\n" in text and "- gsm8k\n" in text  # block style, plain where unambiguous
    assert dump_yaml({}) == "{}\n" and yaml.safe_load(dump_yaml({})) == {}
