"""Read a RAG test set: json or jsonl rows of (question, contexts, answer, ground truth).

Both EvalScope's field names and ragas' are accepted: `question`/`user_input`,
`contexts`/`retrieved_contexts`, `answer`/`response`, `ground_truth`/`reference` (a list
`ground_truths` is joined). A row that is not JSON, or lacks a field a chosen metric needs, fails the
run before it starts, naming the file and line (the item number for a .json list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalscope.data_files import iter_jsonl, read_json
from evalscope.errors import DataFormatError, DatasetNotFoundError

FIELD_NAMES = {
    "user_input": ("question", "user_input", "query"),
    "response": ("answer", "response"),
    "retrieved_contexts": ("contexts", "retrieved_contexts"),
    "reference": ("ground_truth", "reference", "ground_truths", "reference_answer"),
    "reference_contexts": ("reference_contexts",),
}


@dataclass
class RagSample:
    index: int
    where: int  # line (jsonl) or item number (json), 1-based
    id: str
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.fields.get(name)


def read_testset(path: Path) -> list[RagSample]:
    if not path.is_file():
        raise DatasetNotFoundError(
            f"Test set {path} does not exist.",
            hint="eval.testset_file: a .json list or .jsonl of {question, contexts, answer, ground_truth}",
        )
    rows: list[tuple[int, Any]]
    if path.suffix == ".jsonl":
        rows = list(iter_jsonl(path))
    else:
        data = read_json(path)  # a single object is a test set of one row
        items = data if isinstance(data, list) else [data]
        rows = list(enumerate(items, start=1))
    if not rows:
        raise DataFormatError(str(path), "the test set holds no rows")
    return [_sample(path, i, where, row) for i, (where, row) in enumerate(rows)]


def _sample(path: Path, index: int, where: int, row: Any) -> RagSample:
    if not isinstance(row, dict):
        raise DataFormatError(str(path), f"expected a JSON object, got {type(row).__name__}", line=where)
    fields: dict[str, Any] = {}
    for name, spellings in FIELD_NAMES.items():
        value = next((row[s] for s in spellings if row.get(s) not in (None, "", [])), None)
        if value is None:
            continue
        if name in ("retrieved_contexts", "reference_contexts"):
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DataFormatError(str(path), f"{name} must be a list of strings", line=where)
        elif isinstance(value, list):
            value = " ".join(str(v) for v in value)
        elif not isinstance(value, str):
            raise DataFormatError(
                str(path), f"{name} must be a string, got {type(value).__name__}", line=where
            )
        fields[name] = value
    sid = str(row.get("id", row.get("_id", index)))
    return RagSample(index=index, where=where, id=sid, fields=fields)


def check_fields(path: Path, samples: list[RagSample], needs: dict[str, tuple[str, ...]]) -> None:
    """Every sample must carry what every chosen metric needs (metric → required fields)."""
    for s in samples:
        for metric, fields in needs.items():
            missing = [f for f in fields if s.get(f) is None]
            if missing:
                names = ", ".join(f"{m} (or {'/'.join(FIELD_NAMES[m])})" for m in missing)
                raise DataFormatError(str(path), f"metric {metric} needs {names}", line=s.where)
