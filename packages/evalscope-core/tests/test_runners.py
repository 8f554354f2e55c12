"""Runners (`--runner`): resolved through the registry like every name; local is the default; a
distributed runner needs a backend that can be split; a missing one names its package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, MissingDependencyError, UnknownNameError
from evalscope.hookspecs import hookimpl
from evalscope.plugins import register_plugin, reset_plugins
from evalscope.runners import resolve_runner
from evalscope.specs import BackendSpec, RunnerSpec
from pydantic import BaseModel, ConfigDict

RAN: list[str] = []


class _Minimal:
    def prepare(self, config: Any) -> Any:
        RAN.append("prepare")
        return None

    def run(self, prepared: Any, run: Any) -> list[Any]:
        RAN.append("run")
        return []


class SpreadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nodes: int = 1


class _Spread:
    def __init__(self, args: SpreadArgs) -> None:
        self.args = args


class _Plugin:
    @hookimpl
    def evalscope_register_backends(self) -> list[BackendSpec]:
        return [BackendSpec(name="minimal", impl=f"{__name__}:_Minimal")]

    @hookimpl
    def evalscope_register_runners(self) -> list[RunnerSpec]:
        return [
            RunnerSpec(
                name="spread",
                impl=f"{__name__}:_Spread",
                args_model=f"{__name__}:SpreadArgs",
                distributed=True,
            )
        ]


@pytest.fixture
def plugin() -> Iterator[None]:
    reset_plugins()
    register_plugin(_Plugin(), "contract")
    RAN.clear()
    yield
    reset_plugins()


def _task(tmp_path: Path) -> dict[str, Any]:
    return {"model": "m", "datasets": ["x"], "backend": "minimal", "work_dir": str(tmp_path), "reporters": []}


def test_local_runner_is_the_default_and_runs_the_backend(plugin: None, tmp_path: Path) -> None:
    assert run_task(_task(tmp_path)) == {}
    assert RAN == ["prepare", "run"]


def test_distributed_runner_refuses_a_backend_that_cannot_be_split(plugin: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot split a run into shards"):
        run_task(_task(tmp_path), runner="spread")
    assert RAN == [] and not any(tmp_path.iterdir())  # refused before anything was prepared or written


def test_runner_names_and_args_fail_with_the_fix(plugin: None) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean.*local"):
        resolve_runner("locl")
    with pytest.raises(ConfigError, match="nodse") as err:
        resolve_runner("spread", {"nodse": 3})
    assert "nodes" in str(err.value)
    spec, runner = resolve_runner("spread", {"nodes": 3})
    assert spec.canonical_name == "contract/spread" and runner.args.nodes == 3
    with pytest.raises(ConfigError, match="takes no --runner-args"):
        resolve_runner("local", {"address": "auto"})


def test_missing_runner_plugin_names_its_package(plugin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import evalscope.distributions as d

    real = d._declarations()
    monkeypatch.setattr(d, "_declarations", lambda: {**real, "evalscope-slurm": {"runner:slurm"}})
    with pytest.raises(MissingDependencyError, match="evalscope-slurm") as err:
        resolve_runner("slurm")
    assert err.value.exit_code == 2
