"""`perf_report.html`: one self-contained page (no CDN, no script, images inlined) of an invocation.

It holds, per run, the headline figures, the percentile table of TTFT / TPOT / ITL / E2E latency and
token counts, and a chart of throughput and TTFT per time slice (warm-up shaded); then the sweep's
plots and table, the intervals across `--repeats`, and the SLA search. Like every file a run writes,
its text passes `evalscope.secrets.redact` (the title carries the URL with credentials masked).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope_perf.summary import Distribution, RunSummary

if TYPE_CHECKING:
    from evalscope_perf.benchmark import PerfResult
    from evalscope_perf.config import PerfConfig

__all__ = ["write_report"]

MAX_CHARTS = 24  # time-slice charts drawn (a long SLA search has hundreds of runs)
_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}h2{margin-top:2em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.warn{color:#a00}img{max-width:100%}"
)
_DISTS = (
    ("TTFT (ms)", "ttft_ms"), ("TPOT (ms)", "tpot_ms"), ("ITL (ms)", "itl_ms"), ("E2E latency (ms)", "e2el_ms"),
    ("Input tokens", "input_tokens"), ("Output tokens", "output_tokens"),
)  # fmt: skip
_STATS = ("mean", "std", "min", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "max")


def write_report(cfg: PerfConfig, out: Path, result: PerfResult) -> Path:
    from evalscope.secrets import redact, redact_url

    title = f"evalscope perf · {cfg.display_name} · {redact_url(cfg.url)}"
    parts = [f"<h1>{_e(title)}</h1>", f"<p>{len(result.runs)} run(s); outputs in {_e(str(out))}</p>"]
    if result.stopped_reason:
        parts.append(f"<p class='warn'>Stopped: {_e(result.stopped_reason)}</p>")
    if result.sweep is not None:
        parts.append(_sweep_section(result, out))
    if result.repeats:
        parts.append(_repeats_section(result))
    if result.sla is not None:
        best = ", ".join("-" if b is None else str(b) for b in result.sla.best)
        parts.append(
            f"<h2>SLA search over {_e(result.sla.variable)}</h2><p>highest passing value per group: {best}</p>"
        )
    for k, run in enumerate(result.runs):
        parts.append(_run_section(run, chart=k < MAX_CHARTS))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )
    path = out / "perf_report.html"
    path.write_text(redact(page), encoding="utf-8")
    return path


def _e(text: Any) -> str:
    return html.escape(str(text))


def _n(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _run_section(run: RunSummary, chart: bool) -> str:
    name = run.role or ("closed loop" if run.rate <= 0 else f"{run.arrival} arrivals")
    load = f"parallel {run.parallel}" + (f", rate {run.rate:g} req/s" if run.rate > 0 else "")
    rep = f", repetition {run.repeat}" if run.repeat else ""
    head = f"<h2>{_e(run.label)} ({_e(name)}{_e(rep)})</h2><p>{_e(load)}; {run.succeeded} ok, {run.failed} failed"
    head += f", {run.duration_s:.2f} s</p>"
    if run.stopped_reason:
        head += f"<p class='warn'>Stopped early: {_e(run.stopped_reason)}</p>"
    figures = [
        ["request throughput (req/s)", _n(run.request_throughput)],
        ["output throughput (tok/s)", _n(run.output_throughput)],
        ["total throughput (tok/s)", _n(run.total_token_throughput)],
    ]
    if run.goodput is not None:
        figures.append([f"goodput {run.goodput_slos_ms} (req/s)", _n(run.goodput)])
    for key, g in run.goodputs.items():
        share = "-" if g.share is None else f"{g.share:.1%}"
        figures.append([f"goodput '{key}' {g.slos_ms} (req/s, share)", f"{_n(g.goodput)} ({share})"])
    if run.prefix_cache_share is not None:
        figures.append(["prefix-cache hit share (multi-turn)", f"{run.prefix_cache_share:.1%}"])
    if run.cached_tokens_share is not None:
        figures.append(["cached prompt tokens (server)", f"{run.cached_tokens_share:.1%}"])
    rows = []
    for label, attr in _DISTS:
        d: Distribution = getattr(run, attr)
        if d.count:
            rows.append([label, *(_n(getattr(d, s)) for s in _STATS)])
    parts = [head, _table(["figure", "value"], figures)]
    if rows:
        parts.append(_table(["metric", *_STATS], rows))
    if run.errors:
        parts.append(_table(["error", "count"], [[e.error, str(e.count)] for e in run.errors]))
    if chart and len(run.time_slices) > 1:
        parts.append(f"<img alt='per time slice' src='data:image/png;base64,{_slices_png(run)}'>")
    return "".join(parts)


def _slices_png(run: RunSummary) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sl = run.time_slices
    x = [(s.t0 + s.t1) / 2 for s in sl]
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.bar(x, [s.request_throughput for s in sl], width=(sl[0].t1 - sl[0].t0) * 0.9, alpha=0.5, label="req/s")
    for s in sl:
        if s.warmup:
            ax.axvspan(s.t0, min(s.t1, 0.0) if s.t0 < 0 else s.t1, color="grey", alpha=0.15)
    ax.set_xlabel("seconds since the measured phase started (grey: warm-up)")
    ax.set_ylabel("completed req/s")
    ax2 = ax.twinx()
    ax2.plot(
        x,
        [float("nan") if s.ttft_ms_mean is None else s.ttft_ms_mean for s in sl],
        "o-",
        color="tab:red",
        label="mean TTFT (ms)",
    )
    ax2.set_ylabel("mean TTFT (ms)")
    ax.legend(loc="upper left")
    ax2.legend(loc="upper right")
    ax.set_title("Per time slice")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _sweep_section(result: PerfResult, out: Path) -> str:
    sweep = result.sweep
    assert sweep is not None
    parts = ["<h2>Sweep</h2>"]
    if sweep.profile == "sweep":
        parts.append(
            f"<p>saturation rate (throughput run): {_n(sweep.saturation_rate)} req/s; highest rate "
            f"sustained: {_n(sweep.highest_sustained_rate)} req/s; wall time {_n(sweep.wall_s, 1)} s</p>"
        )
    png = out / "sweep_plots.png"
    if png.is_file():
        parts.append(
            f"<img alt='sweep' src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'>"
        )
    rows = [
        [r.role or r.label, str(r.parallel), "-" if r.rate <= 0 else f"{r.rate:g}", str(r.succeeded), str(r.failed),
         _n(r.request_throughput), _n(r.output_throughput, 1), _n(r.ttft_ms.p50), _n(r.ttft_ms.p99),
         _n(r.tpot_ms.p50), _n(r.e2el_ms.p99), r.stopped_reason or ""]
        for r in sweep.runs
    ]  # fmt: skip
    head = ["run", "parallel", "rate", "ok", "failed", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50",
            "E2E p99", "stopped"]  # fmt: skip
    parts.append(_table(head, rows))
    return "".join(parts)


def _repeats_section(result: PerfResult) -> str:
    rows = []
    for s in result.repeats:
        for name, m in s.metrics.items():
            rows.append(
                [
                    s.label,
                    name,
                    str(s.repeats),
                    _n(m.mean),
                    _n(m.std),
                    f"[{_n(m.ci95_low)}, {_n(m.ci95_high)}]",
                ]
            )
    return "<h2>Across repetitions</h2>" + _table(
        ["run", "metric", "K", "mean", "std", "95 % interval"], rows
    )
