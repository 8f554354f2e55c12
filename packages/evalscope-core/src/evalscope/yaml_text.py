"""Block-style YAML for JSON-like data (a run's `configs/task_config.yaml`), without importing PyYAML.

Why not `yaml.safe_dump`: importing PyYAML costs ~15 ms and the file is written before a run's first
request, so every `evalscope eval` paid it for one small file. The data written here is what
`TaskConfig.public_dump()` returns (dicts with string keys, lists, strings, numbers, booleans,
None), and the output only has to read back to the same data with any YAML 1.1/1.2 loader
(`yaml.safe_load`, the app, a user's editor): a string is written plain only when it cannot be
taken for anything else, otherwise double-quoted with JSON's escapes (valid YAML escapes).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["dump_yaml"]

# Plain (unquoted) only for a conservative alphabet that no YAML 1.1 or 1.2 resolver reads as a
# number, date, boolean or null, and that holds no indicator character.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+-]*(?: [A-Za-z0-9_./+()-]+)*")
_SPECIAL = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", ".nan", ".inf", "~"}
)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """`data` as block-style YAML, keys in their order (as `yaml.safe_dump(..., sort_keys=False)`)."""
    if not data:
        return "{}\n"
    return "".join(_mapping(data, 0))


def _mapping(data: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        head = f"{pad}{_scalar(str(key))}:"
        lines += _value(head, value, indent)
    return lines


def _value(head: str, value: Any, indent: int) -> list[str]:
    if isinstance(value, Mapping) and value:
        return [head + "\n", *_mapping(value, indent + 2)]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value:
        return [head + "\n", *_sequence(value, indent)]
    return [f"{head} {_scalar(value)}\n"]


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            inner = _mapping(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and item:
            inner = _sequence(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        else:
            lines.append(f"{pad}- {_scalar(item)}\n")
    return lines


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        mantissa, e, exponent = repr(value).partition("e")
        if "." not in mantissa:  # YAML 1.1 reads `1e-05` as a string: PyYAML writes `1.0e-05`
            mantissa += ".0"
        return mantissa + e + exponent
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return "[]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text, ensure_ascii=False).translate(_LINE_BREAKS)


# Inside double quotes YAML 1.1 folds these as line breaks; JSON leaves them raw, so they are escaped.
_LINE_BREAKS = {0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}
