"""Errors that tell the user how to fix the problem.

Every error the CLI can show derives from `EvalScopeError`; the CLI prints its message (and hint)
without a traceback and exits with `exit_code` (2 for bad input, as argparse/click do), so scripts
can tell "you asked for something wrong" from "the run failed".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "AmbiguousNameError",
    "ConfigError",
    "DataFormatError",
    "DatasetNotFoundError",
    "EvalScopeError",
    "MissingDependencyError",
    "ServiceUnreachableError",
    "UnknownNameError",
    "UsageError",
    "closest",
]


class EvalScopeError(Exception):
    """Base class: a message for the user, an optional hint naming the fix, an exit code."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(EvalScopeError):
    """The user asked for something that does not exist or is malformed (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value or key is invalid."""


class UnknownNameError(UsageError):
    """A benchmark/model/metric/backend/key name that is not registered; carries close matches."""

    def __init__(self, kind: str, name: str, candidates: Iterable[str], hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = closest(name, candidates)
        msg = f"Unknown {kind} {name!r}."
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(msg, hint)


class AmbiguousNameError(UsageError):
    """A bare name that more than one plugin registers: the user must pick `<plugin>/<name>`."""

    def __init__(self, kind: str, name: str, candidates: list[str]) -> None:
        super().__init__(
            f"The {kind} name {name!r} is registered by several plugins: {', '.join(candidates)}.",
            hint="Use the full `<plugin>/<name>` form, e.g. " + repr(candidates[0]),
        )


class DataFormatError(UsageError):
    """A dataset file that cannot be read; always names the file and, where known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        self.path = path
        self.line = line
        super().__init__(f"{where}: {message}", hint)


class DatasetNotFoundError(UsageError):
    """A dataset that is not available locally while running offline (or at all)."""


class ServiceUnreachableError(UsageError):
    """The model service cannot be reached, or does not answer the API, before the run (exit code 2)."""


class MissingDependencyError(EvalScopeError):
    """An optional package is needed; the hint carries the exact `pip install` command."""

    exit_code = 2


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Close matches for `name`, comparing bare names too so `gsm8` suggests `native/gsm8k`."""
    cands = list(dict.fromkeys(candidates))
    by_bare: dict[str, list[str]] = {}
    for c in cands:
        by_bare.setdefault(c.rsplit("/", 1)[-1].lower(), []).append(c)
    key = name.rsplit("/", 1)[-1].lower()
    out: list[str] = []
    for hit in difflib.get_close_matches(key, list(by_bare), n=n, cutoff=0.6):
        out.extend(by_bare[hit])
    for hit in difflib.get_close_matches(name, cands, n=n, cutoff=0.6):
        if hit not in out:
            out.append(hit)
    return out[:n]
