"""TaskConfig: the same config from a dict, YAML, JSON; unknown keys get the closest valid name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evalscope.config import TaskConfig, load_task_config
from evalscope.errors import ConfigError, DataFormatError


def test_dict_yaml_json_give_the_same_config(tmp_path: Path) -> None:
    data = {
        "model": "qwen2.5",
        "datasets": ["gsm8k", "arc"],
        "limit": 5,
        "dataset_args": {"gsm8k": {"few_shot_num": 0}},
        "generation_config": {"temperature": 0.0, "max_tokens": 64},
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data))
    a = load_task_config(data)
    b = load_task_config(tmp_path / "c.json")
    c = load_task_config(str(tmp_path / "c.yaml"))
    assert a == b == c
    assert a.dataset_args["gsm8k"].few_shot_num == 0
    assert load_task_config(a) is a


def test_unknown_top_level_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as err:
        load_task_config({"model": "m", "datsets": ["gsm8k"]})
    assert "datsets" in str(err.value) and "'datasets'" in str(err.value)
    assert err.value.exit_code == 2


def test_unknown_nested_keys_suggest_the_closest() -> None:
    with pytest.raises(ConfigError) as err:
        load_task_config({"generation_config": {"temprature": 0.5}})
    assert "'temperature'" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_task_config({"dataset_args": {"gsm8k": {"few_shot_nmu": 1}}})
    assert "'few_shot_num'" in str(err.value)


def test_evalscope_eval_backend_spelling_is_accepted() -> None:
    cfg = load_task_config({"eval_backend": "OpenCompass", "eval_config": {"datasets": ["gsm8k"]}})
    from evalscope import registry

    # No alias list in the core: each backend's spec names its spellings, matched case-insensitively.
    assert registry.backends().resolve(cfg.backend).name == "opencompass"
    assert registry.backends().resolve("RAGEval").name == "rag"
    assert registry.backends().resolve("VLMEvalKit").name == "vlmeval"


def test_api_key_is_redacted_in_public_dump() -> None:
    cfg = TaskConfig(model="m", api_key="sk-very-secret")  # type: ignore[arg-type]
    dumped = json.dumps(cfg.public_dump())
    assert "sk-very-secret" not in dumped and "***" in dumped


def test_judge_keys_in_both_spellings_suggest_the_closest_and_hide_the_key() -> None:
    """EvalScope 1.x's flat judge keys and the typed `judge` object: typos name the right key."""
    typos = [
        ({"judge_stratgy": "llm"}, "'judge_strategy'"),
        ({"judge_model_args": {"model_id": "j", "api_kye": "k"}}, "'api_key'"),
        ({"judge": {"modles": []}}, "'models'"),
        ({"judge": {"models": [{"model_id": "j"}], "contract": {"score_mapin": {}}}}, "'score_mapping'"),
    ]
    for extra, suggestion in typos:
        with pytest.raises(ConfigError) as err:
            load_task_config({"model": "m", **extra})
        assert f"Did you mean {suggestion}?" in str(err.value), str(err.value)
    judge = {"model_id": "j", "api_key": "sk-judge-1", "api_url": "http://u:pw-judge-2@host/v1?key=q-judge-3"}
    for spelling in ({"judge_model_args": judge}, {"judge": {"models": [judge]}}):
        cfg = load_task_config({"model": "m", **spelling})
        dumped = json.dumps(cfg.public_dump())
        assert cfg.judge.models[0].model_id == "j"
        for secret in ("sk-judge-1", "pw-judge-2", "q-judge-3"):
            assert secret not in dumped and secret in cfg.secret_values()


def test_secrets_inside_eval_config_are_filtered_from_the_run_log(tmp_path: Path) -> None:
    import logging

    from evalscope.run_context import setup_run_logging

    cfg = load_task_config(
        {
            "api_key": "sk-top-level",
            "eval_config": {"models": [{"path": "a", "key": "sk-model-a"}, {"path": "b", "key": "EMPTY"}]},
        }
    )
    assert cfg.secret_values() == ["sk-top-level", "sk-model-a"]
    handler = setup_run_logging(tmp_path / "run.log", False, cfg.secret_values())
    try:
        logging.getLogger("evalscope.test").info("calling with key %s and %s", "sk-model-a", "sk-top-level")
    finally:
        logging.getLogger("evalscope").removeHandler(handler)
        handler.close()
    text = (tmp_path / "run.log").read_text()
    assert "calling with key *** and ***" in text and "sk-" not in text


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: m\ndatasets: [gsm8k\nlimit: 3\n")
    with pytest.raises(DataFormatError) as err:
        load_task_config(bad)
    assert str(bad) in str(err.value) and err.value.line is not None


def test_limit_must_be_whole_or_a_fraction() -> None:
    assert load_task_config({"limit": 0.5}).limit == 0.5
    with pytest.raises(ConfigError):
        load_task_config({"limit": 2.5})
