"""`--runner ray` (or any runner plugin that distributes load): the `--workers` shares on other nodes.

The shares are the ones `--workers` runs as local processes (`workers.worker_jobs`); here each is
wrapped as an `evalscope.runners.LoadShare`, pickled to the runner, and run in an actor on some
node. Every request is timed there, on that node's monotonic clock; the runner sends the records
back with their times in seconds since the common start instant, and this process shifts them onto
its own clock before the usual sink (SQLite, live view, metrics), so the run has one database and
one summary whichever nodes sent the load (docs/ray.md: how the clocks are aligned).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evalscope.errors import ConfigError

from evalscope_perf.config import RunPoint
from evalscope_perf.execute import Control, PhaseTiming
from evalscope_perf.live import LiveView
from evalscope_perf.prepare import Prepared
from evalscope_perf.record import RequestRecord
from evalscope_perf.runner import Client, LoadJob, make_client, run_phase
from evalscope_perf.store import RecordStore
from evalscope_perf.workers import WorkerJob, worker_jobs

__all__ = ["RemoteShare", "run_with_runner"]

FLUSH_S = 0.1  # records travel in batches, as `--workers` sends them through its pipes


@dataclass
class RemoteShare:
    """One `WorkerJob` as an `evalscope.runners.LoadShare` (picklable; the client is made remotely)."""

    job: WorkerJob
    _client: Client | None = field(default=None, repr=False)
    _api: Any = field(default=None, repr=False)
    _stop: asyncio.Event | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"job": self.job, "_client": None, "_api": None, "_stop": None}

    def stop(self) -> None:
        """A stop rule fired on the driver (or Ctrl-C): release nothing more."""
        if self._stop is None:
            self._stop = asyncio.Event()
        self._stop.set()

    def _setup(self) -> tuple[Client, Any]:
        if self._client is None:
            from evalscope.secrets import register_secrets

            from evalscope_perf.registry import resolve_api

            register_secrets(self.job.secrets)
            self._api = resolve_api(self.job.api)(self.job.params)
            self._client = make_client(*self.job.client)
        return self._client, self._api

    async def _phase(self, load: LoadJob, emit: Callable[[list[Any]], None]) -> int:
        client, api = self._setup()
        batch: list[RequestRecord] = []

        def flush() -> None:
            if batch:
                emit(list(batch))
                batch.clear()

        async def pump() -> None:
            while True:
                await asyncio.sleep(FLUSH_S)
                flush()

        pumper = asyncio.ensure_future(pump())
        if self._stop is None:
            self._stop = asyncio.Event()
        try:
            return await run_phase(client, api, load, batch.append, self._stop)
        finally:
            pumper.cancel()
            flush()

    async def warm_up(self, emit: Callable[[list[Any]], None]) -> None:
        j = self.job
        if j.warm:
            await self._phase(
                LoadJob(j.bodies, j.warm, 0, j.warm_parallel, -1, j.seed, True, f"{j.prefix}-w"), emit
            )

    async def measure(self, emit: Callable[[list[Any]], None]) -> int:
        j = self.job
        if not j.indices:
            return 0
        seed = None if j.seed is None else j.seed + j.k
        try:
            return await self._phase(
                LoadJob(
                    j.bodies,
                    j.indices,
                    j.first_prompt,
                    j.parallel,
                    j.rate,
                    seed,
                    False,
                    j.prefix,
                    j.arrival,
                    j.burstiness,
                ),
                emit,
            )
        finally:
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()

    def rebase(self, records: list[Any], offset: float) -> list[Any]:
        for rec in records:
            rec.start += offset
            rec.end += offset
        return records


def run_with_runner(
    prep: Prepared,
    point: RunPoint,
    sink: Callable[[RequestRecord], None],
    store: RecordStore,
    view: LiveView,
    ctrl: Control | None = None,
) -> PhaseTiming:
    """The run's shares on the runner's nodes. Stop rules are watched here, on the driver: the error
    rate as records arrive, over-saturation on a clock whose origin is re-set by the first measured
    record (the measured phase starts after every share's warm-up, at an instant the runner picks)."""
    from evalscope.runners import DistributesLoad, resolve_runner

    cfg = prep.cfg
    if point.parallel < cfg.workers:
        raise ConfigError(
            f"--workers {cfg.workers} needs --parallel >= {cfg.workers} (a slot per share at least)."
        )
    _, runner = resolve_runner(cfg.runner, cfg.runner_args)
    if not isinstance(runner, DistributesLoad):
        raise ConfigError(f"the {cfg.runner} runner cannot distribute load", hint="drop --runner")
    shares = [RemoteShare(job) for job in worker_jobs(prep, point)]
    timing = PhaseTiming(time.perf_counter())

    measuring = False

    def emit(records: list[Any]) -> None:
        nonlocal measuring
        # Times arrive as seconds since the common start; this process's clock starts at `timing.start`.
        for rec in records:
            if not measuring and not rec.warmup and ctrl is not None and ctrl.guard is not None:
                measuring = True
                ctrl.guard.start = time.perf_counter() - rec.end  # the common start, on this clock
            rec.start += timing.start
            rec.end += timing.start
            sink(rec)
        store.flush()
        view.refresh()

    def should_stop() -> bool:
        if ctrl is None:
            return False
        return ctrl.interrupted or (ctrl.guard is not None and measuring and ctrl.guard.check() is not None)

    view.restart_clock()
    result = runner.run_load(shares, emit, should_stop)
    timing.abandoned = result.abandoned
    store.set_meta(
        "runner",
        {
            "name": cfg.runner,
            "shares": len(shares),
            "nodes": result.nodes,
            "start_spread_s": result.start_spread_s,
        },
    )
    return timing
