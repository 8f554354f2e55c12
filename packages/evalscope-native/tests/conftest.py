"""Shared fixtures: the real benchmark data, and a clean environment for CLI subprocesses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from native_helpers import DATA_DIR


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches (command table, sandbox verdicts) go to the test's folder, never the user's home."""
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "evalscope-cache"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "gsm8k").is_dir():
        pytest.fail(f"real benchmark data not found at {DATA_DIR}; set EVALSCOPE_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def gsm8k_rows(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "gsm8k" / "main" / "test.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env["EVALSCOPE_DATA_DIR"] = str(data_dir)
    env["EVALSCOPE_CACHE_DIR"] = str(tmp_path / "evalscope-cache")
    env["PYTHONUNBUFFERED"] = "1"
    yield env
