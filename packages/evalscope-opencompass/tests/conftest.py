"""Fixtures for the opencompass backend's tests: the real engine, real data, a scripted model server.

Tests marked `engine` run the real OpenCompass in the environment `scripts/install_engines.sh` builds. When
that environment is missing they FAIL, naming the script (CI runs it): a silently skipped engine test would
hide a broken install. Deselect them explicitly with `-m "not engine"` where no engine is wanted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from evalscope.errors import MissingDependencyError

REPO = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR") or REPO.parent / "shared" / "data")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine: runs a real external engine from scripts/install_engines.sh (fails if it is missing)",
    )


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches go to the test's folder; no engine interpreter is named by the caller's environment."""
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "evalscope-cache"))
    monkeypatch.delenv("EVALSCOPE_OPENCOMPASS_DATA", raising=False)
    monkeypatch.delenv("COMPASS_DATA_CACHE", raising=False)


@pytest.fixture
def data_dir() -> Path:
    if not (DATA_DIR / "gsm8k").is_dir():
        pytest.fail(f"real benchmark data not found at {DATA_DIR}; set EVALSCOPE_DATA_DIR")
    return DATA_DIR


@pytest.fixture
def opencompass_python() -> Iterator[Path]:
    from evalscope.engines.env import find_engine
    from evalscope_opencompass.backend import OPENCOMPASS

    try:
        install = find_engine(OPENCOMPASS)
    except MissingDependencyError as exc:
        pytest.fail(
            f"the OpenCompass engine environment is missing: run scripts/install_engines.sh opencompass ({exc})"
        )
    yield install.python
