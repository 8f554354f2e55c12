"""Run mteb tasks for the configured models, one stage or two, and turn the results into Reports.

Dispatch follows EvalScope 1.14.1: one encoder plus one cross-encoder with at least one retrieval
task is a two-stage run (the encoder retrieves, its top `top_k` hits per query are reranked by the
cross-encoder); otherwise each model runs on its own, a cross-encoder only on the tasks mteb lets
cross-encoders run (reranking, and retrieval with given candidates).

The scoring is mteb's: `mteb.evaluate` with mteb's own task classes. This module only loads each
task's data once (through `LocalHub` when a local folder exists), caps rows with `limits`, keeps
mteb's raw result JSON in `<run>/mteb/`, and reports each task's main score in the project schema.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.distributions import install_hint
from evalscope.errors import ConfigError, MissingDependencyError
from evalscope.report import CategoryScore, MetricScore, Report, SubsetScore
from evalscope.run_context import RunInfo

from evalscope_rag.config import MTEBModelConfig, MTEBToolConfig
from evalscope_rag.embedding.cache import default_cache_root
from evalscope_rag.mteb_eval.api_reranker import APIReranker
from evalscope_rag.mteb_eval.local_hub import LocalHub
from evalscope_rag.mteb_eval.models import build_encoder, build_reranker, check_model, display_name
from evalscope_rag.mteb_eval.tasks import TaskSource, resolve_tasks

log = logging.getLogger("evalscope.rag.mteb")

RETRIEVAL_TYPES = ("Retrieval", "InstructionRetrieval")


@dataclass
class MTEBPrepared:
    tool: MTEBToolConfig
    config: TaskConfig
    sources: list[TaskSource]
    offline: bool

    @property
    def encoders(self) -> list[MTEBModelConfig]:
        return [m for m in self.tool.models if not m.is_cross_encoder]

    @property
    def rerankers(self) -> list[MTEBModelConfig]:
        return [m for m in self.tool.models if m.is_cross_encoder]

    @property
    def two_stage(self) -> bool:
        return (
            len(self.encoders) == 1
            and len(self.rerankers) == 1
            and any(_is_retrieval(s.task) for s in self.sources)
        )


def prepare_mteb(tool: MTEBToolConfig, config: TaskConfig) -> MTEBPrepared:
    if not tool.models:
        raise ConfigError(
            "eval_config.models is empty: name at least one model.",
            hint="models: [{model_name_or_path: <folder>}] or --model <folder> (with --api-url for a service)",
        )
    offline = config.is_offline()
    for m in tool.models:
        check_model(m, offline)
    try:
        import mteb  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a dependency of this package
        raise MissingDependencyError(
            f"mteb is not installed ({exc}).", hint=install_hint("evalscope-rag")
        ) from None
    if tool.eval.hub == "modelscope" and "hub" in tool.eval.model_fields_set:
        log.warning(
            "eval.hub: modelscope is not used: data comes from local folders, else the Hugging Face hub"
        )
    return MTEBPrepared(tool, config, resolve_tasks(tool.eval, config), offline)


def run_mteb(prep: MTEBPrepared, run: RunInfo) -> list[Report]:
    evl = prep.tool.eval
    cache_root = None
    if evl.use_embedding_cache:
        cache_root = Path(evl.cache_dir).expanduser() if evl.cache_dir else default_cache_root()
    hub = LocalHub(
        {s.hub_id: s.folder for s in prep.sources if s.folder is not None and not s.custom},
        offline=prep.offline,
        searched={s.hub_id: s.searched for s in prep.sources},
    )
    out_root = run.run_dir / "mteb"
    encoders = [(m, build_encoder(m, prep.config, cache_root, prep.offline)) for m in prep.encoders]
    rerankers = [(m, build_reranker(m, prep.config, cache_root, prep.offline)) for m in prep.rerankers]
    reports: list[Report] = []
    try:
        with hub.installed():
            for src in prep.sources:
                counts = _load(src, evl.limits)
                if prep.two_stage:
                    reports += _two_stage(src, encoders[0], rerankers[0], counts, out_root, prep)
                else:
                    for m, enc in encoders:
                        reports.append(_one(src, m, enc, counts, out_root / "results", prep, stage=None))
                    for m, rr in rerankers:
                        if not getattr(src.task, "_support_cross_encoder", False):
                            log.warning(
                                "%s: cross-encoder %s skipped (mteb runs cross-encoders only on "
                                "reranking/retrieval tasks)",
                                src.name,
                                display_name(m),
                            )
                            continue
                        reports.append(_one(src, m, rr, counts, out_root / "results", prep, stage=None))
                if not src.custom:
                    src.task.unload_data()
    finally:
        for _, enc in encoders:
            enc.embedder.close()
        for _, rr in rerankers:
            if isinstance(rr, APIReranker):
                rr.close()
    return _disambiguate(reports)


def _two_stage(
    src: TaskSource,
    encoder: tuple[MTEBModelConfig, Any],
    reranker: tuple[MTEBModelConfig, Any],
    counts: dict[tuple[str, str], int],
    out_root: Path,
    prep: MTEBPrepared,
) -> list[Report]:
    stage1 = out_root / "stage1"
    predictions = stage1 / "predictions"
    first = _one(src, encoder[0], encoder[1], counts, stage1, prep, stage=1, prediction_folder=predictions)
    if not _is_retrieval(src.task):
        return [first]
    log.info(
        "%s: reranking the top %d stage-1 hits with %s",
        src.name,
        prep.tool.eval.top_k,
        display_name(reranker[0]),
    )
    src.task.convert_to_reranking(top_ranked_path=str(predictions), top_k=prep.tool.eval.top_k)
    second = _one(src, reranker[0], reranker[1], counts, out_root / "stage2", prep, stage=2)
    second.extra["stage1_score"] = first.score()
    return [first, second]


def _one(
    src: TaskSource,
    m: MTEBModelConfig,
    model: Any,
    counts: dict[tuple[str, str], int],
    results_dir: Path,
    prep: MTEBPrepared,
    *,
    stage: int | None,
    prediction_folder: Path | None = None,
) -> Report:
    import mteb

    evl = prep.tool.eval
    encode_kwargs: dict[str, Any] = {**(evl.encode_kwargs or {}), **m.encode_kwargs}
    encode_kwargs.setdefault("batch_size", m.batch_size())
    stats = getattr(getattr(model, "embedder", None), "stats", None)
    before = stats.as_dict() if stats is not None else None
    api_before = model.counters() if isinstance(model, APIReranker) else None
    log.info("mteb: %s on %s%s", display_name(m), src.name, f" (stage {stage})" if stage else "")
    result = mteb.evaluate(
        model,
        src.task,
        cache=mteb.ResultCache(cache_path=results_dir),
        overwrite_strategy="always" if evl.overwrite_results else "only-missing",
        encode_kwargs=encode_kwargs,  # type: ignore[arg-type]  # mteb's TypedDict; keys are the user's
        prediction_folder=prediction_folder,
        show_progress_bar=sys.stderr.isatty(),
        co2_tracker=False,
        raise_error=True,
    )
    task_result = result.task_results[0]
    extra: dict[str, Any] = {
        "tool": "mteb",
        "task_type": src.task.metadata.type,
        "main_score": src.task.metadata.main_score,
        "scores": task_result.scores,
        "mteb_version": mteb.__version__,
        "dataset": src.hub_id,
        "data_source": str(src.folder) if src.folder else "hub",
        "evaluation_time_s": task_result.evaluation_time,
        "results_dir": str(results_dir),
    }
    if stage is not None:
        extra["stage"] = stage
    if stats is not None and before is not None:
        after = stats.as_dict()
        extra["embedding_cache"] = {k: after[k] - before[k] for k in after}
    if isinstance(model, APIReranker) and api_before is not None:
        extra["rerank_api"] = {k: v - api_before[k] for k, v in model.counters().items()}
    label = prep.config.model_id if prep.config.model_id and len(prep.tool.models) == 1 else display_name(m)
    return _report(src, label, task_result, counts, extra, prep)


def _report(
    src: TaskSource,
    model_name: str,
    task_result: Any,
    counts: dict[tuple[str, str], int],
    extra: dict[str, Any],
    prep: MTEBPrepared,
) -> Report:
    main = str(src.task.metadata.main_score)
    categories = []
    for split, rows in task_result.scores.items():
        subsets = [
            SubsetScore(
                name=str(row.get("hf_subset", "default")),
                num=counts.get((str(row.get("hf_subset", "default")), split), 0),
                score=float(row["main_score"]),
            )
            for row in rows
        ]
        categories.append(
            CategoryScore(
                name=split,
                num=sum(s.num for s in subsets),
                score=_mean([s.score for s in subsets]),
                subsets=subsets,
            )
        )
    all_subsets = [s for c in categories for s in c.subsets]
    headline = float(task_result.get_score())  # mteb's own aggregate: mean main score over splits/subsets
    metric = MetricScore(
        name=main,
        num=sum(s.num for s in all_subsets),
        score=headline,
        macro_score=_mean([s.score for s in all_subsets]),
        categories=categories,
    )
    return Report(
        name=f"rag/{src.name}",
        dataset_name=src.name,
        pretty_name=src.name,
        benchmark_version=str(src.task.metadata.dataset.get("revision", "")),
        model_name=model_name,
        backend="rag",
        metrics=[metric],
        num_samples=metric.num,
        config=prep.tool.model_dump(mode="json"),
        extra=extra,
    )


def _load(src: TaskSource, limits: int | None) -> dict[tuple[str, str], int]:
    """Load the task's data once (local folder or hub), cap it, and count rows per (subset, split)."""
    if not src.task.data_loaded:
        src.task.load_data()
    counts: dict[tuple[str, str], int] = {}
    for subset, split, holder in _split_views(src.task):
        value = holder[split]
        if limits is not None:
            value = holder[split] = _limit(value, limits)
        counts[(subset, split)] = len(value["queries"]) if isinstance(value, dict) else len(value)
    return counts


