"""The mixed file: one JSON object a line, EvalScope 1.14.1's `DatasetEntry` plus one field of ours.

A line, as EvalScope's samplers write it:

    {"index": 0,                      position in the file
     "prompt": {...},                 the member's sample, rendered: "input" (chat messages), "target",
                                      "choices" (multiple choice), "id" (an int), "metadata"
     "tags": ["en"], "categories": ["mix", "math"],   the member's tags and its schema path
     "task_type": "math",
     "weight": 0.005,                 the member's share of the schema over its number of samples here
     "dataset_name": "gsm8k", "subset_name": "main",
     "member": {...}}                 ours (EvalScope ignores it): what rebuilds the member's own
                                      sample — "benchmark", "version", "id", "input", "args"

so a file written by EvalScope loads here and one written here loads in EvalScope.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DatasetEntry", "atomic_write", "dump_jsonl_data", "entry_line"]


@dataclass
class DatasetEntry:
    """One line of a mixed file (EvalScope's `DatasetEntry` fields, in its order)."""

    index: int = 0
    prompt: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    task_type: str = ""
    weight: float = 0.0
    dataset_name: str = ""
    subset_name: str = ""
    member: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "prompt": self.prompt,
            "tags": list(self.tags),
            "categories": list(self.categories),
            "task_type": self.task_type,
            "weight": self.weight,
            "dataset_name": self.dataset_name,
            "subset_name": self.subset_name,
        }
        if self.member:
            data["member"] = self.member
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetEntry:
        """Read a line; a missing `prompt`/`dataset_name` raises KeyError, a wrong type ValueError.

        Other fields default as in EvalScope, and unknown ones are ignored (as its pydantic model does).
        """
        prompt = data["prompt"]
        if not isinstance(prompt, dict):
            raise ValueError(f"'prompt' must be an object (the member's sample), got {type(prompt).__name__}")
        if "input" not in prompt:
            raise KeyError("prompt.input")
        name = data["dataset_name"]
        if not isinstance(name, str) or not name:
            raise ValueError(f"'dataset_name' must name the member benchmark, got {name!r}")
        tags = data.get("tags") or []
        categories = data.get("categories") or []
        for what, values in (("tags", tags), ("categories", categories)):
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"'{what}' must be a list of strings, got {values!r}")
        weight = data.get("weight", 0.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise ValueError(f"'weight' must be a number, got {weight!r}")
        member = data.get("member") or {}
        if not isinstance(member, dict):
            raise ValueError(f"'member' must be an object, got {type(member).__name__}")
        return cls(
            index=int(data.get("index", 0)),
            prompt=prompt,
            tags=list(tags),
            categories=list(categories),
            task_type=str(data.get("task_type") or ""),
            weight=float(weight),
            dataset_name=name,
            subset_name=str(data.get("subset_name") or "default"),
            member=member,
        )


def entry_line(record: Any) -> str:
    """One JSON line, as EvalScope's `jsonlines` writer prints it (UTF-8 kept, default separators)."""
    if isinstance(record, DatasetEntry):
        record = record.to_dict()
    return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"


def dump_jsonl_data(data_list: Iterable[Any] | Any, jsonl_file: str | os.PathLike[str]) -> None:
    """Write records (dicts or `DatasetEntry`s) one JSON object a line, EvalScope's signature.

    The whole file is rendered first and then moved into place, so an error (a value JSON cannot
    hold) or an interruption never leaves a half-written file; parent folders are created.
    """
    if not jsonl_file:
        raise ValueError("output file must be provided.")
    if isinstance(data_list, (dict, DatasetEntry)):
        data_list = [data_list]
    text = "".join(entry_line(r) for r in data_list)
    atomic_write(Path(jsonl_file).expanduser(), text)


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + rename: readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
