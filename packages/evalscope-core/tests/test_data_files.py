"""The core's data file readers: every format read from a real file, every error naming file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from evalscope.data_files import (
    iter_jsonl,
    iter_lines,
    parse_json_line,
    read_csv,
    read_json,
    read_json_records,
    read_jsonl,
    read_parquet,
    read_parquet_table,
    read_records,
)
from evalscope.errors import DataFormatError, MissingDependencyError


def test_jsonl_records_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"q": "a"}\n\n  \n{"q": "b"}\r\n{"q": "c"}'
    )  # BOM, blanks, CRLF, no final newline
    records, lines = read_records(path)
    assert records == [{"q": "a"}, {"q": "b"}, {"q": "c"}]
    assert lines == [1, 4, 5]
    assert read_jsonl(path) == (records, lines)


def test_malformed_jsonl_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"q": "a"}\n\n{"q": "b",}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"invalid JSON") as exc:
        read_records(path)
    assert str(exc.value).startswith(f"{path}:3: invalid JSON")
    assert exc.value.path == str(path) and exc.value.line == 3 and exc.value.exit_code == 2


def test_a_jsonl_line_that_is_not_an_object_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"q": "a"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r":2: expected a JSON object, got list"):
        read_jsonl(path)


def test_iter_jsonl_is_lazy(tmp_path: Path) -> None:
    """A caller that needs only the first rows stops before a bad line further down."""
    path = tmp_path / "d.jsonl"
    path.write_text('{"q": 1}\n{"q": 2}\nbroken\n', encoding="utf-8")
    rows = iter_jsonl(path)
    assert next(rows) == (1, {"q": 1}) and next(rows) == (2, {"q": 2})
    with pytest.raises(DataFormatError, match=r"d\.jsonl:3: invalid JSON"):
        next(rows)


def test_text_lines_and_single_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("  first  \n\nsecond\n", encoding="utf-8")
    assert list(iter_lines(path)) == [(1, "first"), (3, "second")]
    assert parse_json_line(path, 7, '{"a": [1]}') == {"a": [1]}
    with pytest.raises(DataFormatError, match=r"prompts\.txt:7: invalid JSON"):
        parse_json_line(path, 7, "{nope")


def test_text_that_is_not_utf8_or_a_folder_is_named(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"q": "café"}\n'.encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin1\.jsonl: not UTF-8 text"):
        read_jsonl(latin)
    with pytest.raises(DataFormatError, match="is a folder; give the file itself"):
        list(iter_lines(tmp_path))


def test_json_lists_and_objects_holding_one(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([{"q": 1}, {"q": 2}]), encoding="utf-8")
    assert read_records(plain) == ([{"q": 1}, {"q": 2}], None)
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"version": "1", "rows": [{"q": 1}]}), encoding="utf-8")
    assert read_json_records(wrapped) == [{"q": 1}]
    hub = tmp_path / "hub.json"  # the hub's layout: the rows under "data", other lists beside them
    hub.write_text(json.dumps({"data": [{"q": 1}], "labels": ["a", "b"]}), encoding="utf-8")
    assert read_json_records(hub) == [{"q": 1}]


def test_bad_json_documents_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"q": 1},\n  {"q": 2\n]\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"broken\.json:4: invalid JSON"):
        read_json(broken)
    ambiguous = tmp_path / "two.json"
    ambiguous.write_text(json.dumps({"a": [{"q": 1}], "b": [{"q": 2}]}), encoding="utf-8")
    with pytest.raises(DataFormatError, match="exactly one list"):
        read_json_records(ambiguous)
    scalars = tmp_path / "scalars.json"
    scalars.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"scalars\.json: expected a list of JSON objects"):
        read_records(scalars)


def test_csv_and_tsv_rows_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('\ufeffq,a\n"two\nlines",1\nplain,""\n', encoding="utf-8")  # BOM; a quoted newline
    assert read_records(path) == ([{"q": "two\nlines", "a": "1"}, {"q": "plain", "a": ""}], [3, 4])
    tsv = tmp_path / "qrels.tsv"
    tsv.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    assert read_records(tsv) == ([{"query-id": "q1", "corpus-id": "d1", "score": "1"}], [2])
    semicolons = tmp_path / "d.txt"
    semicolons.write_text("q;a\nx;y\n", encoding="utf-8")
    assert read_csv(semicolons, delimiter=";") == ([{"q": "x", "a": "y"}], [2])


def test_ragged_csv_rows_name_their_line(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("q,a\nx,y\nx,y,z\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"extra\.csv:3: 3 fields, header has 2"):
        read_records(extra)
    short = tmp_path / "short.csv"
    short.write_text("q,a,b\nx,y\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"short\.csv:2: missing field\(s\) b"):
        read_records(short)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"empty\.csv:1: empty CSV file"):
        read_records(empty)


def test_parquet_rows_and_table(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"q": ["a", "b"], "n": [1, 2]}), path)
    assert read_records(path) == ([{"q": "a", "n": 1}, {"q": "b", "n": 2}], None)
    assert read_parquet(path) == [{"q": "a", "n": 1}, {"q": "b", "n": 2}]
    table = read_parquet_table(path)
    assert table.num_rows == 2 and str(table.schema.field("n").type) == "int64"  # types kept


def test_a_corrupt_parquet_file_is_named(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "d.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(DataFormatError, match=r"d\.parquet: cannot read parquet"):
        read_records(path)


def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow...` raise ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(MissingDependencyError) as exc:
        read_records(path)
    assert str(path) in exc.value.message and "pip install pyarrow" in (exc.value.hint or "")


def test_an_unknown_suffix_lists_the_readable_ones(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"d\.xlsx: unsupported file type '\.xlsx'; use one of \.jsonl"):
        read_records(path)


def test_importing_the_readers_imports_no_pyarrow_or_pandas() -> None:
    probe = (
        "import json, sys, evalscope.data_files, evalscope.jsonl_store; print(json.dumps(list(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert not loaded & {"pyarrow", "pandas", "numpy", "datasets"}
