"""The opencompass plugin's hooks: only cheap specs here; the backend loads when a run selects it."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import BackendCapabilities, BackendSpec


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="opencompass",
            impl="evalscope_opencompass.backend:OpenCompassBackend",
            description="OpenCompass evaluates (in its own environment, as a subprocess); results land in "
            "EvalScope's reports. `eval_backend: OpenCompass` with EvalScope's eval_config keys.",
            tags=("external-engine",),
            eval_config="evalscope_opencompass.settings:OpenCompassEvalConfig",
            capabilities=BackendCapabilities(resume=True),
        )
    ]
