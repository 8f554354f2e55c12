"""Bad input to the opencompass backend: every mistake names the key and the fix, and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, DatasetNotFoundError, MissingDependencyError, UnknownNameError

API = "http://127.0.0.1:9/v1"  # never contacted: every case fails before a request


def _task(tmp_path: Path, **eval_config: Any) -> dict[str, Any]:
    data = tmp_path / "ocdata"
    (data / "data" / "gsm8k").mkdir(parents=True, exist_ok=True)  # where OpenCompass looks for GSM8K
    ec: dict[str, Any] = {
        "datasets": ["gsm8k"],
        "models": [{"path": "m", "openai_api_base": API}],
        "data_dir": str(data),
    }
    ec.update(eval_config)
    return {"eval_backend": "OpenCompass", "work_dir": str(tmp_path / "out"), "eval_config": ec}


def _assert_nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists(), "a rejected config must not create a run folder"


def test_unknown_key_names_the_closest(tmp_path: Path) -> None:
    task = _task(tmp_path)
    task["eval_config"]["modles"] = task["eval_config"].pop("models")
    with pytest.raises(ConfigError) as err:
        run_task(task)
    assert "unknown key 'modles'" in str(err.value) and "Did you mean 'models'" in str(err.value)
    _assert_nothing_written(tmp_path)


def test_unknown_model_key_names_the_closest(tmp_path: Path) -> None:
    task = _task(tmp_path, models=[{"path": "m", "openai_api_bse": API}])
    with pytest.raises(ConfigError) as err:
        run_task(task)
    assert "models.0.openai_api_bse" in str(err.value) and "'openai_api_base'" in str(err.value)
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"models": [{"path": "m", "openai_api_base": API, "is_chat": False}]}, "is_chat: false"),
        (
            {
                "models": [
                    {"path": "a", "openai_api_base": API},
                    {"path": "b", "openai_api_base": API, "is_chat": False},
                ]
            },
            "models[1].is_chat: false",
        ),
        (
            {
                "models": [
                    {"path": "org/qwen", "openai_api_base": API},
                    {"path": "qwen", "openai_api_base": API},
                ]
            },
            "models[0] and models[1] are both named 'qwen'",
        ),
        (
            {"models": [{"path": "a", "abbr": "x", "openai_api_base": API}, {"path": "b", "abbr": "x"}]},
            "set a distinct `abbr`",
        ),
        ({"models": []}, "needs a model"),
        ({"models": [{"path": "/no/such/checkpoint"}]}, "is not a local folder"),
        ({"models": [{"path": "m", "openai_api_base": API, "meta_template": "chatml"}]}, "meta_template"),
        ({"datasets": []}, "No datasets"),
        ({"data_dir": "/no/such/folder"}, "does not exist"),
        ({"limit": "first 10"}, "slice string"),
        ({"limit": 2.5}, "whole number"),
        ({"reuse": True}, "--use-cache"),
    ],
)
def test_bad_settings_name_the_fix(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_task(_task(tmp_path, **change))
    assert expected in str(err.value)
    _assert_nothing_written(tmp_path)


def test_no_data_folder_names_the_setting(tmp_path: Path) -> None:
    task = _task(tmp_path)
    del task["eval_config"]["data_dir"]
    with pytest.raises(ConfigError) as err:
        run_task(task)
    assert "eval_config.data_dir" in str(err.value) and "never downloads" in str(err.value)


def test_missing_engine_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSCOPE_OPENCOMPASS_PYTHON", str(tmp_path / "venv" / "bin" / "python"))
    with pytest.raises(MissingDependencyError) as err:
        run_task(_task(tmp_path))
    text = str(err.value)
    assert "$EVALSCOPE_OPENCOMPASS_PYTHON" in text and "does not exist" in text
    assert "scripts/install_engines.sh opencompass" in text and "pip install opencompass==0.5.4" in text
    _assert_nothing_written(tmp_path)


def test_missing_engine_through_the_cli(tmp_path: Path) -> None:
    """No engines dir and no interpreter setting: exit code 2 and the install command, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALSCOPE_OPENCOMPASS")}
    env.update(
        {"EVALSCOPE_ENGINES_DIR": str(tmp_path / "engines"), "EVALSCOPE_CACHE_DIR": str(tmp_path / "c")}
    )
    (tmp_path / "ocdata").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "eval", "--backend", "opencompass", "--model", "m"]
        + ["--api-url", API, "--datasets", "gsm8k", "--work-dir", str(tmp_path / "out")]
        + ["--eval-config", f'{{"data_dir": "{tmp_path / "ocdata"}"}}'],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "engine is not installed" in proc.stderr and "install_engines.sh opencompass" in proc.stderr
    assert "Traceback" not in proc.stderr
    _assert_nothing_written(tmp_path)


@pytest.mark.engine
def test_unknown_dataset_did_you_mean(tmp_path: Path, opencompass_python: Path) -> None:
    with pytest.raises(UnknownNameError) as err:
        run_task(_task(tmp_path, datasets=["gsm8", "mmlu"]))
    assert "'gsm8k'" in str(err.value) and "evalscope list --backend opencompass" in str(err.value)
    _assert_nothing_written(tmp_path)


