"""`--sweep N`: GuideLLM's sweep profile in one command.

1. **synchronous**: one request at a time (`--parallel 1`, closed loop): the service's best latency
   and the lowest useful rate;
2. **throughput**: `--parallel P` requests at once (closed loop; P = `--parallel`, 64 when it is 1):
   the most the service completes per second, its *saturation rate*;
3. **N rates** evenly between the two (open loop, `--arrival`/`--burstiness` shape the arrivals),
   each capped at `RATE_CONCURRENCY` requests in flight so the client never limits the offered load.

Each run sends `--number` requests. Over-saturation (`stop_rules`) is watched in the rate runs
unless `--no-stop-on-saturation`: the first rate the service cannot keep up with is stopped early
and the higher ones are skipped. `--max-error-rate` stops the whole sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evalscope_perf.config import PerfConfig, RunPoint
from evalscope_perf.summary import RunSummary, SweepSummary

__all__ = ["RATE_CONCURRENCY", "THROUGHPUT_PARALLEL", "run_sweep", "sweep_rates"]

THROUGHPUT_PARALLEL = 64  # the throughput run's concurrency when --parallel is left at 1
RATE_CONCURRENCY = 256  # in flight at most during a rate run (at least 4 x the throughput run's)
SUSTAINED = 0.9  # a rate is sustained when at least this share of it was completed per second


def sweep_rates(low: float, high: float, n: int) -> list[float]:
    """n rates evenly spaced strictly between the synchronous and the throughput run's rates."""
    if n <= 0 or high <= low:
        return []
    return [low + (high - low) * k / (n + 1) for k in range(1, n + 1)]


def run_sweep(
    cfg: PerfConfig,
    out: Path,
    one: Callable[..., RunSummary],
    stopped: Callable[[], bool],
) -> SweepSummary:
    """Run the sweep; `one(point, run_dir, role=..., saturation=...)` runs and records one point."""
    number = cfg.number[0]
    parallel = cfg.parallel[0] if cfg.parallel[0] > 1 else THROUGHPUT_PARALLEL
    sweep = SweepSummary(name=cfg.display_name, runs=[], profile="sweep")
    runs = sweep.runs  # the model's own list (pydantic copies a list given to it)

    def go(point: RunPoint, folder: str, role: str, saturation: bool = False) -> RunSummary | None:
        if stopped() or (runs and _error_stopped(runs[-1])):
            return None
        run = one(point, out / folder, role=role, saturation=saturation)
        runs.append(run)
        return run

    sync = go(RunPoint(parallel=1, number=number, rate=-1), "sweep_synchronous", "synchronous")
    thr = go(
        RunPoint(parallel=parallel, number=number, rate=-1), f"sweep_throughput_{parallel}", "throughput"
    )
    if sync is None or thr is None:
        return sweep
    sweep.saturation_rate = thr.request_throughput
    saturation = cfg.stop_on_saturation is not False
    cap = max(RATE_CONCURRENCY, 4 * parallel)
    for rate in sweep_rates(sync.request_throughput, thr.request_throughput, cfg.sweep):
        point = RunPoint(parallel=min(cap, number), number=number, rate=round(rate, 4))
        run = go(point, f"sweep_rate_{rate:.4g}", "rate", saturation)
        if run is None:
            break
        if run.stopped_reason:  # over-saturated: every higher rate would be too
            break
        if run.failed == 0 and run.request_throughput >= SUSTAINED * run.rate:
            sweep.highest_sustained_rate = run.rate
    return sweep


def _error_stopped(run: RunSummary) -> bool:
    return bool(run.stopped_reason and run.stopped_reason.startswith("error rate"))
