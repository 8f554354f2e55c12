"""The `swanlab` reporter: config, figures (a series per step for a perf sweep), tables as ECharts tables.

Mode: `SWANLAB_MODE` if set, else `online` when a key is known (perf's `--swanlab-api-key` or
`SWANLAB_API_KEY`), else `offline`: the run is written under `<SWANLAB_LOG_DIR or work_dir/swanlog>`
without a network (`swanlab sync <run folder>` uploads it later). `SWANLAB_MODE=local` writes into
SwanLab's local store, which its own dashboard serves offline (`swanlab watch <log dir>`; the extra
installs `swanlab[dashboard]` for it). The project is `SWANLAB_PROJECT`
or the record's project (`evalscope`, perf: `perf_benchmark`, as EvalScope names it). Files are not
attached: SwanLab logs media, not arbitrary files; the run folder holds them.
"""

from __future__ import annotations

import os

from evalscope.run_record import RunRecord

from evalscope_tracking.tracker_support import api_key, import_tracker, local_dir

__all__ = ["log_to_swanlab"]


def log_to_swanlab(record: RunRecord) -> None:
    swanlab = import_tracker("swanlab")
    from evalscope.errors import EvalScopeError

    key = api_key(record, "swanlab", "SWANLAB_API_KEY")
    mode = os.environ.get("SWANLAB_MODE") or ("online" if key else "offline")
    try:
        if key and mode == "online":
            swanlab.login(api_key=key, save=False)
        run = swanlab.init(
            project=os.environ.get("SWANLAB_PROJECT") or record.project,
            name=record.name,
            config=record.config,
            mode=mode,
            log_dir=str(local_dir(record, "SWANLAB_LOG_DIR", "swanlog")),
            reinit=True,
            # The runtime probe records the command line (a key given as a flag would leak past our
            # redaction) and git remotes may carry credentials: off, with the live hardware monitor.
            settings=swanlab.Settings(probe=swanlab.Settings.Probe(runtime=False, git=False, monitor=False)),
        )
    except Exception as exc:
        raise EvalScopeError(
            f"SwanLab could not start a run: {exc}",
            hint="set SWANLAB_API_KEY (perf: --swanlab-api-key), or SWANLAB_MODE=offline to log locally and `swanlab sync` later",
        ) from None
    try:
        for i, step in enumerate(record.steps):
            run.log(step, step=i)
        if record.figures and not record.steps:
            run.log(record.figures, step=0)
        for table in record.tables:
            chart = swanlab.echarts.Table().add(
                table.columns, [["" if c is None else c for c in r] for r in table.rows]
            )
            run.log({table.name: chart}, step=0)
    finally:
        run.finish()
