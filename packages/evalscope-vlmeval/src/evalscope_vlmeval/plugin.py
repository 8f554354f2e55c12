"""The vlmeval plugin's hooks: only cheap specs here; the backend loads when a run selects it."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import BackendCapabilities, BackendSpec


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="vlmeval",
            impl="evalscope_vlmeval.backend:VLMEvalBackend",
            description="VLMEvalKit (PyPI ms-vlmeval) evaluates vision-language models in its own environment, "
            "as a subprocess; results land in EvalScope's reports. `eval_backend: VLMEvalKit`.",
            aliases=("vlmevalkit",),
            tags=("external-engine", "multimodal"),
            eval_config="evalscope_vlmeval.settings:VLMEvalConfig",
            capabilities=BackendCapabilities(resume=True),
        )
    ]
