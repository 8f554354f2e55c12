"""The `wandb` reporter: config, figures (summary and charts), a series per step, tables, files.

W&B decides where to log from its own settings: `WANDB_MODE=offline` writes the run under
`<WANDB_DIR or work_dir>/wandb/offline-run-*` without a network (`wandb sync` uploads it later);
online it needs `WANDB_API_KEY`, a prior `wandb login`, or perf's `--wandb-api-key` (passed to the
run's settings, never written to `~/.netrc`). The project is `WANDB_PROJECT` or the record's project
(`evalscope`, perf: `perf_benchmark`, as EvalScope names it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from evalscope.run_record import RunRecord

from evalscope_tracking.tracker_support import api_key, attachment_base, import_tracker, local_dir

__all__ = ["log_to_wandb"]


def log_to_wandb(record: RunRecord) -> None:
    wandb = import_tracker("wandb")
    from evalscope.errors import EvalScopeError

    # The system metadata W&B collects holds the command line, where a key given as a flag would
    # leak past our redaction (and git remotes may carry credentials): off, with the live system
    # metrics, which mean nothing for a run logged after it ended.
    settings: dict[str, object] = {
        "silent": True,
        "console": "off",
        "x_disable_meta": True,
        "x_disable_stats": True,
        "disable_git": True,
        "disable_code": True,
    }
    key = api_key(record, "wandb", "WANDB_API_KEY")
    if key:
        settings["api_key"] = key
    mode = os.environ.get("WANDB_MODE")
    if mode:
        # Read now, for this run: W&B's process-wide settings are fixed by whoever set W&B up first
        # in this process, possibly before WANDB_MODE was set (seen: offline ignored, "no API key").
        settings["mode"] = mode
    # W&B writes a run through a service process that flushes the run's file when it shuts down (at
    # exit). When this reporter started that service, it shuts it down itself, so the run is complete
    # on disk when the reporter returns (a caller may read it at once); a service the caller was
    # already using is left alone. (`_singleton` is W&B's own record of that service.)
    from wandb.sdk import wandb_setup

    owns_service = getattr(wandb_setup, "_singleton", True) is None
    try:
        run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or record.project,
            name=record.name,
            job_type=record.kind,
            config=record.config,
            dir=str(local_dir(record, "WANDB_DIR", ".")),
            tags=[record.kind],
            settings=wandb.Settings(**settings),
            reinit="create_new",
        )
    except Exception as exc:
        if owns_service:
            # W&B keeps the failed run's settings (its key included) process-wide: without this the
            # next run in this process -- another command of a test session, a notebook -- inherits them.
            wandb.teardown()
        raise EvalScopeError(
            f"W&B could not start a run: {exc}",
            hint="set WANDB_API_KEY (perf: --wandb-api-key), or WANDB_MODE=offline to log locally "
            "and `wandb sync` later",
        ) from None
    exit_code = 1
    try:
        for step in record.steps:
            run.log(step)
        if record.steps:
            run.summary.update(record.figures)
        elif record.figures:
            run.log(record.figures)
        for table in record.tables:
            run.log({table.name: wandb.Table(columns=table.columns, data=table.rows, allow_mixed_types=True)})
        for path in record.files:  # copied into the run's files (uploaded with it; a symlink would
            if Path(path).is_file():  # break when the run folder moves)
                target = Path(run.dir) / Path(path).resolve().relative_to(attachment_base(record, path))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        exit_code = 0
    finally:
        run.finish(exit_code=exit_code)
        if owns_service:
            wandb.teardown()
