"""The RAG backend's `eval_config`: one typed model per tool, EvalScope 1.14.1's key names.

`eval_config` arrives as a dict (Python, JSON, YAML, `--eval-config '{…}'`) or as the path of a
YAML/JSON file, and names its tool: `tool: MTEB | RAGAS | clip_benchmark` (any case). Every model
forbids unknown keys, and an unknown key is reported with the closest valid names — list items
included (`eval_config.models.0.batch_sz`), which the core's formatter does not step into.

The older EvalScope spellings `model:` (for `models:`) and `eval.tasks` (for `eval.task_names`) are
accepted too, since both appear in EvalScope's own documentation.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

from evalscope.config import TaskConfig, read_config_file
from evalscope.errors import ConfigError, closest
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

TOOLS = ("mteb", "ragas", "clip_benchmark")
TOOL_SPELLINGS = {"mteb": "mteb", "cmteb": "mteb", "ragas": "ragas", "clip_benchmark": "clip_benchmark"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


# --- MTEB / CMTEB -------------------------------------------------------------------------------


class MTEBModelConfig(_Strict):
    """One embedding model or reranker: a local checkpoint, a hub id, or an OpenAI-compatible API."""

    model_name_or_path: str = Field(default="", description="Local folder or hub id (sentence-transformers).")
    is_cross_encoder: bool = Field(default=False, description="A reranker scoring (query, document) pairs.")
    pooling_mode: str | None = Field(
        default=None, description="cls | mean | max | …; None keeps the model's."
    )
    max_seq_length: int | None = Field(
        default=None,
        ge=1,
        description="Token limit; None keeps the checkpoint's own (EvalScope 1.14.1 forces 512).",
    )
    prompt: str | None = Field(default=None, description="Prepended to every query (retrieval tasks).")
    prompts: dict[str, str] | None = Field(
        default=None, description="Per-task query prompts: {task: prompt}."
    )
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    config_kwargs: dict[str, Any] = Field(default_factory=dict)
    encode_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Passed to encode; `batch_size` sets the encoding batch."
    )
    hub: Literal["modelscope", "huggingface"] = Field(
        default="huggingface",
        description="Where a hub id not found in the local caches is downloaded from (online runs only).",
    )
    revision: str | None = None
    device: str | None = Field(default=None, description="cpu, cuda, cuda:1, …; None lets torch choose.")
    # OpenAI-compatible embedding service (EvalScope's API model fields)
    model_name: str | None = Field(default=None, description="Served model name of an embedding API.")
    api_base: str | None = Field(default=None, description="OpenAI-compatible base URL, e.g. http://host/v1.")
    api_key: SecretStr | None = None
    dimensions: int | None = Field(default=None, ge=1)

    # the folder a hub id resolved to (Hugging Face or ModelScope cache, or a ModelScope download)
    _location: str | None = PrivateAttr(default=None)

    @property
    def is_api(self) -> bool:
        return self.api_base is not None

    @property
    def location(self) -> str:
        """What to load: the folder `model_name_or_path` resolved to, else `model_name_or_path` itself."""
        return self._location or self.model_name_or_path

    def set_location(self, folder: str) -> None:
        self._location = folder

    @property
    def display_name(self) -> str:
        name = (self.model_name if self.is_api else None) or self.model_name_or_path or "model"
        return name.rstrip("/").rsplit("/", 1)[-1]

    def batch_size(self, default: int = 32) -> int:
        value = self.encode_kwargs.get("batch_size", default)
        return int(value) if isinstance(value, int) and value > 0 else default


class CustomTaskConfig(_Strict):
    """A retrieval task from local files: corpus.jsonl, queries.jsonl, qrels.jsonl (EvalScope's format)."""

    name: str = "CustomRetrieval"
    data_path: str
    eval_splits: list[str] = Field(default_factory=lambda: ["test"])


class MTEBEvalConfig(_Strict):
    task_names: list[str] | None = Field(
        default=None, validation_alias=AliasChoices("task_names", "tasks"), description="mteb task names."
    )
    task_types: list[str] | None = None
    languages: list[str] | None = None
    custom_tasks: list[CustomTaskConfig] | None = None
    output_folder: str | None = Field(
        default=None, description="Accepted for EvalScope configs; results always go to the run folder."
    )
    overwrite_results: bool = True
    limits: int | None = Field(default=None, ge=1, description="Rows per split (queries for retrieval).")
    hub: Literal["modelscope", "huggingface"] = "huggingface"
    top_k: int = Field(default=10, ge=1, description="Stage-1 hits handed to the reranker (two-stage).")
    eval_splits: list[str] | None = Field(default=None, description="Override every task's eval splits.")
    encode_kwargs: dict[str, Any] | None = None
    verbosity: int = 2
    cache_dir: str | None = Field(default=None, description="Embedding cache folder (default: see docs).")
    use_embedding_cache: bool = True


class MTEBToolConfig(_Strict):
    tool: Literal["mteb"] = "mteb"
    models: list[MTEBModelConfig] = Field(
        default_factory=list, validation_alias=AliasChoices("models", "model")
    )
    eval: MTEBEvalConfig = Field(default_factory=MTEBEvalConfig)


# --- RAGAS --------------------------------------------------------------------------------------


class RAGASLLMConfig(_Strict):
    """The judge: any OpenAI-compatible chat service."""

    model_name: str
    provider: str = "openai"
    api_base: str | None = None
    api_key: SecretStr | None = None
    temperature: float = 0.0
    max_tokens: int | None = Field(default=None, ge=1)
    max_retries: int = Field(default=3, ge=0, description="Retries of a malformed or failed judge reply.")
    timeout: float = Field(default=120.0, gt=0)


class RAGASEmbeddingConfig(_Strict):
    """Embeddings for answer relevancy/correctness: a local checkpoint or an OpenAI-compatible API."""

    model_name_or_path: str = Field(validation_alias=AliasChoices("model_name_or_path", "model_name"))
    provider: str = "huggingface"
    api_base: str | None = None
    api_key: SecretStr | None = None
    encode_kwargs: dict[str, Any] = Field(default_factory=dict)
    device: str | None = None


class RAGASEvalConfig(_Strict):
    testset_file: str
    critic_llm: RAGASLLMConfig
    embeddings: RAGASEmbeddingConfig
    metrics: list[str] = Field(default_factory=lambda: ["answer_relevancy", "faithfulness"])
    language: str = Field(
        default="english",
        description="Another language adapts the metric prompts through the judge (see ragas_eval/language.py).",
    )
    adapt_instruction: bool = Field(
        default=True, description="With a non-English language, translate the prompts' instructions too."
    )
    batch_size: int | None = Field(default=None, ge=1, description="Samples scored concurrently (default 8).")
    raise_exceptions: bool = False


class RAGASTestsetConfig(_Strict):
    """Generate (question, reference contexts, reference answer) rows from documents (see testset.py)."""

    docs: list[str] = Field(description="Document files and/or folders of .txt/.md files.")
    test_size: int = Field(default=10, ge=1)
    output_file: str = "outputs/testset.json"
    generator_llm: RAGASLLMConfig
    embeddings: RAGASEmbeddingConfig | None = Field(
        default=None, description="Accepted for EvalScope configs; the generator does not embed."
    )
    language: str = "english"
    chunk_size: int = Field(
        default=1500, ge=50, description="Most characters per chunk (paragraphs kept whole)."
    )
    seed: int = 42
    distribution: dict[str, float] | None = Field(
        default=None,
        description="Query type -> weight (single_hop_specific, multi_hop_specific, multi_hop_abstract).",
    )


class RAGASToolConfig(_Strict):
    tool: Literal["ragas"] = "ragas"
    testset_generation: RAGASTestsetConfig | None = None
    eval: RAGASEvalConfig | None = None


# --- CLIP benchmark -----------------------------------------------------------------------------


class ClipModelConfig(_Strict):
    model_name: str = Field(description="Local CLIP checkpoint folder (transformers) or hub id.")
    revision: str | None = None
    hub: Literal["modelscope", "huggingface"] = "huggingface"
    device: str | None = None


class ClipBenchmarkEvalConfig(_Strict):
    models: list[ClipModelConfig] = Field(default_factory=list)
    dataset_name: list[str] = Field(default_factory=list)
    data_dir: str | None = Field(default=None, description="Folder of the dataset (custom or webdataset).")
    split: str = "test"
    task: Literal["zeroshot_retrieval"] | None = None
    batch_size: int = Field(default=128, ge=1)
    num_workers: int = Field(default=1, ge=0)
    verbose: bool = True
    output_dir: str | None = None
    cache_dir: str | None = Field(default=None, description="Embedding cache folder (default: see docs).")
    use_embedding_cache: bool = True
    skip_existing: bool = False
    limit: int | None = Field(default=None, ge=1)
    recall_k: list[int] = Field(default_factory=lambda: [5], description="The k of recall@k (EvalScope: 5).")

    @field_validator("dataset_name", mode="before")
    @classmethod
    def _one_name(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("models", mode="before")
    @classmethod
    def _model_strings(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"model_name": m} if isinstance(m, str) else m for m in v]
        return v


class ClipBenchmarkToolConfig(_Strict):
    tool: Literal["clip_benchmark"] = "clip_benchmark"
    eval: ClipBenchmarkEvalConfig = Field(default_factory=ClipBenchmarkEvalConfig)


ToolConfig = MTEBToolConfig | RAGASToolConfig | ClipBenchmarkToolConfig
_MODELS: dict[str, type[BaseModel]] = {
    "mteb": MTEBToolConfig,
    "ragas": RAGASToolConfig,
    "clip_benchmark": ClipBenchmarkToolConfig,
}


# --- loading ------------------------------------------------------------------------------------


def load_tool_config(task: TaskConfig) -> ToolConfig:
    """Validate `task.eval_config` into the tool's model, filling gaps from the TaskConfig's flags."""
    raw, source = _raw_eval_config(task.eval_config)
    tool_value = raw.get("tool")
    if not isinstance(tool_value, str) or not tool_value.strip():
        raise ConfigError(
            f"{source} must name its tool: `tool: MTEB`, `tool: RAGAS` or `tool: clip_benchmark`.",
            hint="see docs/backends/rag.md for a complete example of each",
        )
    tool = TOOL_SPELLINGS.get(tool_value.strip().lower())
    if tool is None:
        guess = closest(tool_value.lower(), TOOLS)
        hint = f" Did you mean {guess[0]!r}?" if guess else ""
        raise ConfigError(
            f"{source}: unknown tool {tool_value!r}.{hint} Choose one of MTEB, RAGAS, clip_benchmark."
        )
    data = {**raw, "tool": tool}
    _fill_from_task(tool, data, task)
    model = _MODELS[tool]
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, model, source)) from None


