"""What the three trackers share: importing the tracker's package, where its local store goes, keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evalscope.run_record import RunRecord

__all__ = ["api_key", "attachment_base", "import_tracker", "local_dir"]


def import_tracker(module: str) -> Any:
    """Import `mlflow` / `wandb` / `swanlab`, or raise the error that names the extra to install."""
    import importlib

    from evalscope.distributions import install_hint
    from evalscope.errors import MissingDependencyError

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"The {module} reporter needs the {module} package ({exc}).",
            hint=install_hint("evalscope-tracking", module),
        ) from None


def local_dir(record: RunRecord, env: str | None, default: str) -> Path:
    """The tracker's local folder: `$<env>` if set, else `<work_dir>/<default>` (next to the run folders)."""
    path = Path((os.environ.get(env) if env else None) or Path(record.work_dir) / default)
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def api_key(record: RunRecord, tracker: str, env: str) -> str | None:
    """The key given for this run (perf's `--wandb-api-key`), else the tracker's own variable."""
    given = record.credentials.get(tracker)
    return given.get_secret_value() if given is not None else os.environ.get(env) or None


def attachment_base(record: RunRecord, path: str) -> Path:
    """The folder an attached file's name is taken relative to: the run folder when the file lies in it
    (perf's runs each have a `benchmark_summary.json`: their folders keep them apart), else its own."""
    file, root = Path(path).resolve(), Path(record.run_dir).resolve()
    return root if file.is_relative_to(root) else file.parent
