"""The external-engine template against a toy engine: our own interpreter running a driver written here.

The toy is what a plugin writes (a settings model, `plan`, a driver, `convert`); everything else — the job
file, the engine's environment and keys, the log, secret scrubbing, failure explanations, reviews, the cached
catalogue — is the template's, and is what these tests pin.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.config import TaskConfig, load_task_config
from evalscope.engines.backend import Converted, EngineRun, ExternalEngineBackend
from evalscope.engines.env import EngineSpec
from evalscope.engines.process import EngineFailed
from evalscope.engines.results import report_from_rows
from evalscope.engines.settings import EngineSettings, check_distinct_names, data_dir_from, datasets_from
from evalscope.errors import ConfigError, DatasetNotFoundError
from evalscope.report import SampleRecord
from evalscope.run_context import RunInfo
from pydantic import BaseModel, ConfigDict

SECRET = "sk-toy-engine-secret"

DRIVER = """
import os
from pathlib import Path
from evalscope_driver import UserError, say

def run(job):
    key = os.environ["TOY_KEY_0"]
    say(f"toy engine, key {key}, data {os.environ['TOY_DATA']}, venv {os.environ.get('VIRTUAL_ENV')}")
    outputs = Path(job["work_dir"])
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / "own.log").write_text(f"the engine logs its key: {key}")
    if job["mode"] == "user-error":
        raise UserError(job["kind"], "toy has no subset 'x'")
    if job["mode"] == "crash":
        raise RuntimeError("the toy engine crashed")
    answers = {m: {d: [f"{m} answer {i}" for i in range(2)] for d in job["datasets"]} for m in job["models"]}
    failed = {"m2/ds1": "boom"} if job["mode"] == "item-failed" else {}
    return {"answers": answers, "failed": failed}

def catalogue():
    return ["toy_a", "toy_b"]
