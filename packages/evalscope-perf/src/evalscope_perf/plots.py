"""Sweep plots: throughput and latency percentiles against concurrency (or rate), PNG + HTML.

The HTML page is self-contained (the PNG inlined as base64 plus the comparison as a table), so it
can be mailed or attached to a ticket as one file; hence no secret may be in it: the caller passes a
title with the URL's credentials masked, and the page's text passes `evalscope.secrets.redact`.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from evalscope_perf.summary import RunSummary

__all__ = ["draw_sweep"]


def draw_sweep(runs: list[RunSummary], out_dir: Path, title: str, by_throughput: bool = False) -> list[Path]:
    """The plots against concurrency, the offered rate, or (`by_throughput`, `--sweep`) the
    measured request throughput of each run."""
    import matplotlib
    from evalscope.secrets import redact

    title = redact(title)  # drawn into the PNG, where no later pass could find it

    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    by_rate = len({r.parallel for r in runs}) == 1 and len({r.rate for r in runs}) > 1
    xlabel = "request rate (req/s)" if by_rate else "concurrency (--parallel)"
    ordered = sorted(runs, key=lambda r: r.rate if by_rate else r.parallel)
    x = [r.rate if by_rate else r.parallel for r in ordered]
    if by_throughput:
        by_rate, xlabel = True, "measured throughput (req/s)"
        ordered = sorted(runs, key=lambda r: r.request_throughput)
        x = [r.request_throughput for r in ordered]

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0][0]
    ax.plot(x, [r.request_throughput for r in ordered], "o-", label="requests/s")
    ax.set_ylabel("requests/s")
    ax2 = ax.twinx()
    ax2.plot(x, [r.output_throughput for r in ordered], "s--", color="tab:orange", label="output tokens/s")
    ax2.set_ylabel("output tokens/s")
    ax.set_title("Throughput")
    ax.legend(loc="upper left")
    ax2.legend(loc="lower right")
    for a, attr, name in (
        (axes[0][1], "ttft_ms", "TTFT"),
        (axes[1][0], "tpot_ms", "TPOT"),
        (axes[1][1], "e2el_ms", "E2E latency"),
    ):
        for p in ("p50", "p90", "p99"):
            a.plot(x, [getattr(getattr(r, attr), p) for r in ordered], "o-", label=p)
        a.plot(x, [getattr(r, attr).mean for r in ordered], "k:", label="mean")
        a.set_title(f"{name} (ms)")
        a.legend()
    for a in (axes[0][0], axes[0][1], axes[1][0], axes[1][1]):
        a.set_xlabel(xlabel)
        a.grid(alpha=0.3)
        if not by_rate and len(x) > 2 and max(x) / max(min(x), 1) >= 8:
            a.set_xscale("log", base=2)
    fig.suptitle(title)
    fig.tight_layout()
    png = out_dir / "sweep_plots.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    page = out_dir / "sweep_plots.html"
    page.write_text(redact(_html(title, png, ordered)), encoding="utf-8")
    return [png, page]


def _html(title: str, png: Path, runs: list[RunSummary]) -> str:
    img = base64.b64encode(png.read_bytes()).decode()
    cols: list[tuple[str, Any]] = [
        ("parallel", lambda r: r.parallel),
        ("rate", lambda r: "-" if r.rate <= 0 else f"{r.rate:g}"),
        ("number", lambda r: r.number),
        ("ok", lambda r: r.succeeded),
        ("failed", lambda r: r.failed),
        ("req/s", lambda r: f"{r.request_throughput:.2f}"),
        ("out tok/s", lambda r: f"{r.output_throughput:.1f}"),
        ("TTFT p50/p99 (ms)", lambda r: _pair(r.ttft_ms.p50, r.ttft_ms.p99)),
        ("TPOT p50/p99 (ms)", lambda r: _pair(r.tpot_ms.p50, r.tpot_ms.p99)),
        ("E2E p50/p99 (ms)", lambda r: _pair(r.e2el_ms.p50, r.e2el_ms.p99)),
    ]
    head = "".join(f"<th>{html.escape(c)}</th>" for c, _ in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(f(r)))}</td>" for _, f in cols) + "</tr>" for r in runs
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><img alt='sweep plots' src='data:image/png;base64,{img}'>"
        f"<table><tr>{head}</tr>{body}</table></body></html>"
    )


def _pair(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a:.1f} / {b:.1f}"
