"""Read local data files — JSONL, JSON, CSV/TSV, parquet — into records; every error names the file and line.

Why in the core: the native engine's datasets, evalscope-rag's test sets and mteb folders, and
evalscope-perf's prompt files are the same formats, and a user who gets `data.jsonl:7: invalid JSON`
from one plugin should get it from all of them. Why our own readers rather than
`datasets.load_dataset('json', ...)`: they import nothing heavy for text formats, keep line numbers
for error messages and never touch the network.

Every failure is a `DataFormatError` (exit code 2) saying `file:line: what is wrong`. Parquet needs
pyarrow, which the core does not depend on: it is imported only when a parquet file is read, and
its absence is a `MissingDependencyError` naming the package to install.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalscope.errors import DataFormatError, MissingDependencyError

__all__ = [
    "RECORD_SUFFIXES",
    "iter_jsonl",
    "iter_lines",
    "parse_json_line",
    "read_csv",
    "read_json",
    "read_json_records",
    "read_jsonl",
    "read_parquet",
    "read_parquet_table",
    "read_records",
]

#: The suffixes `read_records` reads (compared lower-case).
RECORD_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")

# utf-8-sig everywhere: files saved by Excel and some Windows editors start with a BOM, which plain
# utf-8 would leave glued to the first key or column name.
_ENCODING = "utf-8-sig"


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Records of one file, chosen by suffix, and their 1-based line numbers (None for JSON/parquet)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".json":
        return read_json_records(path), None
    if suffix in (".csv", ".tsv"):
        return read_csv(path)
    if suffix == ".parquet":
        return read_parquet(path), None
    raise DataFormatError(
        str(path), f"unsupported file type {suffix!r}; use one of {', '.join(RECORD_SUFFIXES)}"
    )


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped line) for every non-empty line of a UTF-8 text file."""
    try:
        with path.open(encoding=_ENCODING) as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.strip()
                if line:
                    yield lineno, line
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), f"not UTF-8 text ({exc.reason})") from None
    except IsADirectoryError:
        raise DataFormatError(str(path), "is a folder; give the file itself") from None


def parse_json_line(path: Path, lineno: int, line: str) -> Any:
    """One line parsed as JSON (any value), or a `DataFormatError` naming `path:lineno`."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", line=lineno
        ) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-empty line, read lazily: a caller may stop early."""
    for lineno, line in iter_lines(path):
        obj = parse_json_line(path, lineno, line)
        if not isinstance(obj, dict):
            raise DataFormatError(str(path), f"expected a JSON object, got {type(obj).__name__}", line=lineno)
        yield lineno, obj


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """All objects of a JSONL file and their line numbers (blank lines skipped)."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for lineno, obj in iter_jsonl(path):
        records.append(obj)
        lines.append(lineno)
    return records, lines


def read_json(path: Path) -> Any:
    """A whole JSON document; a syntax error names the line it is on."""
    try:
        text = path.read_text(encoding=_ENCODING)
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), f"not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            str(path), f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None


def read_json_records(path: Path) -> list[dict[str, Any]]:
    """A JSON list of objects, or an object holding it: under `"data"` (the hub's json files), or as
    its only list-valued field."""
    data = read_json(path)
    if isinstance(data, dict):
        if isinstance(data.get("data"), list):
            data = data["data"]
        else:
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise DataFormatError(
                    str(path), "expected a list of records (or an object holding exactly one list)"
                )
            data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataFormatError(str(path), "expected a list of JSON objects")
    return data


def read_csv(path: Path, delimiter: str | None = None) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows of a CSV file (TSV for a `.tsv` suffix) keyed by the header, and their line numbers.

    A row with more or fewer fields than the header is an error naming its line, rather than a
    silently shifted or `None`-filled record.
    """
    sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    try:
        with path.open(encoding=_ENCODING, newline="") as fh:
            reader = csv.DictReader(fh, delimiter=sep)
            if not reader.fieldnames:
                raise DataFormatError(
                    str(path), "empty CSV file: the first line must name the columns", line=1
                )
            width = len(reader.fieldnames)
            try:
                for row in reader:
                    if None in row:
                        raise DataFormatError(
                            str(path),
                            f"{width + len(row[None])} fields, header has {width}",
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
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), f"not UTF-8 text ({exc.reason})") from None
    return records, lines


def read_parquet_table(path: Path) -> Any:
    """The file as a `pyarrow.Table` (column types kept, e.g. for `datasets.Dataset(table)`)."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError(
            f"Reading {path} needs pyarrow, which is not installed.",
            hint="pip install pyarrow  (or convert the file to .jsonl)",
        ) from exc
    try:
        return pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataFormatError(str(path), f"cannot read parquet: {exc}") from None


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """Rows of a parquet file as plain dicts."""
    rows: list[dict[str, Any]] = read_parquet_table(path).to_pylist()
    return rows
