"""The console script's entry: start the named benchmarks' slow helpers, then run the CLI.

Why before the CLI: importing typer, pydantic and the plugins and planning the run take a few tenths
of a second, and a benchmark scored by Math-Verify then waits ~0.5 s more for its scoring process
(an interpreter importing SymPy). Started here, from the names on the command line and the cached
`BenchmarkSpec.prestart` table (`command_table.prestarts`: no plugin is loaded for it), that start
overlaps the CLI's own. Only the standard library is imported before the prestart; anything that
goes wrong here is ignored — the benchmark starts its helper itself when it is built. An `eval`
also ends here, without the interpreter's teardown (`_leave`).
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

        from evalscope.cli.command_table import cached_prestarts

        table = cached_prestarts()
        for impl in dict.fromkeys(table[n] for n in names if n in table):
            module, _, function = impl.partition(":")
            getattr(importlib.import_module(module), function)()
    except Exception:  # noqa: BLE001 - an optimisation only: the run starts the helper itself
        return


def main() -> None:
    from evalscope.gc_tuning import raise_gc_thresholds

    raise_gc_thresholds()  # before the imports: see gc_tuning
    argv = sys.argv[1:]
    _prestart(argv)
    # pydantic looks for its own plugins (validation observers) in every distribution's entry points
    # when the first model is built: ~10 ms and an `importlib.metadata` import, for a feature the CLI
    # has no use for. An explicit setting of the user's wins.
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from evalscope.cli.main import main as run

    if argv[:1] != ["eval"]:
        run()
        return
    try:
        run()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: str | int | None) -> None:
    """End an `eval` without the interpreter's teardown.

    Why: after a run everything is written and closed, and freeing every module of pydantic, typer,
    asyncio and the plugins costs ~50 ms -- a tenth of a 1-sample run. `atexit` handlers still run
    (logging's flush, temporary folders, the scoring children), and the normal exit is kept whenever
    a non-daemon thread is still alive (whatever it is doing must finish) or a profiler or tracer is
    attached (`python -m cProfile` writes its figures after the script returns).
    """
    import atexit
    import os
    import threading

    busy = any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate())
    if busy or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(status)
