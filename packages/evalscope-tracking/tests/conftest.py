"""Fixtures: trackers kept offline and inside the test's folder, a scripted GSM8K model."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import ScriptedServer
from tracking_helpers import N_SAMPLES


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real public data (EVALSCOPE_DATA_DIR, default ../shared/data next to the checkout)."""
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("EVALSCOPE_DATA_DIR", default))


@pytest.fixture(autouse=True)
def _offline_trackers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No tracker reaches a network or the user's home: W&B offline, SwanLab offline, MLflow local."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "WANDB_API_KEY", "WANDB_PROJECT",
                 "WANDB_DIR", "SWANLAB_API_KEY", "SWANLAB_PROJECT", "SWANLAB_LOG_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("SWANLAB_MODE", raising=False)  # no key: the reporter logs offline
    home = tmp_path / "home"
    for var, sub in (("WANDB_CONFIG_DIR", "wandb-config"), ("WANDB_CACHE_DIR", "wandb-cache"),
                     ("WANDB_DATA_DIR", "wandb-data"), ("EVALSCOPE_CACHE_DIR", "evalscope-cache")):  # fmt: skip
        monkeypatch.setenv(var, str(home / sub))


@pytest.fixture(scope="session")
def gsm8k_rows(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "gsm8k" / "main" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines[:N_SAMPLES]]


@pytest.fixture(scope="module")
def gsm8k_server(gsm8k_rows: list[dict[str, Any]]) -> Iterator[ScriptedServer]:
    entries = []
    for i, row in enumerate(gsm8k_rows):
        target = row["answer"].split("####")[-1].strip()
        answer = target if i < N_SAMPLES - 1 else "123456789"
        entries.append({"contains": row["question"], "reply": f"So the answer is \\boxed{{{answer}}}."})
    config = {"model": "scripted", "entries": entries, "tokens": None}
    with ScriptedServer(config) as srv:
        yield srv
