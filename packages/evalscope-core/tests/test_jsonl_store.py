"""The append-only JSONL store under the plugins' caches: resume, torn-line repair, unreadable lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from evalscope.jsonl_store import JsonlStore
from evalscope.secrets import register_secrets


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_records_survive_a_reopen_and_new_ones_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "cache.jsonl"  # the folder is created on the first append
    store = JsonlStore(path)
    assert store.loaded == 0 and len(store) == 0 and not path.exists()
    store.append({"key": "a", "value": 1})
    store.append({"key": "b", "value": 2})
    store.close()
    assert [json.loads(line)["key"] for line in _lines(path)] == ["a", "b"]

    again = JsonlStore(path)
    assert again.loaded == 2 and again.get("a") == {"key": "a", "value": 1} and "b" in again
    again.append({"key": "c", "value": 3})
    again.close()
    assert [json.loads(line)["key"] for line in _lines(path)] == ["a", "b", "c"]  # nothing rewritten
    assert JsonlStore(path).loaded == 3


def test_each_append_reaches_the_file_before_close(tmp_path: Path) -> None:
    """A SIGKILL right after an append must not lose it: the line is written, not buffered."""
    path = tmp_path / "c.jsonl"
    store = JsonlStore(path)
    store.append({"key": "k", "value": "v"})
    assert JsonlStore(path).get("k") == {"key": "k", "value": "v"}
    store.close()


def test_a_later_record_for_a_key_wins(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    store = JsonlStore(path)
    store.append({"key": "k", "value": "old"})
    store.append({"key": "k", "value": "new"})
    store.close()
    reopened = JsonlStore(path)
    assert len(reopened) == 1 and reopened.get("k") == {"key": "k", "value": "new"}


def test_a_torn_last_line_is_cut_off_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.jsonl"
    store = JsonlStore(path)
    store.append({"key": "k1", "value": 1})
    store.close()
    good = path.read_bytes()
    torn = b'{"key": "k2", "val'
    with path.open("ab") as fh:
        fh.write(torn)  # a write cut short by a crash

    with caplog.at_level(logging.WARNING):
        reopened = JsonlStore(path, logger=logging.getLogger("test.store"))
    assert reopened.get("k1") is not None and reopened.get("k2") is None
    assert path.read_bytes() == good  # the torn bytes are gone from the file
    (warning,) = [r for r in caplog.records if r.name == "test.store"]
    assert str(path) in warning.getMessage()
    assert f"{len(torn)} bytes" in warning.getMessage() and '"key": "k2"' in warning.getMessage()

    reopened.append({"key": "k2", "value": 2})  # the next line starts on a line of its own
    reopened.close()
    assert [json.loads(line)["key"] for line in _lines(path)] == ["k1", "k2"]


def test_a_file_that_is_only_a_torn_line_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"key": "half')
    assert len(JsonlStore(path)) == 0 and path.read_bytes() == b""


def test_unreadable_lines_are_skipped_and_named_by_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"key": "ok1", "reply": "a"}),
                "not json at all",
                json.dumps(["a", "list"]),
                json.dumps({"no": "key"}),
                "",
                json.dumps({"key": "bad", "reply": 3}),  # fails the caller's check
                json.dumps({"key": "ok2", "reply": "b"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        store = JsonlStore(path, check=lambda r: isinstance(r.get("reply"), str), label="judge cache")
    assert sorted(store.records) == ["ok1", "ok2"] and store.loaded == 2
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [f"{path}:{n}: unreadable judge cache line skipped" for n in (2, 3, 4, 6)]
    assert len(_lines(path)) == 7  # skipped, not deleted: only a torn last line is cut


def test_memory_only_store_writes_nothing(tmp_path: Path) -> None:
    store = JsonlStore(None)
    store.append({"key": "k", "value": 1})
    assert store.get("k") == {"key": "k", "value": 1}
    store.forget("k")
    assert store.get("k") is None and len(store) == 0
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_forget_drops_from_memory_only(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    store = JsonlStore(path)
    store.append({"key": "k", "value": 1})
    store.forget("k")
    store.close()
    assert store.get("k") is None and JsonlStore(path).get("k") == {"key": "k", "value": 1}


def test_known_secrets_never_reach_the_file(tmp_path: Path) -> None:
    secret = "sk-jsonl-store-test-0123456789"
    register_secrets([secret])
    path = tmp_path / "c.jsonl"
    store = JsonlStore(path)
    store.append({"key": "k", "output": f"the key is {secret}"})
    store.close()
    assert secret not in path.read_text(encoding="utf-8")
    assert store.get("k") == {"key": "k", "output": f"the key is {secret}"}  # memory keeps the answer


def test_a_record_needs_a_string_key(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "c.jsonl")
    with pytest.raises(TypeError, match="'key' must be a string"):
        store.append({"key": 3})
    with pytest.raises(KeyError):
        store.append({"value": 1})
    assert not (tmp_path / "c.jsonl").exists()
