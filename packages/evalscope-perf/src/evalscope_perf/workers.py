"""`--workers N`: one load split over N client processes, merged into one run.

Why: one Python process drives one CPU core; past a few thousand streamed requests/s the client,
not the server, would set the pace. Worker k sends requests k, k+N, k+2N, ... with 1/N of the
concurrency and of the arrival rate, streams its finished records to the parent every 0.1 s
through a pipe, and the parent writes SQLite, draws the live view and computes the metrics. All
timestamps are `time.perf_counter()` (CLOCK_MONOTONIC on Linux, one clock for every process),
so records from different workers are directly comparable.

Workers warm up first, then the parent releases them together at one instant, which is the start
of the measured phase. Workers ignore SIGINT: the parent decides, sends "stop", and collects what
was measured.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from evalscope.errors import EvalScopeError

from evalscope_perf.apis.base import GenerationParams
from evalscope_perf.config import RunPoint
from evalscope_perf.execute import Control, PhaseTiming
from evalscope_perf.live import LiveView
from evalscope_perf.prepare import Prepared
from evalscope_perf.record import RequestRecord
from evalscope_perf.runner import LoadJob, make_client, run_async, run_phase, split
from evalscope_perf.store import RecordStore

__all__ = ["run_with_workers"]


@dataclass
class WorkerJob:
    k: int
    n: int
    api: str
    params: GenerationParams
    client: tuple[str, str, dict[str, str], float | None, float | None, float | None, bool]
    bodies: list[bytes]
    warm: list[int]
    indices: list[int]
    first_prompt: int
    parallel: int
    warm_parallel: int
    rate: float
    seed: int | None
    prefix: str
    secrets: list[str]  # the parent's registered secrets: this interpreter starts with none
    arrival: str = "poisson"
    burstiness: float = 1.0


def _spawn(k: int) -> tuple[Connection, subprocess.Popen[bytes]]:
    """Start `python -m evalscope_perf.workers FD` with one end of a socket pair.

    A fresh interpreter rather than multiprocessing's spawn: spawn re-imports the caller's
    `__main__`, which breaks scripts without an `if __name__ == "__main__"` guard.
    """
    ours, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalscope_perf.workers", str(theirs.fileno())], pass_fds=[theirs.fileno()]
        )
    finally:
        theirs.close()
    return Connection(ours.detach()), proc


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        job: WorkerJob = conn.recv()
        run_async(_worker(conn, job))
    except BaseException:  # report, then die: the parent shuts the others down
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        conn.close()


async def _worker(conn: Connection, job: WorkerJob) -> None:
    from evalscope.secrets import register_secrets

    from evalscope_perf.registry import resolve_api

    register_secrets(job.secrets)  # error texts are masked here, where they are made (record.finalize)
    api = resolve_api(job.api)(job.params)
    client = make_client(*job.client)
    loop = asyncio.get_running_loop()
    stop, go = asyncio.Event(), asyncio.Event()
    go_at = [0.0]

    def on_message() -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            loop.remove_reader(conn.fileno())
            stop.set()
            go.set()
            return
        if msg[0] == "go":
            go_at[0] = msg[1]
            go.set()
        elif msg[0] == "stop":
            stop.set()
            go.set()

    loop.add_reader(conn.fileno(), on_message)
    batch: list[RequestRecord] = []

    def flush() -> None:
        if batch:
            conn.send(("records", list(batch)))
            batch.clear()

    def collect(rec: RequestRecord) -> None:  # small, frequent sends: pickling never stalls long
        batch.append(rec)
        if len(batch) >= 32:
            flush()

    async def pump() -> None:
        while True:
            await asyncio.sleep(0.1)
            flush()

    pumper = asyncio.ensure_future(pump())
    abandoned = 0
    try:
        if job.warm:
            wjob = LoadJob(job.bodies, job.warm, 0, job.warm_parallel, -1, job.seed, True, f"{job.prefix}-w")
            await run_phase(client, api, wjob, collect, stop)
        flush()
        conn.send(("warm",))
        await go.wait()
        delay = go_at[0] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if not stop.is_set() and job.indices:
            seed = None if job.seed is None else job.seed + job.k
            mjob = LoadJob(
                job.bodies, job.indices, job.first_prompt, job.parallel, job.rate, seed, False, job.prefix,
                job.arrival, job.burstiness,
            )  # fmt: skip
            abandoned = await run_phase(client, api, mjob, collect, stop)
    finally:
        pumper.cancel()
        loop.remove_reader(conn.fileno())
        await client.aclose()
    flush()
    conn.send(("done", abandoned))


def worker_jobs(prep: Prepared, point: RunPoint) -> list[WorkerJob]:
    """The n shares of one run's load: share k sends requests k, k+n, ... with 1/n of the concurrency
    and of the rate (also what `--runner ray` ships to its nodes, `load_share.py`)."""
    from evalscope.secrets import known_secrets

    cfg, n = prep.cfg, prep.cfg.workers
    warm_total, prefix = cfg.warmup_count, uuid.uuid4().hex[:8]
    client = cfg.client_args()
    return [
        WorkerJob(
            k,
            n,
            cfg.api,
            prep.api.params,
            client,
            prep.bodies,
            warm=list(range(k, warm_total, n)),
            indices=list(range(k, point.number, n)),
            first_prompt=warm_total,
            parallel=split(point.parallel, n, k),
            warm_parallel=max(1, split(point.parallel, n, k)),
            rate=point.rate / n if point.rate > 0 else -1,
            seed=cfg.seed,
            prefix=f"{prefix}{k}",
            secrets=known_secrets(),
            arrival=cfg.resolved_arrival,
            burstiness=cfg.burstiness,
        )
        for k in range(n)
    ]


def run_with_workers(
    prep: Prepared,
    point: RunPoint,
    sink: Callable[[RequestRecord], None],
    store: RecordStore,
    view: LiveView,
    ctrl: Control,
) -> PhaseTiming:
    n = prep.cfg.workers
    if point.parallel < n:
        raise EvalScopeError(f"--workers {n} needs --parallel >= {n} (each worker needs one slot at least).")
    conns: dict[Connection, subprocess.Popen[bytes]] = {}
    try:
        for job in worker_jobs(prep, point):
            conn, proc = _spawn(job.k)
            conns[conn] = proc
            conn.send(job)
    except BaseException:
        for conn, proc in conns.items():
            proc.kill()
            conn.close()
        raise
    return _collect(conns, sink, store, view, ctrl)


def _collect(
    conns: dict[Connection, subprocess.Popen[bytes]],
    sink: Callable[[RequestRecord], None],
    store: RecordStore,
    view: LiveView,
    ctrl: Control,
) -> PhaseTiming:
    alive = set(conns)
    warm: set[Connection] = set()
    timing = PhaseTiming(time.perf_counter())
    stop_sent = False
    errors: list[str] = []

    def on_sigint(*_: Any) -> None:
        ctrl.interrupted = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C aborts

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        while alive:
            guard_stop = ctrl.guard is not None and ctrl.guard.check() is not None
            if (ctrl.interrupted or errors or guard_stop) and not stop_sent:
                stop_sent = True
                for c in alive:
                    _send(c, ("stop",))
            for ready in wait(list(alive), timeout=0.2):
                assert isinstance(ready, Connection)
                c = ready
                try:
                    msg = c.recv()
                except (EOFError, OSError):
                    alive.discard(c)
                    code = conns[c].poll()
                    if code not in (0, None):
                        errors.append(f"worker exited with code {code}")
                    continue
                if msg[0] == "records":
                    for rec in msg[1]:
                        sink(rec)
                elif msg[0] == "warm":
                    warm.add(c)
                    if len(warm) == len(conns):  # everyone warmed up: release them together
                        timing.start = time.perf_counter() + 0.05
                        view.restart_clock()
                        if ctrl.guard is not None:
                            ctrl.guard.start = timing.start
                        for w in alive:
                            _send(w, ("go", timing.start))
                elif msg[0] == "done":
                    timing.abandoned += int(msg[1])
                    alive.discard(c)
                elif msg[0] == "error":  # a traceback: it may quote a server's message
                    from evalscope.secrets import redact_message

                    errors.append(redact_message(str(msg[1])))
                    alive.discard(c)
            store.flush()
            view.refresh()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        for c, proc in conns.items():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            c.close()
    if errors:
        raise EvalScopeError("a --workers process failed:\n" + errors[0])
    return timing


def _send(conn: Connection, msg: tuple[Any, ...]) -> None:
    try:
        conn.send(msg)
    except OSError:
        pass


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1])))
