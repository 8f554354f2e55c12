"""Open-loop arrival shapes (Poisson, gamma burstiness, constant), stop rules, contradictory flags.

Arrival gaps are taken from the SERVER's arrival stamps (`record_timings`: perf_counter, the clock
the client shares), so what is tested is what the service saw. Statistics are seeded; bounds are
loose where they measure time.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evalscope_perf import run_perf_benchmark
from evalscope_perf.runner import arrival_offsets
from evalscope_perf.store import read_records


def _ks_exponential(gaps: np.ndarray, rate: float) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic of `gaps` against Exp(rate), and its asymptotic p-value."""
    x = np.sort(gaps)
    n = x.size
    cdf = 1.0 - np.exp(-rate * x)
    d = float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(0, n) / n).max()))
    t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d  # Stephens' small-sample correction
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def _server_gaps(server: Any) -> np.ndarray:
    arrivals = sorted(t[0] for t in server.stats()["timings"].values())
    return np.diff(arrivals)


def test_poisson_gaps_pass_a_ks_test_against_the_exponential(server: Any, make_cfg: Any) -> None:
    server.configure(tokens=2, record_timings=True)
    rate = 25.0
    run_perf_benchmark(make_cfg(parallel=64, number=150, rate=[rate], seed=3, max_tokens=2), quiet=True)
    gaps = _server_gaps(server)
    assert gaps.size == 149
    d, p = _ks_exponential(gaps, rate)
    assert p > 0.05, f"KS D={d:.3f}, p={p:.3f}: server-side gaps are not exponential at {rate} req/s"
    # and the same test rejects a constant beat at that rate (the test has power)
    _, p_const = _ks_exponential(np.diff(arrival_offsets(150, rate, "constant", 1.0, 3)), rate)
    assert p_const < 1e-6


@pytest.mark.parametrize("burstiness", [0.25, 4.0])
def test_gamma_burstiness_sets_the_coefficient_of_variation(
    server: Any, make_cfg: Any, burstiness: float
) -> None:
    server.configure(tokens=2, record_timings=True)
    rate = 40.0
    cfg = make_cfg(parallel=64, number=120, rate=[rate], burstiness=burstiness, seed=7, max_tokens=2)
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert (run.arrival, run.burstiness, run.succeeded) == ("gamma", burstiness, 120)
    gaps = _server_gaps(server)
    cv = gaps.std() / gaps.mean()
    expected = 1 / math.sqrt(burstiness)  # gamma(shape b): CV = 1/sqrt(b); Poisson (b = 1): 1
    schedule = np.diff([0.0, *arrival_offsets(120, rate, "gamma", burstiness, 7)])
    assert abs(schedule.std() / schedule.mean() - expected) < 0.3 * expected  # the seeded draw itself
    assert abs(cv - expected) < 0.35 * expected, f"server-side CV {cv:.2f}, configured {expected:.2f}"
    assert abs(gaps.mean() - 1 / rate) < 0.4 / rate


def test_constant_arrivals_are_evenly_spaced() -> None:
    offsets = arrival_offsets(50, 20.0, "constant", 1.0, None)
    assert np.allclose(np.diff(offsets), 0.05) and offsets[0] == pytest.approx(0.05)


def test_max_error_rate_stops_the_run_and_keeps_its_rows(server: Any, make_cfg: Any) -> None:
    server.configure(tokens=2, faults={"rate": {"500": 0.5}, "per": "request"})
    cfg = make_cfg(parallel=2, number=[400, 400], max_error_rate=0.2, max_tokens=2)
    result = run_perf_benchmark(cfg, quiet=True)
    assert len(result.runs) == 1, "a run stopped by the error rate ends the sweep"
    run = result.runs[0]
    assert run.stopped_reason and run.stopped_reason.startswith("error rate")
    assert result.stopped_reason == run.stopped_reason
    assert 20 <= run.total_requests < 400 and run.failed > 0
    rows = read_records(Path(run.run_dir) / "benchmark_data.db")
    assert len(rows) == run.total_requests  # every finished request is kept


def test_an_over_saturated_open_loop_run_is_stopped(server: Any, make_cfg: Any) -> None:
    # capacity: 4 streams of 10 + 7 x 5 ms = 89 req/s; offered 250 req/s
    server.configure(tokens="max_tokens", ttft=0.01, itl=0.005, max_active=4)
    cfg = make_cfg(parallel=256, number=1000, rate=[250], stop_on_saturation=True, max_tokens=8)
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.stopped_reason and run.stopped_reason.startswith("over-saturated")
    assert 0 < run.succeeded < 1000 and run.abandoned > 0
    assert len(read_records(Path(run.run_dir) / "benchmark_data.db")) == run.total_requests


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--rate", "10", "--arrival", "constant", "--burstiness", "0.5"], "contradicts --burstiness"),
        (["--burstiness", "2"], "give a --rate"),
        (["--sweep", "3", "--rate", "5"], "--sweep picks its own rates"),
        (["--sweep", "3", "--repeats", "2"], "--repeats applies"),
        (["--tokenizer-path", "/nonexistent/tok", "--dataset", "random"], "no tokenizer.json found"),
    ],
)
def test_bad_load_flags_exit_2_with_the_fix(
    flags: list[str], message: str, tmp_path: Path, cli_env: dict[str, str], prompts_file: Path
) -> None:
    args = [sys.executable, "-m", "evalscope.cli.main", "perf", "--url", "http://127.0.0.1:9/v1"]
    args += ["--model", "m", "--dataset", "line_by_line", "--dataset-path", str(prompts_file)]
    args += ["--outputs-dir", str(tmp_path / "out"), "--no-test-connection", *flags]
    res = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert not (tmp_path / "out").exists()  # nothing written before the input is known to be good
