"""`run_perf_benchmark(cfg)`: the whole `evalscope perf` — one run, a sweep, or an SLA search.

Output layout (EvalScope's)::

    <outputs_dir>/<YYYYmmdd_HHMMSS>/<name>/          (no timestamp level with --no-timestamp)
        perf_config.json                            settings, secrets shown as '***'
        parallel_<p>_number_<n>[_rate_<r>]/         one folder per run
            benchmark_data.db                       every request (SQLite, written during the run)
            benchmark_summary.json                  the run's metrics (RunSummary + EvalScope's keys)
            benchmark_percentile.json               EvalScope's percentile rows
        sweep_summary.json, sweep_plots.png, sweep_plots.html      for a sweep
        sla/<run folders>, sla_summary.json                         for an SLA search

No file holds a secret: the run registers its secrets (`PerfConfig.secrets`) with
`evalscope.secrets` before anything is sent or written, and every writer masks them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evalscope_perf.config import PerfConfig, RunPoint, load_perf_config
from evalscope_perf.summary import RunSummary, SlaResult, SweepSummary, write_json

__all__ = ["PerfResult", "run_perf_benchmark"]


class PerfResult(BaseModel):
    output_dir: str
    runs: list[RunSummary] = Field(default_factory=list)
    sla: SlaResult | None = None
    interrupted: bool = False
    plots: list[str] = Field(default_factory=list)


def _output_dir(cfg: PerfConfig) -> Path:
    if cfg.no_timestamp:
        return Path(cfg.outputs_dir) / cfg.display_name
    from evalscope.run_context import choose_run_dir

    stamp = choose_run_dir(Path(cfg.outputs_dir), None)  # two runs in the same second get _1, _2
    stamp.mkdir(parents=True, exist_ok=False)
    return stamp / cfg.display_name


def run_perf_benchmark(cfg: PerfConfig | dict[str, Any] | str | Path, *, quiet: bool = False) -> PerfResult:
    """Run the stress test described by `cfg` (a PerfConfig, a dict of its fields, or a YAML/JSON file).

    Prints the tables unless `quiet`; returns every run's summary (and the SLA search, if any).
    Ctrl-C ends it early with `interrupted=True`, keeping what was measured.
    """
    from evalscope.secrets import redact_url, register_secrets

    from evalscope_perf import tables
    from evalscope_perf.execute import Control, execute_run
    from evalscope_perf.preflight import preflight
    from evalscope_perf.prepare import prepare

    cfg = load_perf_config(cfg)
    register_secrets(cfg.secrets())  # first: a test request's 401 may already quote the key
    points = cfg.run_points()
    if cfg.sla_auto_tune:
        mult = cfg.sla_number_multiplier or 2.0
        need = int(cfg.sla_upper_bound * mult)
    else:
        need = max(p.number for p in points)
    prep = prepare(cfg, need + cfg.warmup_count)
    preflight(prep)
    out = _output_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "perf_config.json", cfg.redacted())
    ctrl = Control()
    result = PerfResult(output_dir=str(out))

    def one(point: RunPoint, run_dir: Path) -> RunSummary:
        if result.runs and cfg.sleep_interval > 0:
            time.sleep(cfg.sleep_interval)  # let the server drain between runs (EvalScope's --sleep-interval)
        summary = execute_run(prep, point, run_dir, ctrl)
        result.runs.append(summary)
        if not quiet:
            tables.print_run(summary)
        return summary

    if cfg.sla_auto_tune:
        from evalscope_perf.sla import sla_search

        assert cfg.sla_params is not None
        mult = cfg.sla_number_multiplier or 2.0

        def run_probe(value: int) -> list[RunSummary]:
            if cfg.sla_variable == "parallel":
                point = RunPoint(parallel=value, number=max(1, round(value * mult)), rate=-1)
            else:
                fixed = cfg.sla_fixed_parallel or cfg.sla_upper_bound
                point = RunPoint(parallel=fixed, number=max(1, round(value * mult)), rate=float(value))
            runs = []
            for k in range(cfg.sla_num_runs):
                if ctrl.interrupted:
                    break
                runs.append(one(point, out / "sla" / f"{cfg.sla_variable}_{value}_run{k + 1}"))
            return runs

        if cfg.sla_variable == "parallel":
            start = cfg.parallel[0]
        else:
            start = int(cfg.rate[0]) if cfg.rate[0] > 0 else cfg.sla_lower_bound
        result.sla = sla_search(
            cfg.sla_params, cfg.sla_variable, start, cfg.sla_lower_bound, cfg.sla_upper_bound,
            run_probe, lambda: ctrl.interrupted,
        )  # fmt: skip
        write_json(out / "sla_summary.json", result.sla)
        if not quiet:
            tables.print_sla(result.sla)
    else:
        seen: dict[str, int] = {}
        for point in points:
            if ctrl.interrupted:
                break
            label = point.label
            seen[label] = seen.get(label, 0) + 1
            one(point, out / (label if seen[label] == 1 else f"{label}_{seen[label]}"))
        if len(points) > 1 and result.runs:
            if not quiet:
                tables.print_sweep(result.runs)
            from evalscope_perf.plots import draw_sweep

            plots = draw_sweep(result.runs, out, f"{cfg.display_name} · {redact_url(cfg.url)}")
            result.plots = [str(p) for p in plots]
            write_json(
                out / "sweep_summary.json",
                SweepSummary(name=cfg.display_name, runs=result.runs, plots=result.plots),
            )
    result.interrupted = ctrl.interrupted
    return result
