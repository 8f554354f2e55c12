"""Where caches that outlive a run live: `$EVALSCOPE_CACHE_DIR/<kind>`, else the XDG cache folder.

One rule for every plugin (sandbox verdicts, judge verdicts, embeddings, engine listings, the CLI's
command table), so one variable moves them all — tests point it at a temporary folder and never
touch the user's home.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(*parts: str) -> Path:
    """`$EVALSCOPE_CACHE_DIR/<parts>`, else `$XDG_CACHE_HOME/evalscope/<parts>` (`~/.cache/...`)."""
    explicit = os.environ.get("EVALSCOPE_CACHE_DIR")
    if explicit:
        root = Path(explicit)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evalscope"
    return root.joinpath(*parts)
