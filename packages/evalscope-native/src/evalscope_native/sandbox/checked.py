"""Checked runs: the candidate's process computes values, a separate checker process judges them.

``run_untrusted(program, tests=...)`` runs the tests in the program's own interpreter, where the
program can reach everything: the comparison (an object whose ``__eq__`` is always true), the
nonce (frames, ``gc``, ``/proc/self/mem``). A checked run splits the two inside one sandbox:

* the **candidate process** runs ``program`` and answers requests by value;
* the **checker** runs ``setup`` (trusted code, e.g. HumanEval's prompt) and ``tests`` with the
  candidate's names bound to proxies; a call ``candidate(*args)`` sends ``args`` and receives the
  return value as plain data (None/bool/int/float/complex/str/bytes/list/tuple/dict/set/...); an
  object that is not plain stays in the candidate process and comes back as a proxy that equals
  only itself. The comparisons, the asserts, the nonce and the result descriptor live only in
  the checker, which the candidate process can neither trace, signal (as root) nor read.

Which names come from the candidate: every name the set-up code and tests read but never bind
(looked up before the set-up code runs; a builtin only when the candidate defines it), plus
``remote``: names bound from the candidate AFTER the set-up code, replacing what it defined
(HumanEval's entry point, whose stub the prompt defines). Threat model: docs/sandbox.md.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult

if TYPE_CHECKING:
    from evalscope_native.sandbox.pool import SandboxCache

#: bump when the checked protocol changes: part of the cache key of checked verdicts
CHECKED_VERSION = "checked-1"


@dataclass(frozen=True)
class CheckedProgram:
    """A program and the tests that judge it in a separate process.

    ``program``: the candidate's code (its process only). ``tests``: trusted test code (the
    checker only), e.g. ``def check(candidate): ...`` + ``check(f)`` or bare asserts.
    ``setup``: trusted code the checker runs before the tests (imports, helpers, the prompt).
    ``remote``: names taken from the candidate even where ``setup`` or a builtin defines them.
    """

    program: str
    tests: str
    setup: str = ""
    remote: tuple[str, ...] = ()

    def checker_input(self) -> dict[str, object]:
        """What the checker receives (with the nonce, added by the runner)."""
        lookup = free_names(self.setup, self.tests)
        return {
            "setup": self.setup,
            "tests": self.tests,
            "lookup": lookup,
            # a free name is bound before the set-up code runs, which cannot rebind it
            "remote": [name for name in self.remote if name not in lookup],
        }

    def cache_content(self) -> dict[str, object]:
        return {"mode": CHECKED_VERSION, "setup": self.setup, "remote": list(self.remote)}


def free_names(*sources: str) -> list[str]:
    """Names the sources read but never bind, builtins excepted (scope-blind, conservative).

    A source that does not parse contributes nothing: the checker reports its SyntaxError.
    """
    loaded: set[str] = set()
    bound: set[str] = set()
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).partition(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                bound.add(node.name)
    return sorted(loaded - bound - set(dir(builtins)))


def _parse(source: str) -> ast.Module | None:
    with warnings.catch_warnings():  # invalid escapes in dataset code are the dataset's business
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError):
            return None


def defined_names(source: str) -> set[str]:
    """Top-level names ``source`` defines (functions, classes, assignments, imports); empty if it
    does not parse. Used to tell which names of the tests a reference solution provides."""
    tree = _parse(source)
    if tree is None:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
    return names


def read_names(source: str) -> set[str]:
    """Every name ``source`` reads (empty if it does not parse)."""
    tree = _parse(source)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def run_checked(
    case: CheckedProgram,
    *,
    limits: SandboxLimits | None = None,
    allow_weak: bool | None = None,
    isolation: Isolation | None = None,
    cache: SandboxCache | None = None,
) -> SandboxResult:
    """Run ``case`` once (or take its verdict from ``cache``).

    ``passed`` means the checker ran the set-up code and the tests to their end on the values the
    candidate's process sent. Never raises for anything the program does; raises
    ``SandboxUnavailable`` only when no acceptable isolation exists.
    """
    from evalscope_native.sandbox.runner import choose_isolation

    lim = limits or SandboxLimits()
    return execute_checked(case, lim, isolation or choose_isolation(allow_weak), cache)


def execute_checked(
    case: CheckedProgram, lim: SandboxLimits, mode: Isolation, cache: SandboxCache | None
) -> SandboxResult:
    """``run_checked`` once the limits and the isolation are settled (``run_many`` calls this)."""
    from evalscope_native.sandbox.runner import _execute

    key = ""
    if cache is not None:
        key = cache.key(case.program, case.tests, lim, mode, checked=case.cache_content())
        hit = cache.get(key)
        if hit is not None:
            return hit
    result = _execute(case.program, lim, mode, checker=case.checker_input())
    result = dataclasses.replace(result, extra={**result.extra, "checked": True})
    if cache is not None:
        cache.put(key, result)
    return result
