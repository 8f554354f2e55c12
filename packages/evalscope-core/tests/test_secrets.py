"""The one redaction step: known values everywhere, credential shapes in foreign text, prose untouched."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from evalscope.config import ConfigError, TaskConfig, validate_config
from evalscope.run_context import atomic_write_json, setup_run_logging
from evalscope.secrets import redact, redact_message, register_secrets, secrets_in_data, url_secrets


def test_known_values_are_masked_wherever_they_appear(tmp_path: Path) -> None:
    register_secrets(["sk-unit-known-0001", "EMPTY", "abc"])  # placeholders and short values are ignored
    assert redact("echo: Bearer sk-unit-known-0001!") == "echo: Bearer ***!"
    assert redact("EMPTY abc") == "EMPTY abc"
    path = tmp_path / "r.json"
    atomic_write_json(path, {"error": "HTTP 401: Incorrect API key provided: sk-unit-known-0001"})
    assert "sk-unit-known-0001" not in path.read_text() and "provided: ***" in path.read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJ0eXAi0123.abc", "Authorization: Bearer ***"),
        ("header 'Basic ZXZhbDpwYXNzd29yZA=='", "header 'Basic ***'"),
        ("GET https://u:p4ss@host/v1", "GET https://***@host/v1"),
        ("https://host/v1/models?key=AIza123&x=1", "https://host/v1/models?key=***&x=1"),
        ("key sk-proj-0a1b2c3d4e5f6g", "key sk-***"),
        # prose that merely looks like a credential stays as written
        ("Output token throughput (tok/s)", "Output token throughput (tok/s)"),
        ("basic arithmetic and bearer bonds", "basic arithmetic and bearer bonds"),
        ("an sk-learn-compatible estimator", "an sk-learn-compatible estimator"),
    ],
)
def test_credential_shapes_in_foreign_text(text: str, expected: str) -> None:
    assert redact_message(text) == expected


def test_secrets_are_found_in_nested_settings_and_urls() -> None:
    data = {"models": [{"path": "x", "key": "sk-nested-1"}, {"api_url": "http://u:pw-2@h/v1?key=q-3"}]}
    assert secrets_in_data(data) == ["sk-nested-1", "pw-2", "q-3"]
    assert url_secrets("http://h/v1?api-key=az-4&other=1") == ["az-4"]


def test_the_config_dump_masks_every_place_a_key_can_hide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-5")
    cfg = TaskConfig(
        model="m",
        api_url="http://bob:pw-secret-6@127.0.0.1:8000/v1?key=q-secret-7",
        api_key="sk-flag-8",
        model_args={"api_key": "sk-args-9", "api": "chat"},
    )
    dumped = str(cfg.public_dump())
    for secret in ("pw-secret-6", "q-secret-7", "sk-flag-8", "sk-args-9"):
        assert secret not in dumped
    assert "'api': 'chat'" in dumped
    assert set(cfg.secret_values()) == {
        "sk-flag-8",
        "sk-args-9",
        "pw-secret-6",
        "q-secret-7",
        "sk-from-env-5",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:8000/v1", "has no scheme; did you mean 'http://127.0.0.1:8000/v1'?"),
        ("ftp://host/v1", "must start with http:// or https://"),
        ("http:///v1", "names no host"),
    ],
)
def test_api_url_needs_http_and_a_host(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match="api_url") as info:
        validate_config({"model": "m", "api_url": url})
    assert message in str(info.value)


def test_the_run_log_masks_exception_text(tmp_path: Path) -> None:
    log_path = tmp_path / "run.log"
    handler = setup_run_logging(log_path, False, ["sk-in-a-traceback-10"])
    try:
        try:
            raise RuntimeError("server said: Bearer sk-in-a-traceback-10")
        except RuntimeError:
            logging.getLogger("evalscope.test").exception("request failed")
    finally:
        logging.getLogger("evalscope").removeHandler(handler)
        handler.close()
    text = log_path.read_text()
    assert "request failed" in text and "server said: Bearer ***" in text
    assert "sk-in-a-traceback-10" not in text
