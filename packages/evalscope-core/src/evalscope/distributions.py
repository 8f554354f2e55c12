"""How to install one of this project's distributions: the text of every "install X" hint.

Why a module for a hint: our distributions (`evalscope-core`, `-native`, `-perf`, `-rag`, ...) are not
published on PyPI under names we own. `pip install evalscope-perf` fetches an unrelated project, and
`pip install 'evalscope[local]'` fetches the public EvalScope, so a hint naming PyPI would install
someone else's code. Until they are published, every hint names the install that works: the
package folder of this repository, found from where the core itself is installed (an editable
install from a checkout, which is what `scripts/install.sh` makes). The core is already installed
when a hint is shown, so pip resolves `evalscope-core` from the environment, not from PyPI.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["install_hint", "provider_of", "source_checkout"]


@lru_cache(maxsize=1)
def source_checkout() -> Path | None:
    """The repository root this core runs from (`<root>/packages/evalscope-core/src/evalscope`), if any."""
    here = Path(__file__).resolve()
    for root in here.parents:
        if (root / "packages" / "evalscope-core" / "pyproject.toml").is_file():
            return root
    return None


def install_hint(distribution: str, extra: str | None = None) -> str:
    """The command that installs `distribution` (optionally with an extra) next to this core.

    `install_hint("evalscope-perf")` → `pip install -e /path/to/repo/packages/evalscope-perf`.
    """
    suffix = f"[{extra}]" if extra else ""
    root = source_checkout()
    if root is not None and (root / "packages" / distribution).is_dir():
        return f"pip install -e '{root / 'packages' / distribution}{suffix}'"
    if root is not None:
        return f"{distribution} is not part of this source tree ({root}) yet"
    return (
        f"pip install '<evalscope source>/packages/{distribution}{suffix}' (from the source tree this "
        "evalscope-core came from; these distributions are not on PyPI under these names yet)"
    )


def provider_of(kind: str, name: str) -> str | None:
    """The distribution of this source tree that provides `kind:name` (`"backend"`, `"opencompass"`).

    Each distribution says what it provides in its own `pyproject.toml` (`[tool.evalscope] provides =
    ["backend:opencompass"]`), so the core keeps no list of plugins; it reads the declarations only
    when a name is missing, to say which package to install.
    """
    wanted = f"{kind}:{name}".lower()
    for dist, provided in _declarations().items():
        if wanted in provided:
            return dist
    return None


@lru_cache(maxsize=1)
def _declarations() -> dict[str, set[str]]:
    import tomllib

    root = source_checkout()
    if root is None:
        return {}
    out: dict[str, set[str]] = {}
    for pyproject in sorted((root / "packages").glob("*/pyproject.toml")):
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        provided = data.get("tool", {}).get("evalscope", {}).get("provides", [])
        name = data.get("project", {}).get("name")
        if name and isinstance(provided, list):
            out[str(name)] = {str(p).lower() for p in provided}
    return out
