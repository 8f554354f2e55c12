"""The native plugin's hooks. Only cheap specs here: implementations load on use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalscope.datasets import DatasetLoader, DataSource
from evalscope.hookspecs import hookimpl
from evalscope.specs import BackendSpec, BenchmarkSpec, MetricSpec, ModelSpec

if TYPE_CHECKING:
    from evalscope.config import TaskConfig


@hookimpl
def evalscope_register_benchmarks() -> list[BenchmarkSpec]:
    from evalscope_native.benchmarks.catalog import builtin_benchmarks

    return builtin_benchmarks()


@hookimpl
def evalscope_register_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name="openai_api",
            impl="evalscope_native.models.openai_api:OpenAIModel",
            description="Any OpenAI-compatible service (vLLM, SGLang, Ollama, OpenAI, ...): chat or completions.",
            eval_types=("service", "openai_api"),
            aliases=("service",),
        ),
        ModelSpec(
            name="mock_llm",
            impl="evalscope_native.models.mock:MockModel",
            description="Answers every prompt with a fixed text; for smoke runs of the pipeline.",
            eval_types=("mock_llm",),
        ),
        ModelSpec(
            name="transformers",
            impl="evalscope_native.models.local_hf:TransformersModel",
            description="A local checkpoint (hub id or folder) run in-process with transformers, in batches; "
            "needs torch and transformers (the `local` extra).",
            eval_types=("checkpoint", "llm_ckpt"),
            aliases=("local_hf",),
        ),
        ModelSpec(
            name="vllm",
            impl="evalscope_native.models.local_vllm:VLLMModel",
            description="A local checkpoint run in-process with vLLM (a CUDA GPU and `pip install vllm`); "
            'chosen by --model-args \'{"engine": "vllm"}\'.',
        ),
    ]


@hookimpl
def evalscope_resolve_model(config: TaskConfig) -> str | None:
    """`--model-args '{"engine": "vllm"}'` picks the vLLM engine for a local checkpoint."""
    from evalscope_native.models.local_args import engine_model

    return engine_model(config)


@hookimpl
def evalscope_register_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="acc",
            impl="evalscope_native.metrics:accuracy",
            aliases=("accuracy",),
            description="Accuracy: normalised text match, or numeric match with numeric=True.",
        ),
        MetricSpec(
            name="exact_match", impl="evalscope_native.metrics:exact_match", description="Identical string."
        ),
    ]


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="native",
            impl="evalscope_native.engine.backend:NativeBackend",
            description="EvalScope's own asyncio engine (default).",
        )
    ]


@hookimpl
def evalscope_resolve_dataset_loader(source: DataSource) -> DatasetLoader | None:
    from evalscope_native.data.loader import pick_loader

    return pick_loader(source)
