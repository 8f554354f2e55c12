"""What the app may serve: files under one root, and data with every secret taken out.

Two rules, applied to everything that leaves the process (HTTP responses and the exported HTML):

* **Paths.** A client names files relative to `--outputs`. `SafeRoot.resolve` refuses absolute
  paths, `..` components, NUL bytes and backslashes, then resolves symlinks and refuses anything
  whose real location is outside the root: a symlink planted in a run folder cannot reach `/etc`.
* **Data.** Configs are redacted on disk already, but a viewer must not trust that (an older
  run, another tool's folder, a key a provider echoed into an error). `scrub` drops secret-named
  keys at any depth (`evalscope.secrets.SECRET_KEY_NAMES`) and passes every string through
  `evalscope.secrets.redact_message`: registered secret values plus credential shapes (Bearer
  tokens, `user:pass@`, `?key=`, `sk-…`). Shapes are applied to model output too: a viewer shows
  text, and a masked token in a prediction costs less than a leaked one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from evalscope.secrets import SECRET_KEY_NAMES, redact, redact_shapes

__all__ = ["SafeRoot", "redact_text", "register_environment_secrets", "scrub"]


def _maybe_shape(text: str) -> bool:
    """Whether one of the five shape rules of `redact_message` can match at all: a few substring tests
    (no regex), since most strings — questions, answers — hold none of these and the index scrubs
    hundreds of thousands of them."""
    return (
        "://" in text
        or "sk-" in text
        or "Basic" in text
        or "bearer" in text.lower()
        or ("=" in text and ("?" in text or "&" in text))
    )


def register_environment_secrets() -> None:
    """Mask the keys the SDKs read from the environment wherever they appear in served text."""
    from evalscope.secrets import environment_secrets, register_secrets

    register_secrets(environment_secrets())


def redact_text(text: str) -> str:
    """Known secret values and credential shapes masked (`evalscope.secrets.redact_message`)."""
    text = redact(text)
    return redact_shapes(text) if _maybe_shape(text) else text


def scrub(value: Any) -> Any:
    """A JSON-like value with secret-named keys dropped and every string redacted.

    Non-finite floats become None: Python writes `NaN`, which a browser's `JSON.parse` rejects.
    """
    if isinstance(value, dict):
        return {
            k: scrub(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.lower() in SECRET_KEY_NAMES)
        }
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class SafeRoot:
    """The `--outputs` folder: the only tree whose files the app reads or serves."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def contains(self, path: Path) -> bool:
        """Whether `path`, symlinks resolved, lies inside the root."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return False
        return real == self.root or real.is_relative_to(self.root)

    def resolve(self, rel: str) -> Path | None:
        """The file or folder `rel` names under the root, or None when it must be refused."""
        if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/") or os.path.isabs(rel):
            return None
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            return None
        candidate = self.root.joinpath(*parts) if parts else self.root
        return candidate if self.contains(candidate) else None

    def relative(self, path: Path) -> str:
        """`path` as the POSIX path relative to the root (the ids runs and files are known by)."""
        rel = path.resolve().relative_to(self.root).as_posix()
        return "" if rel == "." else rel