def _raw_eval_config(value: dict[str, Any] | str | None) -> tuple[dict[str, Any], str]:
    if value is None:
        raise ConfigError(
            "The rag backend needs an eval_config (`eval_config: {tool: MTEB, …}` in the config file, or "
            "--eval-config rag.yaml).",
            hint="evalscope eval --backend rag --config rag.yaml  (see docs/backends/rag.md)",
        )
    if isinstance(value, str):
        path = Path(value).expanduser()
        return read_eval_config_file(path), f"eval_config file {path}"
    return copy.deepcopy(value), "eval_config"  # gaps are filled in below: never in the caller's dict


MINIMAL_EXAMPLE = {
    "yaml": "tool: MTEB\nmodels:\n  - model_name_or_path: /path/to/embedding-model\neval:\n  task_names: [STSBenchmark]",
    "json": '{"tool": "MTEB", "models": [{"model_name_or_path": "/path/to/embedding-model"}],\n'
    ' "eval": {"task_names": ["STSBenchmark"]}}',
}


def read_eval_config_file(path: Path) -> dict[str, Any]:
    """The mapping in an eval_config YAML/JSON file; an empty file, a list or a scalar is named as such.

    The core's reader reports those as "must hold a mapping of options, not NoneType", which says
    neither that the file is empty nor what belongs in it. Missing files, other suffixes and syntax
    errors keep the core's messages (with the line).
    """
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in (".yaml", ".yml", ".json"):
        return read_config_file(path)
    text = path.read_text(encoding="utf-8")
    data: Any = None
    if text.strip():
        try:
            data = json.loads(text) if suffix == ".json" else _yaml_load(text)
        except ValueError:  # a syntax error: the core's reader names the line
            return read_config_file(path)
    if isinstance(data, dict):
        return data
    if data is None:
        what = "is empty" + (" (only comments)" if text.strip() else "")
    elif isinstance(data, list):
        what = "holds a list"
    else:
        what = f"holds a single value ({data!r})"
    hint = "`models` and `eval.task_names` may also come from --model and --datasets"
    if isinstance(data, list) and data and isinstance(data[0], dict) and "tool" in data[0]:
        hint = "remove the leading '- ': one tool's settings per file, as a mapping; " + hint
    example = MINIMAL_EXAMPLE["json" if suffix == ".json" else "yaml"]
    raise ConfigError(
        f"eval_config file {path} {what}; it must hold the rag backend's settings as a mapping with a "
        f"`tool` key (MTEB, RAGAS or clip_benchmark). A minimal example:\n\n{_indent(example)}\n",
        hint=f"{hint}; a complete example of each tool: docs/backends/rag.md",
    )


