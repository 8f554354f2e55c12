"""One run (one point of a sweep): warm-up, measured load, SQLite rows, summary JSON (ours and EvalScope's).

Ctrl-C (SIGINT) stops sending, drops the requests in flight, flushes every measured row to SQLite
and writes a summary marked `interrupted`; a second Ctrl-C aborts at once (rows already committed
stay in the database).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from evalscope.errors import ConfigError
from evalscope.secrets import redact_url

from evalscope_perf.config import RunPoint
from evalscope_perf.live import LiveView
from evalscope_perf.metrics import compute_metrics, fill_token_counts
from evalscope_perf.prepare import Prepared
from evalscope_perf.record import RequestRecord
from evalscope_perf.runner import LoadJob, make_client, run_async, run_phase
from evalscope_perf.stop_rules import StopRules
from evalscope_perf.store import RecordStore
from evalscope_perf.summary import RunSummary, write_json
from evalscope_perf.time_series import time_slices

__all__ = ["Control", "PhaseTiming", "execute_run", "write_run_files"]

TICK_S = 0.2  # SQLite commit and live-view period


@dataclass
class Control:
    """Shared by the runs of one `evalscope perf` invocation: set once Ctrl-C was pressed; `guard`
    holds the current run's stop rules (the load generators poll it)."""

    interrupted: bool = False
    guard: StopRules | None = None
    stop_now: Callable[[], None] | None = None  # the running load generator's stop, for a rule that fires


@dataclass
class PhaseTiming:
    start: float
    abandoned: int = 0


def execute_run(
    prep: Prepared,
    point: RunPoint,
    run_dir: Path,
    ctrl: Control,
    *,
    role: str = "",
    repeat: int = 0,
    saturation: bool = False,
) -> RunSummary:
    """One run; `saturation` arms the over-saturation stop rule (open loop only)."""
    cfg = prep.cfg
    db_path = run_dir / "benchmark_data.db"
    if db_path.exists():
        raise ConfigError(
            f"{db_path} already exists: a run never overwrites measured data.",
            hint="choose another --name or --outputs-dir, or drop --no-timestamp",
        )
    store = RecordStore(db_path, {"config": cfg.redacted(), "point": point.model_dump()})
    measured: list[RequestRecord] = []
    warm: list[RequestRecord] = []
    view = LiveView(f"evalscope perf · {cfg.display_name} · {point.label}", point.number, cfg.live)
    guard = ctrl.guard = StopRules(point.number, point.rate, cfg.max_error_rate, saturation)

    def sink(rec: RequestRecord) -> None:
        if not rec.warmup:
            measured.append(rec)
            guard.observe(rec)
            if guard.reason and ctrl.stop_now is not None:
                ctrl.stop_now()
        else:
            warm.append(rec)
        store.add(rec)
        view.observe(rec)

    started_at = datetime.now().isoformat(timespec="seconds")
    timing = PhaseTiming(time.perf_counter())
    try:
        view.start()
        if cfg.runner != "local":
            from evalscope_perf.load_share import run_with_runner

            timing = run_with_runner(prep, point, sink, store, view, ctrl)
        elif cfg.workers > 1:
            from evalscope_perf.workers import run_with_workers

            timing = run_with_workers(prep, point, sink, store, view, ctrl)
        else:
            timing = run_async(_single_process(prep, point, sink, store, view, ctrl))
    finally:
        view.stop()
        store.flush()
        ctrl.guard = ctrl.stop_now = None
    end = max((r.end for r in measured), default=timing.start)
    fill_token_counts(measured, prep.tokenizer, prep.prompt_tokens)
    store.update_tokens(measured)
    metrics = compute_metrics(measured, end - timing.start, cfg.goodput, prep.api.generates, cfg.goodput_sets)
    slices = time_slices(warm + measured, timing.start, cfg.time_slice)
    if guard.reason:
        store.set_meta("stopped_reason", guard.reason)
    summary = RunSummary(
        name=cfg.display_name,
        model=str(cfg.model),
        api=cfg.api,
        url=redact_url(cfg.url),
        dataset="prompt" if cfg.prompt is not None else cfg.dataset,
        stream=prep.api.params.stream,
        http_client=cfg.http_client,
        workers=cfg.workers,
        parallel=point.parallel,
        number=point.number,
        rate=point.rate,
        arrival=cfg.resolved_arrival if point.rate > 0 else "closed",
        burstiness=cfg.burstiness if point.rate > 0 else 1.0,
        role=role,
        repeat=repeat,
        stopped_reason=guard.reason,
        time_slices=slices,
        prefix_cache_share=prep.prefix_share(measured),
        cached_tokens_share=_cached_share(measured),
        interrupted=ctrl.interrupted,
        abandoned=timing.abandoned,
        started_at=started_at,
        warmup_requests=cfg.warmup_count,
        run_dir=str(run_dir),
        **metrics,
    )
    write_run_files(run_dir, summary, measured, prep.api.generates)
    store.set_meta("summary", summary.model_dump(mode="json"))
    store.close()
    return summary


