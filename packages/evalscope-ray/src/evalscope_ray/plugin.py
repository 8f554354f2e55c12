"""The ray plugin's hooks: only the runner's spec; Ray itself is imported when a run uses it."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import RunnerSpec


@hookimpl
def evalscope_register_runners() -> list[RunnerSpec]:
    return [
        RunnerSpec(
            name="ray",
            impl="evalscope_ray.runner:RayRunner",
            args_model="evalscope_ray.config:RayRunnerArgs",
            distributed=True,
            description="Spread a run's shards (or perf's load) over the nodes of a Ray cluster.",
        )
    ]
