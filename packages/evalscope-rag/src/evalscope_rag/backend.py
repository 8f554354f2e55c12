"""`RAGBackend`: the `rag` backend (`eval_backend: RAGEval`), dispatching on `eval_config.tool`.

`prepare` validates the whole tool config, the task or test-set names, data folders and model
paths, and writes nothing; `run` evaluates and returns one Report per task (MTEB), test set (RAGAS)
or dataset (CLIP), which `run_task` writes and the table reporter shows like any other backend's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalscope.config import TaskConfig
from evalscope.report import Report
from evalscope.run_context import RunInfo

from evalscope_rag.config import ClipBenchmarkToolConfig, MTEBToolConfig, RAGASToolConfig, load_tool_config


@dataclass
class RAGPrepared:
    tool: str
    plan: Any
    model_name: str | None = None  # run_task files reports under it (reports/<model>/…)


class RAGBackend:
    def prepare(self, config: TaskConfig) -> RAGPrepared:
        tool = load_tool_config(config)
        if isinstance(tool, MTEBToolConfig):
            from evalscope_rag.mteb_eval.models import display_name
            from evalscope_rag.mteb_eval.runner import prepare_mteb

            plan = prepare_mteb(tool, config)
            return RAGPrepared("mteb", plan, config.model_id or display_name(tool.models[0]))
        if isinstance(tool, RAGASToolConfig):
            from evalscope_rag.ragas_eval.runner import prepare_ragas

            return RAGPrepared("ragas", prepare_ragas(tool, config))
        assert isinstance(tool, ClipBenchmarkToolConfig)
        from evalscope_rag.clip_eval.runner import display_name as clip_name
        from evalscope_rag.clip_eval.runner import prepare_clip

        clip = prepare_clip(tool, config)
        return RAGPrepared(
            "clip_benchmark", clip, config.model_id or clip_name(tool.eval.models[0].model_name)
        )

    def run(self, prepared: RAGPrepared, run: RunInfo) -> list[Report]:
        if prepared.tool == "mteb":
            from evalscope_rag.mteb_eval.runner import run_mteb

            return run_mteb(prepared.plan, run)
        if prepared.tool == "ragas":
            from evalscope_rag.ragas_eval.runner import run_ragas

            return run_ragas(prepared.plan, run)
        from evalscope_rag.clip_eval.runner import run_clip

        return run_clip(prepared.plan, run)
