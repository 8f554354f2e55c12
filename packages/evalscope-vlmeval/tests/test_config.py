"""Bad input to the vlmeval backend: every mistake names the key and the fix, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, DatasetNotFoundError, MissingDependencyError
from evalscope_vlmeval.testing.colour_mcq import write_colour_mcq

API = "http://127.0.0.1:9/v1/chat/completions"  # never contacted: every case fails before a request


def _task(tmp_path: Path, **eval_config: Any) -> dict[str, Any]:
    data = tmp_path / "lmu"
    write_colour_mcq(data, "ColourSquares", ["red", "blue"])
    ec: dict[str, Any] = {
        "data": ["ColourSquares"],
        "model": [{"name": "CustomAPIModel", "type": "m", "api_base": API}],
        "data_dir": str(data),
    }
    ec.update(eval_config)
    return {"eval_backend": "VLMEvalKit", "work_dir": str(tmp_path / "out"), "eval_config": ec}


def _assert_nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists(), "a rejected config must not create a run folder"


def test_backend_names(tmp_path: Path) -> None:
    from evalscope import registry

    for name in ("vlmeval", "VLMEvalKit", "vlmevalkit"):
        assert registry.backends().resolve(name).canonical_name == "vlmeval/vlmeval"


def test_unknown_key_names_the_closest(tmp_path: Path) -> None:
    task = _task(tmp_path)
    task["eval_config"]["dat"] = task["eval_config"].pop("data")
    with pytest.raises(ConfigError) as err:
        run_task(task)
    assert "unknown key 'dat'" in str(err.value) and "Did you mean 'data'" in str(err.value)
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"model": [{"name": "CustomAPIModel", "api_base": API}]}, "needs type"),
        ({"model": [{"name": "CustomAPIModel", "type": "m"}]}, "needs api_base"),
        ({"model": [{"name": "CustomAPIModel", "type": "org/m", "api_base": API}, "m"]}, "both named 'm'"),
        ({"model": [{"name": "X", "model_path": "/no/such/checkpoint"}]}, "model[0].model_path"),
        ({"model": []}, "needs a model"),
        ({"data": []}, "No datasets"),
        ({"data_dir": "/no/such/folder"}, "does not exist"),
        ({"mode": "viz"}, "mode"),
        ({"reuse": True}, "--use-cache"),
    ],
)
def test_bad_settings_name_the_fix(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_task(_task(tmp_path, **change))
    assert expected in str(err.value)
    _assert_nothing_written(tmp_path)


def test_model_id_names_one_model_only(tmp_path: Path) -> None:
    task = _task(tmp_path, model=["a", "b"])
    task["model_id"] = "mine"
    with pytest.raises(ConfigError) as err:
        run_task(task)
    assert "--model-id names one model" in str(err.value) and "abbr" in str(err.value)
    _assert_nothing_written(tmp_path)


def test_missing_tsv_suggests_the_local_names(tmp_path: Path) -> None:
    """VLMEvalKit downloads a dataset it cannot find: the backend refuses first, with the closest local name."""
    with pytest.raises(DatasetNotFoundError) as err:
        run_task(_task(tmp_path, data=["ColourSquare"]))
    text = str(err.value)
    assert str(tmp_path / "lmu" / "ColourSquare.tsv") in text and "did you mean 'ColourSquares'" in text
    assert "never downloads" in text
    _assert_nothing_written(tmp_path)


def test_missing_engine_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALSCOPE_VLMEVAL_PYTHON", raising=False)
    monkeypatch.setenv("EVALSCOPE_ENGINES_DIR", str(tmp_path / "engines"))
    with pytest.raises(MissingDependencyError) as err:
        run_task(_task(tmp_path))
    text = str(err.value)
    assert "ms-vlmeval engine is not installed" in text
    assert "scripts/install_engines.sh vlmeval" in text and "pip install ms-vlmeval==0.0.20" in text
    _assert_nothing_written(tmp_path)


@pytest.mark.engine
def test_flags_fill_in_the_model(tmp_path: Path, vlmeval_python: Path) -> None:
    """`--model/--api-url/--api-key/--datasets/--limit` make a CustomAPIModel run; the key stays in memory."""
    from evalscope.config import load_task_config
    from evalscope_vlmeval.backend import VLMEvalBackend

    write_colour_mcq(tmp_path / "lmu", "ColourSquares", ["red"])
    config = load_task_config(
        {
            "eval_backend": "VLMEvalKit",
            "model": "org/qwen-vl",
            "api_url": "http://127.0.0.1:9/v1",
            "api_key": "sk-flag-secret",
            "datasets": ["ColourSquares"],
            "limit": 3,
            "eval_config": {"data_dir": str(tmp_path / "lmu")},
        }
    )
    p = VLMEvalBackend().prepare(config)
    (model,) = p.models
    assert model.engine["name"] == "CustomAPIModel" and model.engine["type"] == "org/qwen-vl"
    assert model.engine["api_base"] == "http://127.0.0.1:9/v1/chat/completions"
    assert (
        p.model_name == model.name == "qwen-vl" and p.job["limit"] == 3 and model.api_key == "sk-flag-secret"
    )
    assert "key" not in model.engine and "sk-flag-secret" not in str(p.public_config) + str(p.job)


@pytest.mark.engine
def test_several_models_get_names_aliases_and_keys(tmp_path: Path, vlmeval_python: Path) -> None:
    """Every entry of eval_config.model is run; names come from abbr / type / name; keys stay in memory."""
    from evalscope.config import load_task_config
    from evalscope_vlmeval.backend import VLMEvalBackend

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    task = _task(
        tmp_path,
        model=[
            {"name": "CustomAPIModel", "type": "org/served:v1", "api_base": API, "key": "sk-first-secret"},
            {"name": "CustomAPIModel", "type": "other", "api_base": API, "abbr": "second"},
            {"name": "granite-docling-258M", "model_path": str(ckpt), "max_new_tokens": 8},
        ],
    )
    task["api_key"] = "sk-flag-secret"
    p = VLMEvalBackend().prepare(load_task_config(task))
    assert [m.name for m in p.models] == ["served:v1", "second", "granite-docling-258M"]
    assert [m.alias for m in p.models] == ["served_v1", "second", "granite-docling-258M"]
    assert [m.api_key for m in p.models] == ["sk-first-secret", "sk-flag-secret", None]
    assert p.model_name == "served:v1"
    assert [e["key_env"] for e in p.job["models"]] == [
        "EVALSCOPE_VLM_API_KEY_0",
        "EVALSCOPE_VLM_API_KEY_1",
        None,
    ]
    assert p.job["models"][2]["model"] == {"name": "granite-docling-258M", "model_path": str(ckpt.resolve()),
                                           "max_new_tokens": 8}  # fmt: skip
    assert "abbr" not in p.job["models"][1]["model"]
    assert "secret" not in str(p.job) + str(p.public_config)
