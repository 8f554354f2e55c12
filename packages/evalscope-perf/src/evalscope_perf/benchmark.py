"""`run_perf_benchmark(cfg)`: the whole `evalscope perf` — one run, a sweep, or an SLA search.

Output layout (EvalScope's)::

    <outputs_dir>/<YYYYmmdd_HHMMSS>/<name>/          (no timestamp level with --no-timestamp)
        perf_config.json                            settings, secrets shown as '***'
        parallel_<p>_number_<n>[_rate_<r>]/         one folder per run
            benchmark_data.db                       every request (SQLite, written during the run)
            benchmark_summary.json                  the run's metrics (RunSummary + EvalScope's keys)
            benchmark_percentile.json               EvalScope's percentile rows
        sweep_summary.json, sweep_plots.png, sweep_plots.html      for a sweep (--parallel lists, --sweep N)
        repeats_summary.json                                        --repeats K: intervals per load point
        perf_report.html                                            one self-contained page of everything
        sla/<run folders>, sla_summary.json                         for an SLA search

No file holds a secret: the run registers its secrets (`PerfConfig.secrets`) with
`evalscope.secrets` before anything is sent or written, and every writer masks them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evalscope_perf.config import LOCAL_APIS, PerfConfig, RunPoint, load_perf_config
from evalscope_perf.summary import RepeatSummary, RunSummary, SlaResult, SweepSummary, write_json

__all__ = ["PerfResult", "run_perf_benchmark"]


class PerfResult(BaseModel):
    output_dir: str
    runs: list[RunSummary] = Field(default_factory=list)
    sla: SlaResult | None = None
    sweep: SweepSummary | None = None
    repeats: list[RepeatSummary] = Field(default_factory=list)
    interrupted: bool = False
    stopped_reason: str | None = None  # --max-error-rate stopped the invocation
    plots: list[str] = Field(default_factory=list)
    report: str | None = None


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
    Ctrl-C ends it early with `interrupted=True`, keeping what was measured. `--api local` /
    `local_vllm` first start a server for the checkpoint `--model` names and always stop it after.
    """
    cfg = load_perf_config(cfg)
    if cfg.api not in LOCAL_APIS:
        return _run(cfg, quiet)
    from evalscope_perf.local_server import local_server

    with local_server(cfg) as server:
        result = _run(cfg.model_copy(update={"url": server.url}), quiet)
        server.keep_log(Path(result.output_dir))
    return result


def _run(cfg: PerfConfig, quiet: bool) -> PerfResult:
    from evalscope.secrets import redact_url, register_secrets

    from evalscope_perf import tables
    from evalscope_perf.execute import Control, execute_run
    from evalscope_perf.preflight import preflight
    from evalscope_perf.prepare import prepare

    register_secrets(cfg.secrets())  # first: a test request's 401 may already quote the key
    trackers = _resolve_trackers(cfg)  # an unknown --visualizer fails before any request
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

    def one(point: RunPoint, run_dir: Path, **how: Any) -> RunSummary:
        if result.runs and cfg.sleep_interval > 0:
            time.sleep(cfg.sleep_interval)  # let the server drain between runs (EvalScope's --sleep-interval)
        summary = execute_run(prep, point, run_dir, ctrl, **how)
        result.runs.append(summary)
        if not quiet:
            tables.print_run(summary)
            if summary.stopped_reason:
                print(f"Stopped early: {summary.stopped_reason}")
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
    elif cfg.sweep:
        from evalscope_perf.sweep import run_sweep

        wall = time.perf_counter()
        sweep = run_sweep(cfg, out, one, lambda: ctrl.interrupted)
        sweep.wall_s = time.perf_counter() - wall
        _finish_sweep(cfg, out, result, sweep, quiet)
    else:
        wall = time.perf_counter()
        seen: dict[str, int] = {}
        repeated: list[list[RunSummary]] = []
        saturation = bool(cfg.stop_on_saturation)
        for point in points:
            if ctrl.interrupted or _error_stop(result.runs):
                break
            label = point.label
            seen[label] = seen.get(label, 0) + 1
            folder = label if seen[label] == 1 else f"{label}_{seen[label]}"
            if cfg.repeats == 1:
                one(point, out / folder, saturation=saturation)
                continue
            group = []
            for k in range(1, cfg.repeats + 1):
                if ctrl.interrupted or _error_stop(result.runs):
                    break
                group.append(one(point, out / f"{folder}_rep{k}", repeat=k, saturation=saturation))
            repeated.append(group)
        if repeated:
            from evalscope_perf.time_series import repeat_summary

            result.repeats = [repeat_summary(g) for g in repeated if g]
            write_json(out / "repeats_summary.json", [r.model_dump(mode="json") for r in result.repeats])
            if not quiet:
                tables.print_repeats(result.repeats)
        if len(points) > 1 and result.runs:
            from evalscope_perf.plots import draw_sweep

            plots = draw_sweep(result.runs, out, f"{cfg.display_name} · {redact_url(cfg.url)}")
            result.plots = [str(p) for p in plots]
            sweep = SweepSummary(name=cfg.display_name, runs=result.runs, plots=result.plots)
            sweep.wall_s = time.perf_counter() - wall
            result.sweep = sweep
            if not quiet:
                tables.print_sweep(result.runs)
            write_json(out / "sweep_summary.json", sweep)
    result.interrupted = ctrl.interrupted
    result.stopped_reason = next((r.stopped_reason for r in result.runs if _error_stop([r])), None)
    if cfg.report and result.runs:
        from evalscope_perf.report import write_report

        result.report = str(write_report(cfg, out, result))
        if not quiet:
            print(f"Report: {result.report}")
    if trackers and result.runs:  # experiment trackers (evalscope-tracking) get a core RunRecord
        from evalscope_perf.tracking_record import send_to_trackers

        send_to_trackers(cfg, result, trackers)
    return result


def _resolve_trackers(cfg: PerfConfig) -> list[Any]:
    """The core's reporter specs for `--visualizer` / `--wandb-api-key` / `--swanlab-api-key`."""
    if not cfg.trackers():
        return []
    from evalscope.run_record import resolve_reporters

    return resolve_reporters(cfg.trackers(), records_only=True)


def _error_stop(runs: list[RunSummary]) -> bool:
    """The last run was stopped by --max-error-rate: later runs would fail the same way."""
    return bool(runs and runs[-1].stopped_reason and runs[-1].stopped_reason.startswith("error rate"))


def _finish_sweep(cfg: PerfConfig, out: Path, result: PerfResult, sweep: SweepSummary, quiet: bool) -> None:
    from evalscope.secrets import redact_url

    from evalscope_perf import tables
    from evalscope_perf.plots import draw_sweep

    if len(result.runs) > 1:
        title = f"{cfg.display_name} · sweep · {redact_url(cfg.url)}"
        result.plots = [str(p) for p in draw_sweep(result.runs, out, title, by_throughput=True)]
    sweep.plots = result.plots
    result.sweep = sweep
    write_json(out / "sweep_summary.json", sweep)
    if not quiet:
        tables.print_sweep(result.runs)
        print(
            f"Sweep: saturation at {sweep.saturation_rate or 0:.2f} req/s (throughput run); highest "
            f"rate sustained {sweep.highest_sustained_rate or 0:.2f} req/s; wall time {sweep.wall_s:.1f} s"
        )
