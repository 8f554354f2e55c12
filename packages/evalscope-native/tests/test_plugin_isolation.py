"""A broken reporter or lifecycle hook logs an error and never kills a run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.hookspecs import hookimpl
from evalscope.plugins import register_plugin, reset_plugins
from evalscope.specs import ReporterSpec

SEEN: list[str] = []


def exploding_reporter(reports: list[Any], run: Any, config: Any) -> None:
    raise RuntimeError("reporter exploded")


def recording_reporter(reports: list[Any], run: Any, config: Any) -> None:
    SEEN.append(f"report:{reports[0].dataset_name}")


class BrokenPlugin:
    @hookimpl
    def evalscope_register_reporters(self) -> list[ReporterSpec]:
        return [
            ReporterSpec(name="boom", impl=f"{__name__}:exploding_reporter"),
            ReporterSpec(name="record", impl=f"{__name__}:recording_reporter"),
        ]

    @hookimpl
    def evalscope_on_sample_done(self, record: Any) -> None:
        raise ValueError("sample hook exploded")

    @hookimpl
    def evalscope_on_run_end(self, reports: list[Any], error: BaseException | None) -> None:
        SEEN.append(f"end:{len(reports)}:{error}")


@pytest.fixture(autouse=True)
def _plugin() -> Iterator[None]:
    reset_plugins()
    register_plugin(BrokenPlugin(), "broken")
    SEEN.clear()
    yield
    reset_plugins()


def test_broken_plugins_do_not_stop_the_run(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="evalscope"):
        reports = run_task(
            {
                "model": "mock_llm",
                "datasets": ["arc"],
                "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
                "data_dir": str(data_dir),
                "limit": 3,
                "reporters": ["boom", "record", "table"],
                "work_dir": str(tmp_path / "out"),
            }
        )
    assert reports["arc"].num_samples == 3
    assert SEEN == ["report:arc", "end:1:None"]
    assert "reporter exploded" in caplog.text and "sample hook exploded" in caplog.text
    run_dir = next((tmp_path / "out").iterdir())
    assert (run_dir / "reports" / "mock_llm" / "arc.json").is_file()
    assert "reporter exploded" in (run_dir / "logs" / "eval_log.log").read_text()