def _split_views(task: Any) -> list[tuple[str, str, Any]]:
    from datasets import Dataset

    ds = task.dataset or {}
    eval_splits = set(task.eval_splits)
    if all(isinstance(v, Dataset) for v in ds.values()):  # monolingual: {split: Dataset}
        return [("default", split, ds) for split in ds if split in eval_splits]
    return [
        (subset, split, splits)
        for subset, splits in ds.items()
        if isinstance(splits, dict) or hasattr(splits, "keys")
        for split in list(splits.keys())
        if split in eval_splits
    ]


def _limit(value: Any, n: int) -> Any:
    if isinstance(value, dict) and "queries" in value:  # retrieval: cap the queries, keep the corpus
        queries = value["queries"].select(range(min(n, len(value["queries"]))))
        keep = set(queries["id"])
        limited = dict(value)
        limited["queries"] = queries
        limited["relevant_docs"] = {q: d for q, d in value["relevant_docs"].items() if q in keep}
        if value.get("top_ranked"):
            limited["top_ranked"] = {q: d for q, d in value["top_ranked"].items() if q in keep}
        return limited
    return value.select(range(min(n, len(value))))


def _is_retrieval(task: Any) -> bool:
    return str(task.metadata.type) in RETRIEVAL_TYPES


def _disambiguate(reports: list[Report]) -> list[Report]:
    """Several models on one task: `<task>@<model>` keeps their report files apart."""
    seen: dict[str, int] = {}
    for r in reports:
        seen[r.dataset_name] = seen.get(r.dataset_name, 0) + 1
    return [
        r.model_copy(update={"dataset_name": f"{r.dataset_name}@{r.model_name}"})
        if seen[r.dataset_name] > 1
        else r
        for r in reports
    ]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
