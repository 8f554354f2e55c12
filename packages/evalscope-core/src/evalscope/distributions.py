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

__all__ = ["install_hint", "source_checkout"]


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
