"""RAGAS test-set generation from a folder of documents: validated, but not run by this version.

Why not: ragas 0.4's `TestsetGenerator` counts tokens with tiktoken's `cl100k_base`, which tiktoken
downloads from openaipublic.blob.core.windows.net on first use, and its default knowledge-graph
transforms need `rapidfuzz`; a run could therefore never be offline, and it cannot be tested here
against a scripted judge. The config key is kept (EvalScope's `testset_generation`) so configs
validate, and the run stops in `prepare` — before any output — with what to do instead.
"""

from __future__ import annotations

from evalscope.config import TaskConfig
from evalscope.errors import ConfigError
from evalscope.run_context import RunInfo

from evalscope_rag.config import RAGASTestsetConfig


def check_generation(cfg: RAGASTestsetConfig) -> None:
    raise ConfigError(
        "RAGAS testset_generation is not supported by the rag backend yet: ragas' generator downloads "
        "tiktoken's cl100k_base encoding and needs rapidfuzz, so it cannot run offline.",
        hint="generate the test set with ragas' TestsetGenerator where the network is reachable, save it as "
        "json/jsonl (question, contexts, answer, ground_truth) and score it with `eval.testset_file`",
    )


def generate_testset(cfg: RAGASTestsetConfig, config: TaskConfig, run: RunInfo) -> None:
    check_generation(cfg)
