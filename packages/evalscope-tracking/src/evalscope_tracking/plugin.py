"""The tracking plugin's hooks: three reporters, imported only when a run ends."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import ReporterSpec

__all__ = ["evalscope_register_reporters"]


@hookimpl
def evalscope_register_reporters() -> list[ReporterSpec]:
    return [
        ReporterSpec(
            name="mlflow",
            impl="evalscope_tracking.mlflow_tracker:log_to_mlflow",
            accepts="record",
            description="Log the run to MLflow: MLFLOW_TRACKING_URI, else a local file store <work_dir>/mlruns.",
        ),
        ReporterSpec(
            name="wandb",
            impl="evalscope_tracking.wandb_tracker:log_to_wandb",
            accepts="record",
            description="Log the run to Weights & Biases (WANDB_MODE=offline: local files, `wandb sync` later).",
        ),
        ReporterSpec(
            name="swanlab",
            impl="evalscope_tracking.swanlab_tracker:log_to_swanlab",
            accepts="record",
            description="Log the run to SwanLab (no key: offline files in <work_dir>/swanlog, `swanlab sync` later).",
        ),
    ]
