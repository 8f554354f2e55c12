"""The engine side of the job protocol. Runs INSIDE an engine's interpreter: standard library only.

`<engine python> evalscope_driver.py <plugin's engine_driver.py> <job.json>` imports the plugin's driver and
calls its `run(job) -> plan`, then writes the plan where the job says. The protocol (our side is
`evalscope.engines.job`):

* exit 0: `plan_path` holds the plan, which the plugin's result mapping reads;
* exit `USER_ERROR` (3): the driver raised `UserError` (bad input that only the loaded engine can see: an
  unknown subset, a data file the engine would download over); `error_path` holds `{"kind", "message"}`, and
  our side raises `DatasetNotFoundError` (kind `data`) or `ConfigError`;
* exit `ITEMS_FAILED` (4): the engine finished but some items failed (VLMEvalKit logs a failed dataset and
  exits 0): the plan is written and its `failed` maps each failed item to its error;
* anything else is the engine's own failure (a traceback in the log).

`<engine python> evalscope_driver.py <engine_driver.py> --catalogue` prints `EVALSCOPE_CATALOGUE <json>`: what
the driver's `catalogue()` returns (the datasets the installed engine offers).

A plugin's driver imports `UserError` and `say` from here by name (`from evalscope_driver import UserError`),
which works because this script's folder is first on `sys.path`.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

USER_ERROR = 3
ITEMS_FAILED = 4
CATALOGUE_MARK = "EVALSCOPE_CATALOGUE "


class UserError(Exception):
    """Bad input found by the driver: `kind` is `data` (a dataset file) or `config` (anything else)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def say(message: str) -> None:
    """One line for the engine log, marked as ours."""
    print(f"[evalscope driver] {message}", flush=True)


def load_driver(path: str) -> Any:
    """Import the plugin's driver by its module name, its folder first on `sys.path`.

    By name rather than from a file spec: a class the driver defines then pickles as `engine_driver.X`, which a
    worker process the engine spawns can import again (spawned workers inherit `sys.path`).
    """
    file = Path(path).resolve()
    sys.path.insert(0, str(file.parent))
    return importlib.import_module(file.stem)


def main(argv: list[str]) -> int:
    driver = load_driver(argv[0])
    if argv[1] == "--catalogue":
        print(CATALOGUE_MARK + json.dumps(driver.catalogue()), flush=True)
        return 0
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    try:
        plan = driver.run(job)
    except UserError as exc:
        Path(job["error_path"]).write_text(
            json.dumps({"kind": exc.kind, "message": str(exc)}), encoding="utf-8"
        )
        say(f"{exc.kind} error: {exc}")
        return USER_ERROR
    Path(job["plan_path"]).write_text(json.dumps(plan, indent=2, default=str), encoding="utf-8")
    if plan.get("failed"):
        say(f"the engine failed on: {json.dumps(plan['failed'])}")
        return ITEMS_FAILED
    say("done")
    return 0


if __name__ == "__main__":
    # Run through the module of this name, not `__main__`: the plugin's driver imports `UserError` from
    # `evalscope_driver`, and `except UserError` must catch that class, not a copy of it.
    import evalscope_driver

    sys.exit(evalscope_driver.main(sys.argv[1:]))
