"""Find the run folders under a tree: evaluation runs (`evalscope eval`, any backend) and perf runs.

An evaluation run is a folder holding `reports/`, `reviews/` or `configs/task_config.yaml` (what
`evalscope.run_context` writes); a perf run is the `<name>` folder `evalscope perf` writes, holding
`perf_config.json` or a `sweep_summary.json`, or a lone `parallel_*` folder's parent. The walk
never follows symlinks and never descends into a run folder (its `reviews/` may hold thousands of
files), so listing a large `--outputs` tree stays cheap enough to redo on every overview request:
new runs appear without restarting the app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_DEPTH", "FoundRun", "find_runs", "run_kind"]

#: How deep below the root a run folder may sit (`outputs/<model>/<timestamp>` is depth 2; perf's
#: `outputs/<timestamp>/<name>` too). Deeper trees are not walked: a mistaken `--outputs /` must
#: not scan the whole disk.
MAX_DEPTH = 6

_EVAL_MARKERS = ("reports", "reviews")
_SKIP = {"predictions", "logs", "configs", "node_modules", "__pycache__", ".git", ".venv"}


@dataclass(frozen=True)
class FoundRun:
    kind: str  # "eval" or "perf"
    path: Path


def run_kind(path: Path) -> str | None:
    """`"eval"`, `"perf"` or None for a folder that is no run."""
    try:
        names = set(os.listdir(path))
    except OSError:
        return None
    if (
        any(m in names and (path / m).is_dir() for m in _EVAL_MARKERS)
        or (path / "configs" / "task_config.yaml").is_file()
    ):
        return "eval"
    if "perf_config.json" in names or "sweep_summary.json" in names:
        return "perf"
    if any(n.startswith("parallel_") and (path / n / "benchmark_summary.json").is_file() for n in names):
        return "perf"
    return None


def find_runs(root: Path, max_depth: int = MAX_DEPTH) -> list[FoundRun]:
    """Every run folder under `root` (the root itself included), in path order."""
    found: list[FoundRun] = []

    def walk(folder: Path, depth: int) -> None:
        kind = run_kind(folder)
        if kind is not None:
            found.append(FoundRun(kind, folder))
            return
        if depth >= max_depth:
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name in _SKIP or entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), depth + 1)

    walk(root, 0)
    return found
