"""Fixtures for the vlmeval backend's tests: the real engine and a private cache folder.

Tests marked `engine` run the real VLMEvalKit in the environment `scripts/install_engines.sh` builds. When that
environment is missing they FAIL, naming the script (CI runs it); deselect them with `-m "not engine"`.
The data is made by the tests (images drawn with PIL), so no shared data folder is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evalscope.errors import MissingDependencyError


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine: runs a real external engine from scripts/install_engines.sh (fails if it is missing)",
    )


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "evalscope-cache"))
    monkeypatch.delenv("EVALSCOPE_VLMEVAL_DATA", raising=False)
    monkeypatch.delenv("LMUData", raising=False)


@pytest.fixture
def vlmeval_python() -> Iterator[Path]:
    from evalscope.engines.env import find_engine
    from evalscope_vlmeval.backend import VLMEVAL

    try:
        install = find_engine(VLMEVAL)
    except MissingDependencyError as exc:
        pytest.fail(
            f"the VLMEvalKit engine environment is missing: run scripts/install_engines.sh vlmeval ({exc})"
        )
    yield install.python