def _cached_share(measured: list[RequestRecord]) -> float | None:
    """Server-reported cached prompt tokens / prompt tokens, over requests whose usage said so."""
    pairs = [(r.cached_tokens, r.prompt_tokens) for r in measured if r.cached_tokens is not None]
    total = sum(p or 0 for _, p in pairs)
    return sum(c for c, _ in pairs) / total if pairs and total else None


def write_run_files(
    run_dir: Path, summary: RunSummary, measured: list[RequestRecord], generates: bool
) -> None:
    """`benchmark_summary.json` (ours, then EvalScope's keys) and EvalScope's `benchmark_percentile.json`.

    EvalScope's keys sit in the same file because EvalScope's tools read that file by name; each
    side's reader ignores the other's keys.
    """
    from evalscope_perf.evalscope_format import evalscope_percentiles, evalscope_summary

    write_json(
        run_dir / "benchmark_summary.json",
        {**summary.model_dump(mode="json"), **evalscope_summary(summary, generates)},
    )
    rows = evalscope_percentiles(measured, generates)
    if rows:  # EvalScope writes no percentile file when nothing succeeded
        write_json(run_dir / "benchmark_percentile.json", rows)


def _install_sigint(loop: asyncio.AbstractEventLoop, on_first: Callable[[], None]) -> bool:
    """First Ctrl-C: stop gracefully. The handler then removes itself, so a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        return False  # signals can only be handled in the main thread (Python API from a thread)

    def handler() -> None:
        loop.remove_signal_handler(signal.SIGINT)
        on_first()

    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


async def _single_process(
    prep: Prepared,
    point: RunPoint,
    sink: Callable[[RequestRecord], None],
    store: RecordStore,
    view: LiveView,
    ctrl: Control,
) -> PhaseTiming:
    cfg = prep.cfg
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if ctrl.interrupted:
        stop.set()

    def interrupt() -> None:
        ctrl.interrupted = True
        stop.set()

    installed = _install_sigint(loop, interrupt)
    ctrl.stop_now = stop.set
    client = make_client(*cfg.client_args())

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            if ctrl.guard is not None and ctrl.guard.check():
                stop.set()  # a stop rule fired: stop sending, keep what was measured
            while store.write_slice():
                await asyncio.sleep(0)
            store.commit()
            view.refresh()

    ticker = asyncio.ensure_future(tick())
    prefix = uuid.uuid4().hex[:8]
    try:
        warm = cfg.warmup_count
        if warm and not stop.is_set():
            job = LoadJob(
                prep.bodies, list(range(warm)), 0, point.parallel, -1, cfg.seed, True, f"{prefix}-w"
            )
            await run_phase(client, prep.api, job, sink, stop)
        view.restart_clock()
        timing = PhaseTiming(time.perf_counter())
        if ctrl.guard is not None:
            ctrl.guard.restart()
        if not stop.is_set():
            job = LoadJob(
                prep.bodies,
                list(range(point.number)),
                warm,
                point.parallel,
                point.rate,
                cfg.seed,
                False,
                prefix,
                cfg.resolved_arrival,
                cfg.burstiness,
                prep.conversations,
            )
            timing.abandoned = await run_phase(client, prep.api, job, sink, stop)
        return timing
    finally:
        ticker.cancel()
        if installed:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (RuntimeError, ValueError):  # pragma: no cover - loop already closing
                pass
        await client.aclose()
