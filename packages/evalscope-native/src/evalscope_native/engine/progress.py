"""Progress on stderr: a rich bar on a terminal, a plain line every few seconds otherwise.

Why the plain lines: a run in CI, under `nohup`, or piped to `tee` has no terminal, and a bar would
write nothing there, so a user could not tell a slow run from a stuck one. The line says what a
log reader needs: done/total, rate, failures so far and the time left.
`EVALSCOPE_PROGRESS_INTERVAL` (seconds, default 5; 0 silences it) sets the cadence.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[..., None]  # advance(n, failed=0)


@contextmanager
def progress_bar(label: str, total: int, done: int = 0) -> Iterator[Advance]:
    if not sys.stderr.isatty():
        with _progress_lines(label, total, done) as plain:
            yield plain
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("[cyan]{task.fields[rate]}"),
        TextColumn("[red]{task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = progress.add_task(label, total=total, completed=done, rate="", failed="")
    failures = 0

    def advance(n: int, failed: int = 0) -> None:
        nonlocal failures
        failures += failed
        progress.advance(task, n)
        speed = progress.tasks[0].speed
        progress.update(
            task,
            rate=f"{speed:.1f} samples/s" if speed else "",
            failed=f"{failures} failed" if failures else "",
        )

    with progress:
        yield advance


@contextmanager
def _progress_lines(label: str, total: int, done: int) -> Iterator[Advance]:
    try:
        interval = float(os.environ.get("EVALSCOPE_PROGRESS_INTERVAL", "5"))
    except ValueError:
        interval = 5.0
    start = last = time.monotonic()
    count, failures = done, 0
    fresh = 0  # samples answered in this run (the rate excludes those reused from the cache)

    def line(final: bool = False) -> None:
        elapsed = time.monotonic() - start
        rate = fresh / elapsed if elapsed > 0 else 0.0
        left = (total - count) / rate if rate > 0 else None
        eta = "" if final or left is None else f", ETA {_clock(left)}"
        pct = 100.0 * count / total if total else 100.0
        print(
            f"{label}: {count}/{total} ({pct:.0f}%), {rate:.1f} samples/s, {failures} failed, "
            f"{_clock(elapsed)} elapsed{eta}",
            file=sys.stderr,
            flush=True,
        )

    def advance(n: int, failed: int = 0) -> None:
        nonlocal count, failures, fresh, last
        count += n
        fresh += n
        failures += failed
        now = time.monotonic()
        if interval > 0 and now - last >= interval:
            last = now
            line()

    yield advance
    if interval > 0 and fresh and time.monotonic() - start >= interval:
        line(final=True)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
