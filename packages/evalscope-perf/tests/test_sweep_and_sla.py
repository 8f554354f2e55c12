"""A sweep and an SLA search, end to end against the fake model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from evalscope_perf import run_perf_benchmark
from evalscope_perf.summary import SweepSummary


def test_sweep_from_the_cli_prints_one_comparison_and_draws_plots(
    server: Any, make_cfg: Any, cli_env: dict[str, str]
) -> None:
    server.configure(ttft=0.01, itl=0.002, tokens=5)
    cfg = make_cfg()
    args = [sys.executable, "-m", "evalscope.cli.main", "perf", "--url", cfg["url"], "--model", "fake-model",
            "--dataset", "line_by_line", "--dataset-path", cfg["dataset_path"], "--outputs-dir", cfg["outputs_dir"],
            "--parallel", "1", "4", "16", "--number", "4", "16", "64", "--sleep-interval", "0", "--no-live",
            "--name", "sweep"]  # fmt: skip
    res = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("Sweep comparison") == 1
    (stamp,) = Path(cfg["outputs_dir"]).iterdir()
    out = stamp / "sweep"
    sweep = SweepSummary.model_validate_json((out / "sweep_summary.json").read_text())
    assert [(r.parallel, r.number, r.succeeded) for r in sweep.runs] == [(1, 4, 4), (4, 16, 16), (16, 64, 64)]
    for r in sweep.runs:
        assert (Path(r.run_dir) / "benchmark_data.db").is_file()
        assert json.loads((Path(r.run_dir) / "benchmark_summary.json").read_text())["succeeded"] == r.number
    png = (out / "sweep_plots.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    page = (out / "sweep_plots.html").read_text()
    assert "data:image/png;base64," in page and page.count("<tr>") == 4  # header + 3 runs
    assert json.loads((out / "perf_config.json").read_text())["parallel"] == [1, 4, 16]


def test_sla_search_finds_the_highest_concurrency_meeting_the_slo(server: Any, make_cfg: Any) -> None:
    """TTFT = 50 ms + 100 ms per request already in flight, so at concurrency p the p99 TTFT is about
    50 + 100*(p-1) ms: p99 TTFT <= 500 ms holds up to p = 5 and fails from p = 6 on (50 ms margins,
    wide enough for a shared CI machine that stalls the client for tens of ms)."""
    server.configure(ttft=0.05, ttft_per_active=0.1, itl=0.001, tokens=2)
    result = run_perf_benchmark(
        make_cfg(
            sla_auto_tune=True, sla_variable="parallel", sla_params=[{"p99_ttft": "<=500ms"}],
            parallel=2, sla_lower_bound=1, sla_upper_bound=16, sla_num_runs=1, sla_number_multiplier=4,
        ),
        quiet=True,
    )  # fmt: skip
    sla = result.sla
    assert sla is not None and sla.best == [5]
    probes = {p.value: p for p in sla.probes}
    assert probes[5].passed and not probes[6].passed
    assert set(probes) == {2, 4, 8, 6, 5}  # doubling 2 -> 4 -> 8 (fails), then bisection 6, 5
    assert all(p.passed == (v <= 5) for v, p in probes.items())
    saved = json.loads((Path(result.output_dir) / "sla_summary.json").read_text())
    assert saved["best"] == [5] and saved["criteria"] == [{"p99_ttft": "<=500ms"}]


def test_sla_search_over_rate(server: Any, make_cfg: Any) -> None:
    """Tuning the Poisson rate with a fixed concurrency: the SLO on throughput holds up to the bound."""
    server.configure(ttft=0.005, itl=0.001, tokens=2)
    result = run_perf_benchmark(
        make_cfg(
            sla_auto_tune=True, sla_variable="rate", sla_params=[{"p99_latency": "<=1s"}],
            rate=[4], sla_lower_bound=1, sla_upper_bound=16, sla_num_runs=1, sla_fixed_parallel=8,
            sla_number_multiplier=1, seed=3,
        ),
        quiet=True,
    )  # fmt: skip
    assert result.sla is not None and result.sla.best == [16]
    assert all(r.rate > 0 and r.parallel == 8 for r in result.runs)