@pytest.mark.engine
def test_list_datasets_reads_the_installed_engine(tmp_path: Path, opencompass_python: Path) -> None:
    """`evalscope list --backend opencompass`: EvalScope's names present in this engine, then its configs."""
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "c"))
    proc = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "list", "--backend", "opencompass", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r["description"] for r in json.loads(proc.stdout)}
    assert rows["gsm8k"] == "EvalScope name for OpenCompass config gsm8k/gsm8k_gen_1d7fe4"
    assert rows["mmlu"].endswith("mmlu/mmlu_gen_4d595a")
    assert "agieval" not in rows, "EvalScope's agieval config is not shipped by opencompass 0.5.4"
    assert rows["gsm8k_0shot_v2_gen_a58960"] == "OpenCompass config gsm8k/gsm8k_0shot_v2_gen_a58960.py"
    assert len(rows) > 1000


@pytest.mark.engine
def test_config_file_name_and_eval_config_file(tmp_path: Path, opencompass_python: Path) -> None:
    """A dataset by OpenCompass config name, from an eval_config YAML file, resolves in prepare."""
    from evalscope.config import load_task_config
    from evalscope_opencompass.backend import OpenCompassBackend

    (tmp_path / "ocdata" / "data" / "gsm8k").mkdir(parents=True)
    ec_file = tmp_path / "oc.yaml"
    ec_file.write_text(
        f"datasets: [gsm8k_0shot_v2_gen_a58960]\ndata_dir: {tmp_path / 'ocdata'}\nlimit: 3\n",
        encoding="utf-8",
    )
    config = load_task_config(
        {"eval_backend": "OpenCompass", "model": "org/qwen", "api_url": API, "eval_config": str(ec_file)}
    )
    prepared = OpenCompassBackend().prepare(config)
    assert prepared.datasets[0].config_file.name == "gsm8k_0shot_v2_gen_a58960.py"
    assert prepared.limit == "[0:3]"
    assert prepared.model_name == "qwen" and prepared.model_names == ["qwen"]
    (model,) = prepared.models
    assert model["openai_api_base"] == API + "/chat/completions"
    assert model["key"] == "ENV", "the key travels in the environment, never in a file"


@pytest.mark.engine
def test_missing_local_data_fails_before_the_run(tmp_path: Path, opencompass_python: Path) -> None:
    """OpenCompass would download a dataset whose folder is missing: prepare refuses, naming the path."""
    data = tmp_path / "ocdata"
    (data / "data" / "gsm8k").mkdir(parents=True)  # gsm8k present, mmlu absent
    with pytest.raises(DatasetNotFoundError) as err:
        run_task(_task(tmp_path, datasets=["gsm8k", "mmlu"], data_dir=str(data)))
    assert str(data / "data" / "mmlu") in str(err.value) and "never downloads" in str(err.value)
    assert str(data / "data" / "gsm8k") not in str(err.value)
    _assert_nothing_written(tmp_path)


@pytest.mark.engine
def test_eval_config_key_stays_out_of_reports(tmp_path: Path, opencompass_python: Path) -> None:
    from evalscope.config import load_task_config
    from evalscope_opencompass.backend import OpenCompassBackend

    task = _task(tmp_path, models=[{"path": "m", "openai_api_base": API, "key": "sk-eval-config-secret"}])
    prepared = OpenCompassBackend().prepare(load_task_config(task))
    assert (
        prepared.key_env == {"OPENAI_API_KEY": "sk-eval-config-secret"} and prepared.models[0]["key"] == "ENV"
    )
    assert "sk-eval-config-secret" not in json.dumps(prepared.public_config)
    assert "sk-eval-config-secret" not in json.dumps(prepared.models)
    assert "sk-eval-config-secret" not in repr(prepared)


@pytest.mark.engine
def test_several_models_keys_travel_per_model(tmp_path: Path, opencompass_python: Path) -> None:
    """One shared key: OpenCompass's own `ENV`; different keys: one variable per model; never in the job."""
    from evalscope.config import load_task_config
    from evalscope_opencompass.backend import OpenCompassBackend

    def prepare(models: list[dict[str, Any]], **top: Any) -> Any:
        return OpenCompassBackend().prepare(load_task_config({**_task(tmp_path, models=models), **top}))

    shared = prepare(
        [{"path": "a", "openai_api_base": API}, {"path": "b", "openai_api_base": API}], api_key="sk-top"
    )
    assert [m["key"] for m in shared.models] == ["ENV", "ENV"] and shared.key_env == {
        "OPENAI_API_KEY": "sk-top"
    }
    assert shared.model_names == ["a", "b"] and shared.model_name == "a"

    local = tmp_path / "ckpt"
    local.mkdir()
    mixed = prepare(
        [
            {"path": "a", "openai_api_base": API, "key": "sk-a"},
            {"path": str(local), "is_chat": False},  # a local model has no key
            {"path": "c", "openai_api_base": API},  # falls back to the top-level key
        ],
        api_key="sk-top",
    )
    assert [m.get("key") for m in mixed.models] == [
        "ENV:EVALSCOPE_OPENCOMPASS_KEY_0",
        None,
        "ENV:EVALSCOPE_OPENCOMPASS_KEY_2",
    ]
    assert mixed.key_env == {
        "OPENAI_API_KEY": "EMPTY",
        "EVALSCOPE_OPENCOMPASS_KEY_0": "sk-a",
        "EVALSCOPE_OPENCOMPASS_KEY_2": "sk-top",
    }
    assert mixed.models[1]["type"] == "opencompass.models.HuggingFaceBaseModel"
    assert "sk-" not in json.dumps(mixed.models)


def test_task_config_dump_redacts_eval_config_keys(tmp_path: Path) -> None:
    from evalscope.config import load_task_config

    task = _task(tmp_path, models=[{"path": "m", "openai_api_base": API, "key": "sk-eval-config-secret"}])
    assert "sk-eval-config-secret" not in json.dumps(load_task_config(task).public_dump())
