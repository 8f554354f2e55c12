"""Every request's timings in SQLite (`benchmark_data.db`), written while the run goes on.

Rows are buffered and committed every ~0.2 s by the run's timer (not one transaction per request:
that would cost the client more than the request). WAL mode with `synchronous=NORMAL` makes each
commit durable against a crash of this process, so a killed run keeps everything measured up to
its last commit; a Ctrl-C flushes the rest before exiting.

Times are seconds: `start_time`/`end_time` on `time.perf_counter()`'s clock (CLOCK_MONOTONIC,
shared by all worker processes), `ttft`, `latency`, `tpot` and the JSON list `itl` relative.

Nothing secret is stored: error texts arrive masked (`record.finalize`), and every text written here
(errors, the model's output, the settings and summary in `meta`) passes `evalscope.secrets.redact`
once more, so a registered key never reaches the file, even inside a reply the model wrote.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from evalscope.secrets import redact

from evalscope_perf.record import RequestRecord

__all__ = ["RecordStore", "read_records"]

_COLUMNS = (
    "request_id TEXT, idx INTEGER, prompt_index INTEGER, warmup INTEGER, success INTEGER, status INTEGER, "
    "error TEXT, stream INTEGER, start_time REAL, end_time REAL, latency REAL, ttft REAL, tpot REAL, "
    "itl TEXT, n_chunks INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER, token_source TEXT, "
    "output TEXT"
)
_NAMES = [c.split()[0] for c in _COLUMNS.split(", ")]
_INSERT = f"INSERT INTO requests ({', '.join(_NAMES)}) VALUES ({', '.join('?' * len(_NAMES))})"


def _row(r: RequestRecord) -> tuple[Any, ...]:
    return (
        r.request_id, r.index, r.prompt_index, int(r.warmup), int(r.success), r.status,
        redact(r.error) if r.error else r.error, int(r.stream), r.start, r.end, r.latency, r.ttft, r.tpot,
        json.dumps([round(x, 7) for x in r.itl]) if len(r.itl) else None, r.n_chunks, r.prompt_tokens,
        r.completion_tokens, r.token_source or None, redact(r.text) if r.text else r.text,
    )  # fmt: skip


class RecordStore:
    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, {_COLUMNS})")
        self.db.execute("CREATE INDEX IF NOT EXISTS requests_request_id ON requests (request_id)")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, redact(json.dumps(v))) for k, v in meta.items()]
        )
        self.db.commit()
        self.pending: list[RequestRecord] = []

    def add(self, rec: RequestRecord) -> None:
        self.pending.append(rec)

    def flush(self) -> None:
        """Write and commit everything pending."""
        if not self.pending:
            return
        rows, self.pending = self._rows(self.pending), []
        self.db.executemany(_INSERT, rows)
        self.db.commit()

    @staticmethod
    def _rows(records: list[RequestRecord]) -> list[tuple[Any, ...]]:
        rows = [_row(r) for r in records]
        for r in records:  # the output text lives on in the database; memory keeps it only while a
            if r.completion_tokens is not None:  # tokenizer may still have to count it
                r.text = ""
        return rows

    def write_slice(self, n: int = 24) -> bool:
        """Insert up to `n` pending rows without committing (~10 us a row); True if more remain.

        The run's timer writes in such slices, yielding to the event loop in between, so writing
        never stalls the stamping of arriving tokens for more than a fraction of a millisecond.
        """
        if self.pending:
            part, self.pending = self.pending[:n], self.pending[n:]
            self.db.executemany(_INSERT, self._rows(part))
        return bool(self.pending)

    def commit(self) -> None:
        self.db.commit()

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, redact(json.dumps(value))))
        self.db.commit()

    def update_tokens(self, records: list[RequestRecord]) -> None:
        """Write the token counts completed after the run (tokenizer / chunk counts) and TPOT."""
        self.flush()
        rows = [
            (r.prompt_tokens, r.completion_tokens, r.token_source or None, r.tpot, r.request_id)
            for r in records
            if r.success
        ]
        self.db.executemany(
            "UPDATE requests SET prompt_tokens=?, completion_tokens=?, token_source=?, tpot=? WHERE request_id=?",
            rows,
        )
        self.db.commit()

    def close(self) -> None:
        self.flush()
        self.db.close()


def read_records(path: Path) -> list[dict[str, Any]]:
    """All rows as dicts (for tests and post-hoc analysis)."""
    db = sqlite3.connect(str(path))
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()
