"""The live view: a small rich panel redrawn ~4 times a second while a run goes on.

It is redrawn by the run's own timer (no refresh thread competing for the GIL with the load), keeps
running sums and a window of the latest 2,000 requests for percentiles, and is off when stdout is
not a terminal (CI logs get the final table only).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any

from evalscope_perf.record import RequestRecord

__all__ = ["LiveView"]

_WINDOW = 2000


class LiveView:
    def __init__(self, title: str, total: int, enabled: bool | None = None) -> None:
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self.title = title
        self.total = total
        self.done = self.failed = self.warm = self.tokens = 0
        self.started = time.perf_counter()
        self.ttft: deque[float] = deque(maxlen=_WINDOW)
        self.e2e: deque[float] = deque(maxlen=_WINDOW)
        self.tpot: deque[float] = deque(maxlen=_WINDOW)
        self.last_error = ""
        self._live: Any = None
        self._last_draw = 0.0

    def start(self) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.live import Live

        self._live = Live(self._render(), console=Console(), auto_refresh=False, transient=True)
        self._live.start()

    def restart_clock(self) -> None:
        """The measured phase begins (after warm-up): throughput counts from here."""
        self.started = time.perf_counter()

    def observe(self, rec: RequestRecord) -> None:
        if rec.warmup:
            self.warm += 1
            return
        self.done += 1
        if not rec.success:
            self.failed += 1
            self.last_error = rec.error or ""
            return
        self.tokens += rec.completion_tokens if rec.completion_tokens is not None else rec.n_chunks
        self.e2e.append(rec.latency)
        if rec.ttft is not None:
            self.ttft.append(rec.ttft)
        if rec.n_chunks > 1 and rec.ttft is not None:
            self.tpot.append((rec.latency - rec.ttft) / ((rec.completion_tokens or rec.n_chunks) - 1 or 1))

    def refresh(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self._live is None or (not force and now - self._last_draw < 0.24):
            return
        self._last_draw = now
        self._live.update(self._render(), refresh=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _render(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table

        elapsed = max(time.perf_counter() - self.started, 1e-9)
        ok = self.done - self.failed
        grid = Table.grid(padding=(0, 3))
        for _ in range(4):
            grid.add_column()
        pct = 100.0 * self.done / self.total if self.total else 0.0
        grid.add_row(
            f"done {self.done}/{self.total} ({pct:.0f}%)",
            f"failed {self.failed}",
            f"elapsed {elapsed:.1f}s",
            f"warm-up {self.warm}" if self.warm else "",
        )
        grid.add_row(
            f"req/s {ok / elapsed:.1f}",
            f"out tok/s {self.tokens / elapsed:.0f}",
            f"TTFT p50 {_q(self.ttft, 50)} p99 {_q(self.ttft, 99)}",
            f"TPOT p50 {_q(self.tpot, 50)}  E2E p50 {_q(self.e2e, 50)} p99 {_q(self.e2e, 99)}",
        )
        if self.last_error:
            grid.add_row(f"[red]last error: {self.last_error[:100]}[/red]", "", "", "")
        return Panel(grid, title=self.title, border_style="cyan")


def _q(values: deque[float], p: int) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    v = ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
    return f"{v * 1000:.1f}ms"