def _yaml_load(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _fill_from_task(tool: str, data: dict[str, Any], task: TaskConfig) -> None:
    """Let EvalScope's top-level flags stand in for keys the eval_config leaves out.

    `--model`/`--api-url`/`--api-key` give the model (an embedding service when --api-url is set),
    `--datasets` the task names, `--limit` the rows per split, `--eval-batch-size` the batch size.
    """
    api_key = task.api_key.get_secret_value() if task.api_key is not None else None
    evl = data.get("eval")
    if tool == "mteb":
        models = data.get("models", data.get("model"))
        if not models and task.model:
            entry: dict[str, Any] = {"model_name_or_path": task.model}
            if task.api_url:
                entry = {"model_name": task.model, "api_base": task.api_url, "api_key": api_key}
            data.pop("model", None)
            data["models"] = [entry]
        elif isinstance(models, list):
            for m in models:
                if isinstance(m, dict) and m.get("model_name") and not m.get("api_base") and task.api_url:
                    m.setdefault("api_base", task.api_url)
                    if api_key is not None:
                        m.setdefault("api_key", api_key)
                is_local = isinstance(m, dict) and not m.get("api_base")
                if is_local and "eval_batch_size" in task.model_fields_set:
                    kwargs = m.setdefault("encode_kwargs", {})
                    if isinstance(kwargs, dict):
                        kwargs.setdefault("batch_size", task.eval_batch_size)
        evl = data.setdefault("eval", {}) if evl is None else evl
        if isinstance(evl, dict):
            if not evl.get("task_names") and not evl.get("tasks") and task.datasets:
                evl["task_names"] = list(task.datasets)
            if evl.get("limits") is None and task.limit is not None and task.limit >= 1:
                evl["limits"] = int(task.limit)
    elif tool == "ragas" and isinstance(evl, dict):
        if task.limit is not None and "limit" in task.model_fields_set:
            from evalscope.errors import ConfigError

            raise ConfigError(
                "tool RAGAS scores the whole testset: --limit is not supported there.",
                hint="drop --limit, or give a smaller testset file in eval_config.eval.testset_file",
            )
        if "critic_llm" not in evl and task.model and task.api_url:
            evl["critic_llm"] = {"model_name": task.model, "api_base": task.api_url, "api_key": api_key}
        if evl.get("batch_size") is None and "eval_batch_size" in task.model_fields_set:
            evl["batch_size"] = task.eval_batch_size
    elif tool == "clip_benchmark":
        evl = data.setdefault("eval", {}) if evl is None else evl
        if isinstance(evl, dict):
            if not evl.get("models") and task.model:
                evl["models"] = [{"model_name": task.model}]
            if not evl.get("dataset_name") and task.datasets:
                evl["dataset_name"] = list(task.datasets)
            if evl.get("limit") is None and task.limit is not None and task.limit >= 1:
                evl["limit"] = int(task.limit)


def format_errors(exc: ValidationError, model: type[BaseModel], source: str) -> str:
    """One line per problem, key paths as the user wrote them under `eval_config`."""
    from evalscope.config import format_validation_error

    return format_validation_error(exc, model, source, loc_prefix=("eval_config",))
