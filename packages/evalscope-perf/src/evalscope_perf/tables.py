"""Terminal tables: one run's result, a sweep's comparison, an SLA search's probes.

On a terminal the tables fit its width (100 to 160 columns). When stdout is a file or a pipe
(`evalscope perf ... > out.txt`, CI logs) there is no width to fit: rich would assume 80 columns and
wrap or cut the 15-column sweep table with "…", so the tables are printed at their natural width
instead and every header and number stays whole for whoever reads or parses the file.
"""

from __future__ import annotations

import sys
from typing import Any

from evalscope_perf.summary import Distribution, RepeatSummary, RunSummary, SlaResult

__all__ = ["print_run", "print_sla", "print_sweep"]


#: Width given to rich when stdout is not a terminal: wider than any table, so none is wrapped or cut.
FILE_WIDTH = 100_000


def _console() -> Any:
    from rich.console import Console

    if not sys.stdout.isatty():
        return Console(width=FILE_WIDTH, soft_wrap=True)
    return Console(width=max(100, min(160, Console().width)))


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rate(rate: float) -> str:
    return "closed loop" if rate <= 0 else f"{rate:g} req/s (Poisson)"


def print_run(s: RunSummary) -> None:
    from rich.table import Table

    console = _console()
    title = f"{s.name} · parallel {s.parallel} · number {s.number} · {_rate(s.rate)}"
    if s.interrupted:
        title += " · INTERRUPTED (partial)"
    head = Table(title=title, show_header=False, title_justify="left")
    head.add_column(style="bold")
    head.add_column(justify="right")
    rows: list[tuple[str, str]] = [
        ("Successful requests", f"{s.succeeded}"),
        ("Failed requests", f"{s.failed}"),
        ("Benchmark duration (s)", _f(s.duration_s)),
        ("Request throughput (req/s)", _f(s.request_throughput)),
        ("Output token throughput (tok/s)", _f(s.output_throughput)),
        ("Total token throughput (tok/s)", _f(s.total_token_throughput)),
        ("Total input / output tokens", f"{s.total_input_tokens} / {s.total_output_tokens}"),
    ]
    if s.goodput is not None:
        slos = ", ".join(f"{k} <= {v:g} ms" for k, v in s.goodput_slos_ms.items())
        rows.append((f"Goodput (req/s; {slos})", _f(s.goodput)))
    if s.abandoned:
        rows.append(("Abandoned in flight (Ctrl-C)", str(s.abandoned)))
    for k, v in rows:
        head.add_row(k, v)
    console.print(head)
    dist = Table(title="Latency and tokens (successful requests)", title_justify="left")
    dist.add_column("Metric", style="bold")
    for col in ("Mean", "P10", "P25", "P50", "P75", "P90", "P95", "P99"):
        dist.add_column(col, justify="right")
    metrics: list[tuple[str, Distribution]] = [
        ("TTFT (ms)", s.ttft_ms),
        ("TPOT (ms, excl. 1st token)", s.tpot_ms),
        ("ITL (ms)", s.itl_ms),
        ("E2E latency (ms)", s.e2el_ms),
        ("Input tokens", s.input_tokens),
        ("Output tokens", s.output_tokens),
    ]
    for name, d in metrics:
        if d.count:
            dist.add_row(
                name, *(_f(getattr(d, k)) for k in ("mean", "p10", "p25", "p50", "p75", "p90", "p95", "p99"))
            )
    console.print(dist)
    if s.token_note:
        console.print(f"[dim]Token counts: {s.token_note}[/dim]")
    if s.errors:
        errs = Table(title=f"Failed requests ({s.failed}), by error", title_justify="left")
        errs.add_column("Count", justify="right")
        errs.add_column("Error", overflow="fold")
        for e in s.errors[:10]:
            errs.add_row(str(e.count), e.error)
        console.print(errs)
    console.print(f"[dim]Saved to {s.run_dir}[/dim]")


def print_sweep(runs: list[RunSummary]) -> None:
    from rich.table import Table

    table = Table(title="Sweep comparison", title_justify="left")
    cols = ["Parallel", "Rate", "Number", "OK", "Failed", "Req/s", "Out tok/s", "Avg TTFT", "P99 TTFT",
            "Avg TPOT", "P99 TPOT", "Avg ITL", "Avg E2E", "P99 E2E", "Goodput"]  # fmt: skip
    for c in cols:
        table.add_column(c, justify="right")
    for s in runs:
        table.add_row(
            str(s.parallel), "-" if s.rate <= 0 else f"{s.rate:g}", str(s.number), str(s.succeeded), str(s.failed),
            _f(s.request_throughput), _f(s.output_throughput, 1), _f(s.ttft_ms.mean), _f(s.ttft_ms.p99),
            _f(s.tpot_ms.mean), _f(s.tpot_ms.p99), _f(s.itl_ms.mean), _f(s.e2el_ms.mean), _f(s.e2el_ms.p99),
            _f(s.goodput),
        )  # fmt: skip
    console = _console()
    console.print(table)
    console.print("[dim]Latencies in ms.[/dim]")


def print_sla(result: SlaResult) -> None:
    from rich.table import Table

    table = Table(title=f"SLA search over {result.variable}", title_justify="left")
    table.add_column(result.variable, justify="right")
    table.add_column("Pass")
    table.add_column("Failed req", justify="right")
    names = sorted({k for p in result.probes for k in p.metrics})
    for name in names:
        table.add_column(name, justify="right")
    for p in sorted(result.probes, key=lambda p: p.value):
        table.add_row(
            str(p.value),
            "yes" if p.passed else "no",
            str(p.failed_requests),
            *(_f(p.metrics.get(n)) for n in names),
        )
    console = _console()
    console.print(table)
    for group, best in zip(result.criteria, result.best, strict=True):
        cond = ", ".join(f"{k} {v}" for k, v in group.items())
        verdict = (
            f"highest {result.variable} meeting it: {best}"
            if best is not None
            else "not met even at the lower bound"
        )
        console.print(f"[bold]{cond}[/bold]: {verdict}")


def print_repeats(summaries: list[RepeatSummary]) -> None:
    """`--repeats K`: each load point's mean and 95 % interval across its repetitions."""
    from rich.table import Table

    table = Table(title="Across repetitions: mean [95 % interval]", title_justify="left")
    names = ["request_throughput", "output_throughput", "ttft_ms_mean", "tpot_ms_mean", "e2el_ms_p99"]
    table.add_column("Run")
    table.add_column("K", justify="right")
    for n in names:
        table.add_column(n, justify="right")
    for s in summaries:
        cells = []
        for n in names:
            m = s.metrics.get(n)
            cells.append("-" if m is None else f"{m.mean:.2f} [{m.ci95_low:.2f}, {m.ci95_high:.2f}]")
        table.add_row(s.label, str(s.repeats), *cells)
    _console().print(table)
