"""No README or docs page tells a user to `pip install` one of our distributions from PyPI.

Why: `evalscope-core`, `-native`, `-perf`, `-app`, ... are not published under names we own, and
`evalscope[...]` on PyPI is the public EvalScope: such a line would install someone else's code
(issue 14). Our installs name a package folder (`pip install -e 'packages/evalscope-native[local]'`).
Two kinds of line may still name the PyPI project: a warning that says what such a command would do,
and an install of the public EvalScope pinned to the version the fidelity harness compares against.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = re.compile(r"^evalscope(?:-[a-z]+)?(?:\[[^\]]*\])?$")  # evalscope, evalscope-perf, evalscope[local]
WARNING = ("would install", "not on PyPI", "not published", "fetches")


def _pages() -> list[Path]:
    return [
        REPO / "README.md",
        *sorted((REPO / "docs").rglob("*.md")),
        *sorted(REPO.glob("packages/*/README.md")),
    ]


def _offending(line: str) -> list[str]:
    bad = []
    for command in re.findall(r"pip install ([^`\n]+)", line):
        for word in command.split():
            name = word.strip("'\"(),;")
            if OURS.match(name) and "==" not in word:
                bad.append(name)
    return bad


def test_the_checker_catches_what_the_issue_found() -> None:
    assert _offending("`evalscope app` says `pip install evalscope-app`") == ["evalscope-app"]
    assert _offending("in the README: `pip install 'evalscope[local]'`") == ["evalscope[local]"]
    assert _offending("`pip install -e 'packages/evalscope-native[local]'`") == []
    assert _offending('`pip install "evalscope[ifeval]==1.14.1"` (the public EvalScope, pinned)') == []


def test_no_page_installs_our_distributions_from_pypi() -> None:
    found = []
    for page in _pages():
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if any(w in line for w in WARNING):
                continue
            found += [f"{page.relative_to(REPO)}:{number}: {name}" for name in _offending(line)]
    assert found == [], "install from the package folder instead (see README, 'Set up'):\n" + "\n".join(found)
