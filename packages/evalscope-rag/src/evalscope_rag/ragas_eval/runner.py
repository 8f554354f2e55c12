"""RAGAS: score every sample with every chosen metric, keep per-sample scores and the judge's replies.

Unlike `ragas.evaluate`, which turns a failed metric into NaN and moves on, each (sample, metric)
runs on its own here: a judge reply that stays malformed after its retries, or a metric that
returns NaN, is recorded as that sample's failure with the reason (and the reply), scored 0 for that
metric in the aggregate, and listed in the report's `errors` — visible, never silent. The other
metrics of the sample keep their scores.

Run folder: `reviews/<model>/<testset>.jsonl` (one `SampleRecord` per sample, with per-metric errors
in `metadata.metric_errors`), `predictions/<model>/<testset>.judge.jsonl` (every judge exchange of
this run), `predictions/<model>/<testset>.jsonl` (the judge cache, appended as replies arrive: see
`judge_cache.py`; `--use-cache <run folder>` resumes from it) and, with a non-English `language`,
`prompts/ragas_<language>.json` (the adapted prompts: see `language.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from evalscope.config import TaskConfig
from evalscope.contracts import ChatMessage
from evalscope.errors import ConfigError
from evalscope.report import Report, SampleError, SampleRecord, build_report
from evalscope.run_context import RunInfo, atomic_write_json, atomic_write_text, call_lifecycle

from evalscope_rag.config import RAGASEmbeddingConfig, RAGASLLMConfig, RAGASToolConfig
from evalscope_rag.embedding.api import OpenAIEmbeddingClient
from evalscope_rag.embedding.cache import default_cache_root
from evalscope_rag.embedding.cached import CachedEmbedder, TextEmbedder
from evalscope_rag.embedding.local import LocalSentenceTransformer, resolve_local_model
from evalscope_rag.ragas_eval.dataset import RagSample, check_fields, read_testset
from evalscope_rag.ragas_eval.judge import (
    JudgeLLM,
    JudgeRecorder,
    RagasEmbeddings,
    current_call,
    register_with_ragas,
)
from evalscope_rag.ragas_eval.judge_cache import JudgeCache
from evalscope_rag.ragas_eval.language import adapt_metric_prompts, file_label, is_english
from evalscope_rag.ragas_eval.metrics import MetricInfo, resolve_metric

log = logging.getLogger("evalscope.rag.ragas")

DEFAULT_CONCURRENCY = 8


@dataclass
class RagasPrepared:
    tool: RAGASToolConfig
    config: TaskConfig
    testset_path: Path | None
    samples: list[RagSample]
    metrics: list[MetricInfo]


def prepare_ragas(tool: RAGASToolConfig, config: TaskConfig) -> RagasPrepared:
    if tool.eval is None and tool.testset_generation is None:
        raise ConfigError("eval_config for RAGAS needs `eval:` (score a test set) or `testset_generation:`.")
    if tool.testset_generation is not None:
        from evalscope_rag.ragas_eval.testset import check_generation

        check_generation(tool.testset_generation)
    if tool.eval is None:
        return RagasPrepared(tool, config, None, [], [])
    evl = tool.eval
    _check_endpoint(evl.critic_llm, "critic_llm")
    metrics = [resolve_metric(name) for name in evl.metrics]
    if not metrics:
        raise ConfigError("eval.metrics is empty; e.g. [faithfulness, answer_relevancy].")
    path = Path(evl.testset_file).expanduser()
    samples = [] if tool.testset_generation is not None and not path.exists() else read_testset(path)
    check_fields(path, samples, {m.name: m.needs for m in metrics})
    return RagasPrepared(tool, config, path, samples, metrics)


def _check_endpoint(llm: RAGASLLMConfig, where: str) -> None:
    if llm.provider.lower() not in ("openai", "openai_api", "vllm", "service"):
        raise ConfigError(
            f"{where}.provider {llm.provider!r}: the judge is reached through an OpenAI-compatible API.",
            hint="serve the judge with vLLM/SGLang/Ollama/… and set provider: openai with api_base",
        )
    if not llm.api_base:
        raise ConfigError(
            f"{where}.api_base is required: the OpenAI-compatible base URL, e.g. http://host/v1."
        )


def make_embedder(cfg: RAGASEmbeddingConfig, config: TaskConfig) -> CachedEmbedder:
    inner: TextEmbedder
    if cfg.api_base or cfg.provider.lower() == "openai":
        if not cfg.api_base:
            raise ConfigError("embeddings.api_base is required for provider: openai.")
        inner = OpenAIEmbeddingClient(
            cfg.model_name_or_path,
            cfg.api_base,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            timeout=config.timeout,
            retry=config.retry,
        )
    else:
        offline = config.is_offline()
        location = resolve_local_model(
            cfg.model_name_or_path, revision=None, offline=offline, hub="huggingface"
        )
        inner = LocalSentenceTransformer(location, device=cfg.device, offline=offline)
    batch = cfg.encode_kwargs.get("batch_size", 32)
    return CachedEmbedder(
        inner,
        cache_root=default_cache_root(),
        batch_size=batch if isinstance(batch, int) else 32,
        show_progress=False,
        encode_kwargs=cfg.encode_kwargs,
    )


def make_judge(
    cfg: RAGASLLMConfig, config: TaskConfig, recorder: JudgeRecorder, cache: JudgeCache | None = None
) -> JudgeLLM:
    assert cfg.api_base is not None
    return JudgeLLM(
        cfg.model_name,
        cfg.api_base,
        api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        max_retries=cfg.max_retries,
        timeout=min(cfg.timeout, config.timeout or cfg.timeout),
        retry=config.retry,
        recorder=recorder,
        cache=cache,
    )


def run_ragas(prep: RagasPrepared, run: RunInfo) -> list[Report]:
    reports: list[Report] = []
    if prep.tool.testset_generation is not None:
        from evalscope_rag.ragas_eval.testset import generate_testset

        generate_testset(prep.tool.testset_generation, prep.config, run)
        # read again even if prepare read it: the file may be the one just (re)generated
        if prep.tool.eval is not None and prep.testset_path is not None:
            prep.samples = read_testset(prep.testset_path)
            check_fields(prep.testset_path, prep.samples, {m.name: m.needs for m in prep.metrics})
    if prep.tool.eval is not None:
        reports.append(asyncio.run(_evaluate(prep, run)))
    return reports


async def _evaluate(prep: RagasPrepared, run: RunInfo) -> Report:
    evl = prep.tool.eval
    assert evl is not None and prep.testset_path is not None
    register_with_ragas()
    recorder = JudgeRecorder()
    cache = JudgeCache(run.predictions_path(prep.testset_path.stem))
    if cache.loaded:
        log.info("resuming: %d judge replies in %s are reused, not asked again", cache.loaded, cache.path)
    judge = make_judge(evl.critic_llm, prep.config, recorder, cache)
    embedder = make_embedder(evl.embeddings, prep.config)
    embeddings = RagasEmbeddings(embedder)
    metrics = {m.name: m.build(judge, embeddings) for m in prep.metrics}
    prompts_file: Path | None = None
    results: dict[tuple[int, str], tuple[float | None, str | None]] = {}
    sem = asyncio.Semaphore(evl.batch_size or DEFAULT_CONCURRENCY)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(prep.samples) * len(metrics), desc="RAGAS", disable=not sys.stderr.isatty())

    async def score(sample: RagSample, info: MetricInfo) -> None:
        async with sem:
            current_call.set((sample.index, info.name))
            kwargs = {f: sample.get(f) for f in info.needs}
            try:
                result = await metrics[info.name].ascore(**kwargs)
                value = float(getattr(result, "value", result))
                if math.isnan(value):
                    reason = getattr(result, "reason", None)
                    outcome: tuple[float | None, str | None] = (
                        None,
                        f"{info.name}: the metric returned NaN"
                        + (f" ({reason})" if reason else "")
                        + " — e.g. the judge found no statements",
                    )
                else:
                    outcome = (value, None)
            except Exception as exc:
                if evl.raise_exceptions:
                    raise
                outcome = (None, f"{info.name}: {type(exc).__name__}: {exc}")
                log.warning("sample %s, %s failed: %s", sample.id, info.name, exc)
            results[(sample.index, info.name)] = outcome
            bar.update(1)

    try:
        if not is_english(evl.language):
            adapted = await adapt_metric_prompts(
                metrics, evl.language, judge, adapt_instruction=evl.adapt_instruction
            )
            prompts_file = run.run_dir / "prompts" / f"ragas_{file_label(evl.language)}.json"
            atomic_write_json(prompts_file, adapted)
        await asyncio.gather(*(score(s, m) for s in prep.samples for m in prep.metrics))
    finally:
        bar.close()
        await judge.aclose()
        embedder.close()
        cache.close()
    return _write(prep, run, results, recorder, judge, embedder, prompts_file)


def _write(
    prep: RagasPrepared,
    run: RunInfo,
    results: dict[tuple[int, str], tuple[float | None, str | None]],
    recorder: JudgeRecorder,
    judge: JudgeLLM,
    embedder: CachedEmbedder,
    prompts_file: Path | None,
) -> Report:
    evl = prep.tool.eval
    assert evl is not None and prep.testset_path is not None
    name = prep.testset_path.stem
    names = [m.name for m in prep.metrics]
    records: list[SampleRecord] = []
    for s in prep.samples:
        scores = {m: v for m in names if (v := results[(s.index, m)][0]) is not None}
        errors = {m: e for m in names if (e := results[(s.index, m)][1]) is not None}
        content = json.dumps(
            {"sample": s.fields, "metrics": names, "judge": judge.identity(), "language": evl.language},
            sort_keys=True,
        )
        rec = SampleRecord(
            benchmark=name,
            subset="default",
            index=s.index,
            id=s.id,
            cache_key=hashlib.sha256(content.encode()).hexdigest(),
            input=[ChatMessage(role="user", content=s.get("user_input") or "")],
            target=s.get("reference") or "",
            prediction=s.get("response"),
            scores=scores,
            error="; ".join(errors.values()) or None,
            attempts=sum(len(v) for v in recorder.for_sample(s.index).values()),
            metadata={"retrieved_contexts": s.get("retrieved_contexts"), "metric_errors": errors},
        )
        records.append(rec)
        call_lifecycle("evalscope_on_sample_done", run=run, record=rec)
    lines = [r.model_dump_json() for r in records]
    atomic_write_text(run.reviews_path(name), "\n".join(lines) + "\n")
    replies = [  # the prompt adaptation's exchanges first (index -1), then each sample's
        json.dumps({"index": i, "id": None, "metric": metric, **entry}, ensure_ascii=False)
        for (i, metric), entries in sorted(recorder.entries.items())
        if i < 0
        for entry in entries
    ]
    replies += [
        json.dumps({"index": s.index, "id": s.id, "metric": metric, **entry}, ensure_ascii=False)
        for s in prep.samples
        for metric, entries in sorted(recorder.for_sample(s.index).items())
        for entry in entries
    ]
    judge_path = run.predictions_path(name).with_suffix(".judge.jsonl")
    atomic_write_text(judge_path, "\n".join(replies) + ("\n" if replies else ""))
    # Aggregate: a failed metric counts 0 for that sample only; the sample is listed in `errors`.
    scored = [
        r.model_copy(update={"error": None, "scores": {m: r.scores.get(m, 0.0) for m in names}})
        for r in records
    ]
    report = build_report(
        scored,
        name=f"rag/{name}",
        dataset_name=name,
        model_name=run.model_name,
        metrics=names,
        pretty_name=f"RAGAS {name}",
        backend="rag",
        config=prep.tool.model_dump(mode="json"),
        extra={
            "tool": "ragas",
            "judge": judge.identity(),
            "judge_requests": judge.requests,
            "judge_replies_file": str(judge_path),
            "judge_cache": {
                "file": str(judge.cache.path),
                "reused_from_previous_run": judge.cache.loaded,
                "hits": judge.cache_hits,
            },
            "language": evl.language,
            "prompts_file": str(prompts_file) if prompts_file is not None else None,
            "embedding_cache": embedder.stats.as_dict(),
            "failed_metrics": sum(1 for v in results.values() if v[1] is not None),
        },
    )
    failed = [SampleError(id=r.id, subset=r.subset, error=r.error) for r in records if r.error is not None]
    return report.model_copy(update={"errors": failed, "num_errors": len(failed)})
