"""`evalscope --help` must stay instant: a fresh interpreter imports no heavy module for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "torch",
    "transformers",
    "datasets",
    "openai",
    "numpy",
    "pandas",
    "httpx",
    "httpx2",
    "aiohttp",
    "pyarrow",
    "pydantic",
    "pluggy",
)

PROBE = """
import sys
from evalscope.cli.main import main
try:
    main(["--help"])
except SystemExit:
    pass
import json
print("MODULES=" + json.dumps(sorted(m for m in sys.modules)))
"""


def _modules(env: dict[str, str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES="))
    assert "eval" in out.stdout and "Commands" in out.stdout
    return set(json.loads(line.removeprefix("MODULES=")))


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    _modules(env)  # the first call builds the plugin-command cache (loads the plugin manager once)
    loaded = _modules(env)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == [], f"`evalscope --help` imported {heavy}"
    assert not any(m.startswith("evalscope_native") for m in loaded)


def test_missing_plugin_command_names_the_package(tmp_path: Path) -> None:
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    # `app` belongs to a distribution of ours that is not installed in the workspace (`perf` now is).
    res = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "app", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "evalscope-app" in res.stderr
    # Not published under that name: a PyPI hint would install someone else's package.
    assert "pip install evalscope-app" not in res.stderr
    assert "not part of this source tree" in res.stderr


def test_install_hints_name_this_repository_not_pypi() -> None:
    from evalscope.distributions import install_hint, source_checkout

    root = source_checkout()
    assert root is not None and (root / "packages" / "evalscope-core").is_dir()
    hint = install_hint("evalscope-native", "local")
    assert hint == f"pip install -e '{root / 'packages' / 'evalscope-native'}[local]'"
    assert (root / "packages" / "evalscope-perf" / "pyproject.toml").is_file()
    assert str(root / "packages" / "evalscope-perf") in install_hint("evalscope-perf")


def test_version_flag() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "--version"], capture_output=True, text=True
    )
    from evalscope import __version__

    assert res.returncode == 0 and res.stdout.strip() == f"evalscope {__version__}"
