"""Perf hands its results to the experiment-tracker reporters through the core's `RunRecord`.

No tracker is needed: an in-process plugin registers a `accepts="record"` reporter that keeps what
it gets. (evalscope-tracking's tests read real MLflow / W&B / SwanLab stores back.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.hookspecs import hookimpl
from evalscope.plugins import register_plugin, reset_plugins
from evalscope.run_record import RunRecord
from evalscope.specs import ReporterSpec

RECEIVED: list[RunRecord] = []


def keep(record: RunRecord) -> None:
    RECEIVED.append(record)


class _Spy:
    @hookimpl
    def evalscope_register_reporters(self) -> list[ReporterSpec]:
        return [ReporterSpec(name="spy", impl=f"{__name__}:keep", accepts="record")]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RunRecord]]:
    # A `--wandb-api-key` also selects the W&B reporter: where evalscope-tracking is installed it
    # must not start a real (online) W&B run from this test; without the package it logs and skips.
    monkeypatch.setitem(sys.modules, "wandb", None)
    reset_plugins()
    register_plugin(_Spy(), "spytest")
    RECEIVED.clear()
    yield RECEIVED
    reset_plugins()


def test_a_sweep_reaches_the_reporter_as_one_record(
    spy: list[RunRecord], make_cfg: Callable[..., dict[str, Any]]
) -> None:
    from evalscope_perf.benchmark import run_perf_benchmark

    key = "wandb-handoff-key-0123456789"
    result = run_perf_benchmark(
        make_cfg(parallel=[1, 2], number=[3, 3], visualizer="spy", wandb_api_key=key), quiet=True
    )
    (record,) = spy
    assert record.kind == "perf" and record.project == "perf_benchmark"
    assert [step["succeeded"] for step in record.steps] == [3, 3]
    assert record.figures["request_throughput"] == pytest.approx(result.runs[-1].request_throughput)
    assert {t.name for t in record.tables} >= {
        "runs",
        "requests/parallel_1_number_3",
        "requests/parallel_2_number_3",
    }
    # The key reaches the tracker only as a credential; the config it logs shows '***'.
    assert record.config["wandb_api_key"] == "***"
    assert record.credentials["wandb"].get_secret_value() == key
    assert key not in record.model_dump_json()
    assert Path(record.run_dir) == Path(result.output_dir)
    assert "schema_version" not in record.figures


def test_wandb_api_key_alone_selects_the_wandb_reporter() -> None:
    from evalscope_perf.config import PerfConfig

    cfg = PerfConfig(url="http://h/v1", model="m", wandb_api_key="k-1234567", swanlab_api_key="s-1234567")
    assert cfg.trackers() == ["wandb", "swanlab"]
    assert PerfConfig(
        url="http://h/v1", model="m", visualizer="tracking/wandb", wandb_api_key="k-1"
    ).trackers() == ["tracking/wandb"]
    assert {"k-1234567", "s-1234567"} <= set(cfg.secrets())
    assert cfg.redacted()["wandb_api_key"] == "***" and cfg.redacted()["swanlab_api_key"] == "***"