"""


class ToyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    key: str | None = None


class ToySettings(EngineSettings):
    datasets: list[str] = []
    models: list[ToyModel] = []
    mode: str = "ok"
    kind: str = "config"


class ToyBackend(ExternalEngineBackend[ToySettings, EngineRun]):
    name = "toy"
    label = "Toy"
    engine = EngineSpec(name="toy", module="pydantic", distribution="pydantic", pin="2", plugin_package="x")
    settings_model = ToySettings

    def plan(self, config: TaskConfig, settings: ToySettings) -> EngineRun:
        names = datasets_from(settings.datasets, config, key="datasets", example="[ds1]")
        models = [m.name for m in settings.models]
        check_distinct_names(models, key="models", rule="its name")
        data = data_dir_from(settings.data_dir, variables=("TOY_DATA",), what="Toy's data", backend="toy",
                             layout="toy files")  # fmt: skip
        job = {"datasets": names, "models": models, "mode": settings.mode, "kind": settings.kind}
        keys = {f"TOY_KEY_{i}": m.key for i, m in enumerate(settings.models) if m.key}
        return EngineRun(engine=self.locate(settings), job=job, model_names=models, dataset_names=names,
                         key_env=keys, env={"TOY_DATA": str(data)})  # fmt: skip

    def convert(self, prepared: EngineRun, plan: dict[str, Any]) -> Iterator[Converted]:
        for model in prepared.model_names:
            for dataset in prepared.dataset_names:
                answers = plan["answers"][model][dataset]
                records = [
                    SampleRecord(benchmark=dataset, subset="default", index=i, id=str(i), cache_key="",
                                 input=[], target="", prediction=a, predictions=[a], scores={"acc": 1.0})
                    for i, a in enumerate(answers)
                ]  # fmt: skip
                fields = self.report_fields(
                    prepared, pretty_name=dataset, benchmark_version="toy-1", row_count=2
                )
                yield Converted(report_from_rows(records, backend=self.name, dataset=dataset, model_name=model,
                                                 fields=fields), records)  # fmt: skip


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToyBackend]:
    driver = tmp_path / "toy_driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    monkeypatch.setattr(ToyBackend, "driver", driver, raising=False)
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VIRTUAL_ENV", "/our/venv")  # ours: the engine must not see it
    (tmp_path / "data").mkdir()
    yield ToyBackend()


def _config(tmp_path: Path, **eval_config: Any) -> TaskConfig:
    ec = {
        "datasets": ["ds1"],
        "models": [{"name": "m1", "key": SECRET}, {"name": "m2"}],
        "python": sys.executable,
        "data_dir": str(tmp_path / "data"),
        **eval_config,
    }
    return load_task_config({"eval_backend": "toy", "work_dir": str(tmp_path / "out"), "eval_config": ec})


def _run(backend: ToyBackend, config: TaskConfig, tmp_path: Path) -> tuple[Any, RunInfo]:
    prepared = backend.prepare(config)
    run = RunInfo(run_dir=tmp_path / "out" / "run", model_name=prepared.model_name, backend="toy")
    return backend.run(prepared, run), run


def test_a_run_files_reports_and_reviews_per_model(toy: ToyBackend, tmp_path: Path) -> None:
    reports, run = _run(toy, _config(tmp_path), tmp_path)
    assert [(r.model_name, r.dataset_name, r.backend) for r in reports] == [
        ("m1", "ds1", "toy"),
        ("m2", "ds1", "toy"),
    ]
    assert reports[0].extra == {
        "engine": "toy",
        "engine_version": reports[0].extra["engine_version"],
        "row_count": 2,
    }
    for model in ("m1", "m2"):
        lines = (run.run_dir / "reviews" / model / "ds1.jsonl").read_text().splitlines()
        assert [SampleRecord.model_validate_json(line).prediction for line in lines] == [
            f"{model} answer 0", f"{model} answer 1"
        ]  # fmt: skip
    folder = run.run_dir / "toy"
    job = json.loads((folder / "job.json").read_text())
    assert job["models"] == ["m1", "m2"] and job["work_dir"] == str(folder / "outputs")
    log = (folder / "engine.log").read_text()
    assert "toy engine, key ***" in log and "venv None" in log, "the key is masked; our venv stays ours"
    assert f"data {tmp_path / 'data'}" in log
    assert (folder / "outputs" / "own.log").read_text() == "the engine logs its key: ***"
    leaked = [p for p in run.run_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []


def test_prepare_fills_in_the_run_and_hides_keys(toy: ToyBackend, tmp_path: Path) -> None:
    prepared = toy.prepare(_config(tmp_path, timeout=5))
    assert prepared.model_name == "m1" and prepared.timeout_s == 5 and prepared.idle_timeout_s == 600
    assert prepared.key_env == {"TOY_KEY_0": SECRET} and prepared.secrets() == [SECRET]
    assert SECRET not in repr(prepared) + json.dumps(prepared.job) + json.dumps(prepared.public_config)


@pytest.mark.parametrize(("kind", "error"), [("config", ConfigError), ("data", DatasetNotFoundError)])
def test_the_drivers_verdict_on_bad_input(toy: ToyBackend, tmp_path: Path, kind: str, error: type) -> None:
    with pytest.raises(error) as err:
        _run(toy, _config(tmp_path, mode="user-error", kind=kind), tmp_path)
    assert "toy has no subset 'x'" in str(err.value) and "engine.log" in str(err.value)
    assert not (tmp_path / "out" / "run" / "reviews").exists()


def test_a_crash_shows_the_end_of_the_log(toy: ToyBackend, tmp_path: Path) -> None:
    with pytest.raises(EngineFailed) as err:
        _run(toy, _config(tmp_path, mode="crash"), tmp_path)
    text = str(err.value)
    assert "Toy exited with code 1; last lines of its log:" in text and "the toy engine crashed" in text
    assert "partial outputs under toy/; no report was written" in text
    assert not (tmp_path / "out" / "run" / "reviews").exists()
    assert (tmp_path / "out" / "run" / "toy" / "outputs" / "own.log").read_text().endswith("***")


def test_failed_items_are_named(toy: ToyBackend, tmp_path: Path) -> None:
    with pytest.raises(EngineFailed) as err:
        _run(toy, _config(tmp_path, mode="item-failed"), tmp_path)
    assert "Toy exited with code 4: m2/ds1: boom" in str(err.value)
    assert not (tmp_path / "out" / "run" / "reviews").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"modles": []}, "unknown key 'modles'. Did you mean 'models'?"),
        ({"models": [{"nme": "m"}]}, "unknown key 'models.0.nme'. Did you mean 'name'?"),
        ({"models": [{"name": "a/b"}, {"name": "a:b"}]}, "models[0] and models[1] are both named 'a:b'"),
        ({"datasets": []}, "set eval_config.datasets (e.g. [ds1]) or pass --datasets"),
        (
            {"data_dir": "/no/such/folder"},
            "Toy's data /no/such/folder (from eval_config.data_dir) does not exist",
        ),
        ({"data_dir": None}, "set eval_config.data_dir (or $TOY_DATA)"),
        ({"reuse": True}, "--use-cache <run folder>"),
        ({"timeout": 0}, "timeout: Input should be greater than 0"),
    ],
)
def test_bad_settings_name_the_fix(
    toy: ToyBackend, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        toy.prepare(_config(tmp_path, **change))
    assert expected in str(err.value)
    assert "docs/backends/toy.md" in str(err.value) or "unknown key" not in expected


def test_catalogue_is_asked_once_per_engine_version(toy: ToyBackend, tmp_path: Path) -> None:
    rows = toy.list_datasets(python=sys.executable)
    assert [r["name"] for r in rows] == ["toy_a", "toy_b"] and rows[0]["description"].startswith("Toy ")
    (cache,) = (tmp_path / "cache" / "engines").glob("toy-*-datasets.json")
    cache.write_text('["from_the_cache"]')
    assert [r["name"] for r in toy.list_datasets(python=sys.executable)] == ["from_the_cache"]


def test_data_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_DATA", str(tmp_path))
    assert (
        data_dir_from(None, variables=("TOY_DATA",), what="x", backend="toy", layout="y")
        == tmp_path.resolve()
    )
