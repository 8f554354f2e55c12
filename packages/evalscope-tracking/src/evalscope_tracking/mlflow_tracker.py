"""The `mlflow` reporter: the run's config as params, its figures as metrics, tables and files as artifacts.

Where it logs: `MLFLOW_TRACKING_URI` if set (a server, `databricks`, ...), else a local file store at
`<work_dir>/mlruns` (`mlflow ui --backend-store-uri <work_dir>/mlruns` shows it). MLflow 3 keeps the
file store in maintenance mode behind `MLFLOW_ALLOW_FILE_STORE`; we set it for our own default
store only, because `mlflow-skinny` (the light client we depend on) has no SQL store. The experiment
is `MLFLOW_EXPERIMENT_NAME` or the record's project (`evalscope`, perf: `perf_benchmark`).
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evalscope.run_record import RunRecord

from evalscope_tracking.tracker_support import attachment_base, import_tracker, local_dir

__all__ = ["log_to_mlflow", "mlflow_params"]

_BATCH = 100  # MLflow's limit of params per log_batch call (metrics: 1000)
_PARAM_CHARS = 6000  # MLflow's longest param value
_BAD_KEY = re.compile(r"[^\w\-. /:]")  # MLflow's key alphabet


def log_to_mlflow(record: RunRecord) -> None:
    import_tracker("mlflow")
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    with _file_store_allowed(uri is None):
        client = MlflowClient(tracking_uri=uri or local_dir(record, None, "mlruns").as_uri())
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or record.project
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        tags = {**record.tags, "evalscope.kind": record.kind, "evalscope.run_dir": record.run_dir}
        run_id = client.create_run(experiment_id, run_name=record.name, tags=tags).info.run_id
        status = "FAILED"
        try:
            now = int(time.time() * 1000)
            params = [Param(k, v) for k, v in mlflow_params(record.config).items()]
            for i in range(0, len(params), _BATCH):
                client.log_batch(run_id, params=params[i : i + _BATCH])
            metrics = [
                Metric(_key(k), v, now, i) for i, step in enumerate(record.steps) for k, v in step.items()
            ]
            # The figures close the series: those the last step already holds are not logged twice.
            last, at = (record.steps[-1], len(record.steps) - 1) if record.steps else ({}, 0)
            metrics += [Metric(_key(k), v, now, at) for k, v in record.figures.items() if last.get(k) != v]
            for i in range(0, len(metrics), 1000):
                client.log_batch(run_id, metrics=metrics[i : i + 1000])
            client.log_dict(run_id, record.config, "config.json")
            for table in record.tables:
                _log_table(client, run_id, table.name, table.columns, table.rows)
            for path in record.files:
                if Path(path).is_file():
                    folder = Path(path).resolve().parent.relative_to(attachment_base(record, path))
                    client.log_artifact(run_id, path, str(Path("files") / folder))
            client.log_batch(run_id, tags=[RunTag("evalscope.schema_version", str(record.schema_version))])
            status = "FINISHED"
        finally:
            client.set_terminated(run_id, status=status)


def mlflow_params(config: dict[str, Any]) -> dict[str, str]:
    """The config flattened to `a.b` keys with string values MLflow accepts (None and empty skipped)."""
    out: dict[str, str] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif value not in (None, "", [], {}):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            out[_key(prefix)] = text[:_PARAM_CHARS]

    walk(config, "")
    return out


def _log_table(client: Any, run_id: str, name: str, columns: list[str], rows: list[list[Any]]) -> None:
    """MLflow's table artifact (`tables/<name>.json`, shown in the UI's evaluation view)."""
    artifact = f"tables/{_key(name)}.json"
    try:  # log_table builds a pandas DataFrame; mlflow-skinny does not require pandas
        import pandas  # noqa: F401
    except ImportError:
        client.log_dict(run_id, {"columns": columns, "data": rows}, artifact)
        return
    with warnings.catch_warnings():  # MLflow's own pandas deprecations are no concern of the user's
        warnings.simplefilter("ignore")
        client.log_table(
            run_id, data={c: [r[i] for r in rows] for i, c in enumerate(columns)}, artifact_file=artifact
        )


def _key(name: str) -> str:
    return _BAD_KEY.sub("_", name)[:250]


@contextmanager
def _file_store_allowed(allow: bool) -> Iterator[None]:
    """`MLFLOW_ALLOW_FILE_STORE=true` while we log to our default local store (restored afterwards)."""
    if not allow:
        yield
        return
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before
