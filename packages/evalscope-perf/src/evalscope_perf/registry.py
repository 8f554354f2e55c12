"""Names for API formats (`--api`) and prompt datasets (`--dataset`): built-ins, plugins, import paths.

Three ways to name one, tried in order:

1. a built-in name or alias (`openai`, `openai_completions`, `embedding`; `openqa`, `random`, ...);
2. an entry point of group `evalscope_perf.apis` / `evalscope_perf.datasets` that a third-party
   package declares (`my_api = "my_pkg.perf:MyApi"`), so `pip install` is all it takes;
3. an import path `package.module:Attr` given directly on the command line.

An unknown name fails with the closest matches. Nothing is imported until a name is resolved.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from evalscope.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from evalscope_perf.apis.base import ApiFormat

__all__ = ["API_GROUP", "DATASET_GROUP", "api_names", "dataset_names", "resolve_api", "resolve_dataset"]

API_GROUP = "evalscope_perf.apis"
DATASET_GROUP = "evalscope_perf.datasets"

_APIS: dict[str, str] = {
    "openai": "evalscope_perf.apis.openai:OpenAIChat",
    "openai_completions": "evalscope_perf.apis.openai:OpenAICompletions",
    "openai_embedding": "evalscope_perf.apis.openai:OpenAIEmbeddings",
    "openai_rerank": "evalscope_perf.apis.openai:OpenAIRerank",
    "openai_responses": "evalscope_perf.apis.openai:OpenAIResponses",
    # chat completions to a server this command starts for --model (evalscope_perf.local_server)
    "local": "evalscope_perf.apis.openai:OpenAIChat",
    "local_vllm": "evalscope_perf.apis.openai:OpenAIChat",
}
_API_ALIASES = {
    "openai_chat": "openai",
    "chat": "openai",
    "chat_completions": "openai",
    "completions": "openai_completions",
    "openai_completion": "openai_completions",
    "embedding": "openai_embedding",
    "embeddings": "openai_embedding",
    "openai_embeddings": "openai_embedding",
    "rerank": "openai_rerank",
    "responses": "openai_responses",
    "openai_response": "openai_responses",
}
_DATASETS: dict[str, str] = {
    "openqa": "evalscope_perf.datasets.files:openqa",
    "longalpaca": "evalscope_perf.datasets.files:longalpaca",
    "line_by_line": "evalscope_perf.datasets.files:line_by_line",
    "custom": "evalscope_perf.datasets.files:custom",
    "random": "evalscope_perf.datasets.random_tokens:random_prompts",
    "share_gpt": "evalscope_perf.datasets.share_gpt:share_gpt",
    "random_vl": "evalscope_perf.datasets.images:random_vl",
    "flickr8k": "evalscope_perf.datasets.images:flickr8k",
    # EvalScope's names for the same replay (they download ShareGPT; here --dataset-path is the file)
    "share_gpt_en_multi_turn": "evalscope_perf.datasets.share_gpt:share_gpt",
    "share_gpt_zh_multi_turn": "evalscope_perf.datasets.share_gpt:share_gpt",
}


def _plugins(group: str) -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=group)}


def api_names() -> list[str]:
    return sorted({*_APIS, *_API_ALIASES, *_plugins(API_GROUP)})


def dataset_names() -> list[str]:
    return sorted({*_DATASETS, *_plugins(DATASET_GROUP)})


def _load(target: str, flag: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{flag} {target!r} cannot be imported: {exc}",
            hint="give an importable 'package.module:Attr' (is the package installed in this environment?)",
        ) from None
    return obj


def canonical_api(name: str) -> str:
    """The built-in name an alias stands for (unchanged for plugins and import paths)."""
    return _API_ALIASES.get(name.lower(), name.lower() if name.lower() in _APIS else name)


def resolve_api(name: str) -> type[ApiFormat]:
    """The `ApiFormat` subclass `--api name` stands for."""
    from evalscope_perf.apis.base import ApiFormat  # noqa: F811 - the runtime import

    key = canonical_api(name)
    target = _APIS.get(key) or _plugins(API_GROUP).get(name)
    if target is None and ":" not in name:
        raise UnknownNameError(
            "--api", name, api_names(), hint="or give a custom format as 'package.module:ClassName'"
        )
    cls = _load(target or name, "--api")
    if not (isinstance(cls, type) and issubclass(cls, ApiFormat)):
        raise ConfigError(
            f"--api {name!r} is not an ApiFormat subclass (evalscope_perf.apis.base.ApiFormat)."
        )
    return cls


def resolve_dataset(name: str) -> Any:
    """The dataset loader `--dataset name` stands for: `(ctx: DatasetContext) -> list[Prompt]`."""
    target = _DATASETS.get(name.lower()) or _plugins(DATASET_GROUP).get(name)
    if target is None and ":" not in name:
        raise UnknownNameError(
            "--dataset", name, dataset_names(), hint="or give a loader as 'package.module:function'"
        )
    fn = _load(target or name, "--dataset")
    if not callable(fn):
        raise ConfigError(f"--dataset {name!r} is not callable: a loader takes a DatasetContext.")
    return fn
