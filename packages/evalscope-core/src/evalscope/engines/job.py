"""Our side of the job protocol with an engine's driver: the files in the run folder, the engine's
environment, the driver's command line, and what a failure means.

A backend that hands the evaluating to an engine gives it one folder of the run (`<run>/<backend>/`):

```text
job.json            what to do (written by us; never a secret: keys travel in the environment)
engine.log          the engine's output, redacted as it streams (`process.run_engine`)
outputs/            the engine's own output folder (`job["work_dir"]`)
plan.json           the driver's summary of what the engine wrote (exit 0, or ITEMS_FAILED)
driver_error.json   bad input the driver found (exit USER_ERROR)
```

The driver side, exit codes included, is `driver/evalscope_driver.py`, run by the engine's interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evalscope.engines.driver.evalscope_driver import CATALOGUE_MARK
from evalscope.engines.env import EngineInstall
from evalscope.engines.process import EngineFailed
from evalscope.errors import ConfigError, DatasetNotFoundError, EvalScopeError

__all__ = [
    "DRIVER_MAIN",
    "JobFiles",
    "ask_driver_catalogue",
    "driver_command",
    "engine_environment",
    "explain_failure",
    "read_engine_json",
]

#: The script the engine's interpreter runs; it imports the plugin's driver (`driver_command`).
DRIVER_MAIN = Path(__file__).with_name("driver") / "evalscope_driver.py"
#: Our virtual environment's variables: the engine has its own environment and must not see ours.
_OUR_VENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
_OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class JobFiles:
    """The engine's folder of the run and the protocol's files in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.job = folder / "job.json"
        self.plan = folder / "plan.json"
        self.error = folder / "driver_error.json"
        self.log = folder / "engine.log"
        self.outputs = folder / "outputs"

    def job_keys(self) -> dict[str, str]:
        """What every job file holds besides the plugin's own keys."""
        return {
            "folder": str(self.folder),
            "work_dir": str(self.outputs),
            "plan_path": str(self.plan),
            "error_path": str(self.error),
        }

    def clear_stale(self) -> None:
        """A resumed run (`--use-cache`) reuses the folder: an earlier verdict must not be read as this one's."""
        for stale in (self.plan, self.error):
            stale.unlink(missing_ok=True)


def driver_command(python: Path, driver: Path, *args: str) -> list[str]:
    """`<engine python> evalscope_driver.py <plugin driver> <args>`."""
    return [str(python), str(DRIVER_MAIN), str(driver), *args]


def engine_environment(
    extra: Mapping[str, str] | None = None, *, offline: bool = False, unset: tuple[str, ...] = ()
) -> dict[str, str]:
    """Ours, less our virtual environment's variables and `unset`, plus `extra`; the hubs' offline switches
    when the run is offline. Output unbuffered, so the engine log (and the idle clock) follows the engine."""
    env = {k: v for k, v in os.environ.items() if k not in _OUR_VENV and k not in unset}
    env.update({"PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false", **(extra or {})})
    if offline:
        env.update(_OFFLINE)
    return env


def read_engine_json(path: Path, engine: str) -> Any:
    """A JSON file the engine (or its driver) wrote; a missing or broken one is our error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalScopeError(f"{engine} wrote no {path.name} at {path}; the engine log says why.") from None
    except json.JSONDecodeError as exc:
        raise EvalScopeError(f"{path}:{exc.lineno}: unreadable JSON written by {engine}: {exc.msg}") from None


def explain_failure(exc: EngineFailed, files: JobFiles) -> EvalScopeError:
    """What a failed engine run means for the user, most specific first:

    1. the driver's verdict on bad input (`driver_error.json`) → `DatasetNotFoundError` / `ConfigError`;
    2. items the engine failed on (the plan's `failed`) → `EngineFailed` naming each with its error;
    3. otherwise `EngineFailed` with the last lines of the engine log.
    """
    if files.error.is_file():
        info = json.loads(files.error.read_text(encoding="utf-8"))
        cls = DatasetNotFoundError if info.get("kind") == "data" else ConfigError
        return cls(f"{info['message']} (engine log: {exc.log_path})")
    failed = _failed_items(files.plan)  # cleared before the run: a plan here is this run's
    if failed:
        detail = ": " + "; ".join(f"{item}: {error}" for item, error in failed.items())
    else:
        tail = _tail(exc.log_path, 12)
        detail = f"; last lines of its log:\n{tail}" if tail else ""
    return EngineFailed(
        exc.reason + detail,
        exc.log_path,
        exc.returncode,
        hint=f"the run folder keeps the engine's partial outputs under {files.folder.name}/; no report was written",
    )


def ask_driver_catalogue(engine: EngineInstall, driver: Path, what: str) -> Any:
    """Run the driver's `catalogue()` in the engine's interpreter (which may import the engine: slow)."""
    proc = subprocess.run(
        driver_command(engine.python, driver, "--catalogue"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=engine_environment(),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CATALOGUE_MARK)]
    if proc.returncode != 0 or not lines:
        raise EvalScopeError(
            f"Could not list {what}'s datasets with {engine.python}: {(proc.stderr or proc.stdout)[-800:]}"
        )
    return json.loads(lines[-1].removeprefix(CATALOGUE_MARK))


def _failed_items(plan_path: Path) -> dict[str, str]:
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    failed = plan.get("failed") if isinstance(plan, dict) else None
    return {str(k): str(v) for k, v in failed.items()} if isinstance(failed, dict) else {}


def _tail(path: Path, n: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line[-300:] for line in lines[-n:])
