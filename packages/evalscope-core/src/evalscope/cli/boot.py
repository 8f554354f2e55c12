"""The console script's entry: start the named benchmarks' slow helpers, then run the CLI.

Why before the CLI: importing typer, pydantic and the plugins and planning the run take a few tenths
of a second, and a benchmark scored by Math-Verify then waits ~0.5 s more for its scoring process
(an interpreter importing SymPy). Started here, from the names on the command line and the cached
`BenchmarkSpec.prestart` table (`command_table.prestarts`: no plugin is loaded for it), that start
overlaps the CLI's own. Only the standard library is imported before the prestart; anything that
goes wrong here is ignored — the benchmark starts its helper itself when it is built.
"""

from __future__ import annotations

import sys

__all__ = ["main", "named_datasets"]


def named_datasets(argv: list[str]) -> list[str]:
    """The values of `--datasets` in an `eval` command line (both `--datasets a b` and `--datasets=a`)."""
    if not argv or argv[0] != "eval":
        return []
    names: list[str] = []
    taking = False
    for arg in argv[1:]:
        if arg.startswith("--datasets="):
            names += [n for n in arg.split("=", 1)[1].replace(",", " ").split() if n]
            taking = False
        elif arg == "--datasets":
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            names += [n for n in arg.replace(",", " ").split() if n]
    return names


def _prestart(argv: list[str]) -> None:
    names = named_datasets(argv)
    if not names:
        return
    try:
        import importlib

        from evalscope.cli.command_table import prestarts

        table = prestarts()
        for impl in dict.fromkeys(table[n] for n in names if n in table):
            module, _, function = impl.partition(":")
            getattr(importlib.import_module(module), function)()
    except Exception:  # noqa: BLE001 - an optimisation only: the run starts the helper itself
        return


def main() -> None:
    _prestart(sys.argv[1:])
    from evalscope.cli.main import main as run

    run()
