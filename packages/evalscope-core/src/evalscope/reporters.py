"""Built-in reporters. Report JSON files are always written by `run_task`; reporters only present."""

from __future__ import annotations

import sys

from evalscope.config import TaskConfig
from evalscope.report import Report
from evalscope.run_context import RunInfo
from evalscope.table import render_table


def print_table(reports: list[Report], run: RunInfo, config: TaskConfig) -> None:
    print(render_table(reports), file=sys.stdout, flush=True)
    failed = sum(r.num_errors for r in reports)
    if failed:
        print(
            f"{failed} sample(s) have no valid prediction and were scored 0; see the report's `errors` "
            f"and {run.run_dir / 'reviews'}",
            file=sys.stderr,
        )
