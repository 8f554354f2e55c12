"""Find the interpreter of an external engine (its own virtual environment) and what it has installed.

Where an engine's dependency pins clash with ours it lives in a virtual environment of its own, made by
`scripts/install_engines.sh`, and the plugin runs that environment's interpreter. The interpreter is a
setting, looked up in this order (first hit wins):

1. the backend config key `python` (`eval_config: {python: /path/to/venv/bin/python}`);
2. the environment variable `EVALSCOPE_<ENGINE>_PYTHON`;
3. `<engines dir>/<engine>/bin/python`, the engines dir being `$EVALSCOPE_ENGINES_DIR`, else `.engines/` at the
   root of this source checkout (where `scripts/install_engines.sh` puts it);
4. the current interpreter, when the engine's package is importable here (an environment where the pins
   happen not to clash: the engine then shares ours, still run as a child process so that a crash or a
   hang cannot take our process down).

Probing an interpreter (its engine version and package folder) costs ~0.1 s: `importlib.util.find_spec`
locates the package without importing it (importing OpenCompass takes ~20 s).

It lives in the core so that each engine plugin installs alone on top of it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from evalscope.errors import MissingDependencyError

__all__ = ["EngineInstall", "EngineSpec", "candidate_pythons", "checkout_engines_dir", "find_engine", "probe"]

_PROBE = """
import importlib.metadata as m, importlib.util as u, json, sys
spec = u.find_spec(sys.argv[1])
if spec is None:
    print(json.dumps({"missing": True}))
else:
    print(json.dumps({"version": m.version(sys.argv[2]), "dir": list(spec.submodule_search_locations)[0]}))
"""


@dataclass(frozen=True)
class EngineSpec:
    """What we need to know to find one engine."""

    name: str  # folder under the engines dir, and the env-var infix: "opencompass" → EVALSCOPE_OPENCOMPASS_PYTHON
    module: str  # import name inside the engine's environment
    distribution: str  # its PyPI distribution (for the version and the install hint)
    pin: str  # the version the plugin is tested with
    plugin_package: str  # our package folder holding engine-requirements.txt

    @property
    def env_var(self) -> str:
        return f"EVALSCOPE_{self.name.upper()}_PYTHON"

    def install_hint(self) -> str:
        return (
            f"run `scripts/install_engines.sh {self.name}` in the EvalScope checkout, or make a virtual "
            f"environment, `pip install -r packages/{self.plugin_package}/engine-requirements.txt` "
            f"(or just `pip install {self.distribution}=={self.pin}`) into it and set "
            f"{self.env_var}=<venv>/bin/python"
        )


@dataclass(frozen=True)
class EngineInstall:
    """An interpreter that has the engine: where it is, which version, where the package's files are."""

    python: Path
    version: str
    package_dir: Path
    source: str  # how it was found, for messages ("eval_config.python", "$EVALSCOPE_...", ...)


_probed: dict[tuple[str, str], EngineInstall] = {}


def checkout_engines_dir() -> Path | None:
    """`.engines/` at the root of the source checkout this plugin runs from (None when installed from PyPI)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "scripts" / "install_engines.sh").is_file():
            return parent / ".engines"
    return None


def candidate_pythons(engine: EngineSpec, explicit: str | None) -> list[tuple[str, Path, bool]]:
    """Every place the interpreter may be, in lookup order: (how it was named, path, named by the user)."""
    out: list[tuple[str, Path, bool]] = []
    if explicit:
        out.append(("eval_config.python", Path(explicit).expanduser(), True))
    env = os.environ.get(engine.env_var)
    if env:
        out.append((f"${engine.env_var}", Path(env).expanduser(), True))
    engines_dir = os.environ.get("EVALSCOPE_ENGINES_DIR")
    root = Path(engines_dir).expanduser() if engines_dir else checkout_engines_dir()
    if root is not None:
        out.append((f"engines dir {root}", root / engine.name / "bin" / "python", False))
    return out


def find_engine(engine: EngineSpec, explicit: str | None = None) -> EngineInstall:
    """The engine's interpreter, probed; `MissingDependencyError` naming what to install otherwise."""
    tried: list[str] = []
    for source, python, named in candidate_pythons(engine, explicit):
        if not python.exists():
            tried.append(f"{python} ({source}: no such file)")
            if named:
                # An interpreter the user named must exist: never fall back silently to another one.
                raise MissingDependencyError(
                    f"The {engine.distribution} interpreter {python} given by {source} does not exist.",
                    hint=engine.install_hint(),
                )
            continue
        found = probe(engine, python, source)
        if found is not None:
            return found
        raise MissingDependencyError(
            f"{python} ({source}) has no `{engine.module}` package: the {engine.distribution} engine is not "
            "installed in that environment.",
            hint=engine.install_hint(),
        )
    if importlib.util.find_spec(engine.module) is not None:
        found = probe(engine, Path(sys.executable), "the current interpreter")
        if found is not None:
            return found
    raise MissingDependencyError(
        f"The {engine.distribution} engine is not installed. Looked for: "
        + ("; ".join(tried) if tried else "no engines dir")
        + f"; and `{engine.module}` is not importable here.",
        hint=engine.install_hint(),
    )


def probe(engine: EngineSpec, python: Path, source: str) -> EngineInstall | None:
    """Ask `python` for the engine's version and folder; None when the package is not installed there."""
    key = (str(python), engine.module)
    if key in _probed:
        return _probed[key]
    try:
        proc = subprocess.run(
            [str(python), "-c", _PROBE, engine.module, engine.distribution],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MissingDependencyError(
            f"Cannot run the {engine.distribution} interpreter {python} ({source}): {exc}",
            hint=engine.install_hint(),
        ) from exc
    if proc.returncode != 0:
        raise MissingDependencyError(
            f"The {engine.distribution} interpreter {python} ({source}) failed: "
            f"{(proc.stderr or proc.stdout).strip()[-500:]}",
            hint=engine.install_hint(),
        )
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if info.get("missing"):
        return None
    found = EngineInstall(
        python=python, version=str(info["version"]), package_dir=Path(info["dir"]), source=source
    )
    _probed[key] = found
    return found
