"""Read one local data file into records; every error names the file and, where it can, the line.

Why our own readers rather than `datasets.load_dataset('json', ...)`: they import nothing heavy
for jsonl/json/csv, they keep line numbers for error messages, and they never touch the network.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from evalscope.errors import DataFormatError, MissingDependencyError

SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Records and their 1-based line numbers (None for formats without lines)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".json":
        return _read_json(path), None
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".parquet":
        return _read_parquet(path), None
    raise DataFormatError(str(path), f"unsupported file type {suffix!r}; use one of {', '.join(SUFFIXES)}")


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with path.open(encoding="utf-8-sig") as fh:  # -sig: files saved by Excel start with a BOM
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(
                    str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", line=lineno
                ) from None
            if not isinstance(obj, dict):
                raise DataFormatError(
                    str(path), f"expected a JSON object, got {type(obj).__name__}", line=lineno
                )
            records.append(obj)
            lines.append(lineno)
    return records, lines


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataFormatError(
                str(path), "expected a list of records (or an object holding exactly one list)"
            )
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataFormatError(str(path), "expected a list of JSON objects")
    return data


def _read_csv(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise DataFormatError(str(path), "empty CSV file: the first line must name the columns", line=1)
        try:
            for row in reader:
                if None in row:
                    raise DataFormatError(
                        str(path),
                        f"{len(reader.fieldnames) + len(row[None])} fields, header has "
                        f"{len(reader.fieldnames)}",
                        line=reader.line_num,
                    )
                missing = [k for k, v in row.items() if v is None]
                if missing:
                    raise DataFormatError(
                        str(path), f"missing field(s) {', '.join(missing)}", line=reader.line_num
                    )
                records.append(dict(row))
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise DataFormatError(str(path), f"invalid CSV: {exc}", line=reader.line_num) from None
    return records, lines


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError(
            f"Reading {path} needs pyarrow.", hint='pip install pyarrow  (or: pip install "evalscope-native")'
        ) from exc
    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataFormatError(str(path), f"cannot read parquet: {exc}") from None
