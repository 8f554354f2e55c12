"""`evalscope --help` must stay instant: a fresh interpreter imports no heavy module for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    "ray",
    "mlflow",
    "wandb",
    "swanlab",
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
    assert not any(m.startswith(("evalscope_native", "evalscope_app")) for m in loaded)
    assert not any(m.startswith("evalscope.testing") for m in loaded), "the scripted server is for tests only"


MISSING_COMMAND = """
import sys
import evalscope.distributions as d
# A distribution that declares `command:slurm` in its pyproject but is not in this tree or installed.
d._declarations.cache_clear()
real = d._declarations()
d._declarations = lambda: {**real, "evalscope-slurm": {"command:slurm"}}
from evalscope.cli.main import main
main(sys.argv[1:])
"""


def test_missing_plugin_command_names_the_package(tmp_path: Path) -> None:
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    res = subprocess.run(
        [sys.executable, "-c", MISSING_COMMAND, "slurm", "--address", "auto"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "evalscope-slurm" in res.stderr
    # Not published under that name: a PyPI hint would install someone else's package.
    assert "pip install evalscope-slurm" not in res.stderr
    assert "not part of this source tree" in res.stderr


def test_every_distribution_declares_what_it_provides() -> None:
    """The hint for a missing name comes from the packages' own pyproject declarations."""
    from evalscope.distributions import provider_of

    assert provider_of("backend", "OpenCompass") == "evalscope-opencompass"
    assert provider_of("backend", "vlmevalkit") == "evalscope-vlmeval"
    assert provider_of("command", "perf") == "evalscope-perf"
    assert provider_of("command", "app") == "evalscope-app"
    assert provider_of("runner", "ray") == "evalscope-ray"
    assert provider_of("backend", "no-such-engine") is None


def test_install_hints_name_this_repository_not_pypi() -> None:
    from evalscope.distributions import install_hint, source_checkout

    root = source_checkout()
    assert root is not None and (root / "packages" / "evalscope-core").is_dir()
    hint = install_hint("evalscope-native", "local")
    assert hint == f"pip install -e '{root / 'packages' / 'evalscope-native'}[local]'"
    assert (root / "packages" / "evalscope-perf" / "pyproject.toml").is_file()
    assert str(root / "packages" / "evalscope-perf") in install_hint("evalscope-perf")


def test_a_plugin_missing_one_of_our_packages_is_told_the_repository_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pip install evalscope_ray` would fetch whatever PyPI holds under that name, not our package."""
    from evalscope import registry
    from evalscope.distributions import install_hint
    from evalscope.errors import EvalScopeError

    monkeypatch.setitem(sys.modules, "evalscope_ray", None)  # as if it were not installed
    spec = registry.backends().resolve("native")
    with pytest.raises(EvalScopeError) as err:
        registry.load_impl(spec.model_copy(update={"impl": "evalscope_ray.runner:RayExecutor"}))
    assert install_hint("evalscope-ray") in err.value.hint and "packages/evalscope-ray" in err.value.hint
    assert (
        "pip install evalscope_ray" not in err.value.hint
        and "pip install evalscope-ray" not in err.value.hint
    )
    # Someone else's package keeps the plain command, by its top-level name.
    with pytest.raises(EvalScopeError) as err:
        registry.load_impl(spec.model_copy(update={"impl": "no_such_dependency_x.sub:Thing"}))
    assert "`pip install no_such_dependency_x`" in err.value.hint


def test_help_texts_name_no_unpublished_distribution() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "eval", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())  # help wraps lines
    assert "pip install evalscope" not in text and "packages/evalscope-ray" in text


def test_version_flag() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "--version"], capture_output=True, text=True
    )
    from evalscope import __version__

    assert res.returncode == 0 and res.stdout.strip() == f"evalscope {__version__}"


LIST_PROBE = """
import sys, json
from evalscope.cli.main import main
try:
    main(["list", "benchmarks"])
except SystemExit:
    pass
print("MODULES=" + json.dumps(sorted(sys.modules)))
"""


def test_list_imports_specs_not_implementations(tmp_path: Path) -> None:
    """`evalscope list` reads specs: no model client, engine, scorer, sandbox or heavy library."""
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-c", LIST_PROBE], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert "gsm8k" in out.stdout
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES="))
    loaded = set(json.loads(line.removeprefix("MODULES=")))
    heavy = sorted(m for m in loaded if m.split(".")[0] in (*HEAVY[:-2], "math_verify", "sympy", "aiohttp"))
    assert heavy == [], heavy
    assert "evalscope_native.plugin" in loaded  # the entry module was read...
    implementations = sorted(
        m
        for m in loaded
        if m.startswith(
            (
                "evalscope_native.engine",
                "evalscope_native.models",
                "evalscope_native.sandbox",
                "evalscope_native.judge",
                "evalscope_native.benchmarks.math_equivalence",
                "evalscope_native.scorers",
                "evalscope.http",
                "evalscope.engines.backend",
            )
        )
    )
    assert implementations == [], implementations  # ...but no implementation behind a spec
