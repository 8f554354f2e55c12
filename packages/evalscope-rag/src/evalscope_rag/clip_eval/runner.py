"""clip_benchmark: each (model, dataset) pair → one Report with recall@k both ways.

Per-image records go to `reviews/<model>/<dataset>.jsonl` (its captions, whether each caption found
the image — text → image — and whether the image found one of its captions — image → text — at every
k), so a surprising figure can be traced to the pairs behind it.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.checkpoints import resolve_checkpoint
from evalscope.config import TaskConfig
from evalscope.contracts import ChatMessage
from evalscope.errors import ConfigError
from evalscope.report import CategoryScore, MetricScore, Report, SampleRecord, SubsetScore
from evalscope.run_context import RunInfo, atomic_write_text

from evalscope_rag.clip_eval.data import check_dataset, dataset_root, load_items
from evalscope_rag.config import ClipBenchmarkToolConfig, ClipModelConfig

log = logging.getLogger("evalscope.rag.clip")


@dataclass
class ClipPrepared:
    tool: ClipBenchmarkToolConfig
    config: TaskConfig
    roots: dict[str, Path]


def prepare_clip(tool: ClipBenchmarkToolConfig, config: TaskConfig) -> ClipPrepared:
    evl = tool.eval
    if not evl.models:
        raise ConfigError(
            "eval.models is empty: name a CLIP checkpoint folder (models: [{model_name: <folder>}])."
        )
    if not evl.dataset_name:
        raise ConfigError("eval.dataset_name is empty: e.g. [custom] with eval.data_dir, or [flickr8k].")
    if any(k < 1 for k in evl.recall_k):
        raise ConfigError("eval.recall_k values must be ≥ 1.")
    offline = config.is_offline()
    for m in evl.models:
        if Path(m.model_name).expanduser().is_dir():
            continue
        if offline:
            raise ConfigError(f"CLIP model {m.model_name!r} is not a local folder, and the run is offline.")
        # A hub id that transformers will download: if it is in no local cache, the hub must answer now
        # (a quick probe), not after transformers' retries in the middle of the run.
        resolve_checkpoint(m.model_name, m.revision, False, "huggingface", option="model_name")
    roots = {name: dataset_root(name, evl.data_dir, config.resolved_data_dir()) for name in evl.dataset_name}
    for root in roots.values():
        check_dataset(root, evl.split)  # fail on a malformed set now, not after loading a model
    return ClipPrepared(tool, config, roots)


def run_clip(prep: ClipPrepared, run: RunInfo) -> list[Report]:
    from evalscope_rag.clip_eval.cache import CachedClipEncoder, encoder_identity
    from evalscope_rag.clip_eval.model import ClipEncoder
    from evalscope_rag.embedding.cache import default_cache_root

    evl = prep.tool.eval
    cache_root = None
    if evl.use_embedding_cache:
        cache_root = Path(evl.cache_dir).expanduser() if evl.cache_dir else default_cache_root()
    reports = []
    for m in evl.models:
        clip = ClipEncoder(
            m.model_name, device=m.device, revision=m.revision, offline=prep.config.is_offline()
        )
        encoder = CachedClipEncoder.open(clip, encoder_identity(clip.name, m.revision), cache_root)
        try:
            for name, root in prep.roots.items():
                reports.append(_evaluate(encoder, m, name, root, prep, run))
        finally:
            encoder.close()
    if len(evl.models) > 1:
        reports = [r.model_copy(update={"dataset_name": f"{r.dataset_name}@{r.model_name}"}) for r in reports]
    return reports


def _evaluate(
    encoder: Any, m: ClipModelConfig, name: str, root: Path, prep: ClipPrepared, run: RunInfo
) -> Report:
    import torch
    from tqdm.auto import tqdm

    from evalscope_rag.clip_eval.retrieval import retrieval_metrics

    evl = prep.tool.eval
    items = load_items(root, evl.split, evl.limit)
    image_parts, text_parts, text_to_image = [], [], []
    show = evl.verbose and sys.stderr.isatty()
    before = encoder.stats.as_dict()
    for start in tqdm(range(0, len(items), evl.batch_size), desc=f"CLIP {name}", disable=not show):
        batch = items[start : start + evl.batch_size]
        image_parts.append(encoder.encode_images(batch))
        texts = [c for it in batch for c in it.captions]
        text_to_image += [start + i for i, it in enumerate(batch) for _ in it.captions]
        text_parts.append(encoder.encode_texts(texts))
    image_emb, text_emb = torch.cat(image_parts), torch.cat(text_parts)
    metrics, per_query = retrieval_metrics(text_emb, image_emb, text_to_image, evl.recall_k)
    model_name = display_name(m.model_name)
    records = _records(items, name, text_to_image, per_query)
    atomic_write_text(run.reviews_path(name), "\n".join(r.model_dump_json() for r in records) + "\n")
    scores = []
    for metric, value in metrics.items():
        num = len(text_to_image) if metric.startswith("image_retrieval") else len(items)
        sub = SubsetScore(name=evl.split, num=num, score=value)
        scores.append(
            MetricScore(
                name=metric,
                num=num,
                score=value,
                macro_score=value,
                categories=[CategoryScore(name="default", num=num, score=value, subsets=[sub])],
            )
        )
    return Report(
        name=f"rag/{name}",
        dataset_name=name,
        pretty_name=name,
        model_name=model_name,
        backend="rag",
        metrics=scores,
        num_samples=len(items),
        config=prep.tool.model_dump(mode="json"),
        extra={
            "tool": "clip_benchmark",
            "task": "zeroshot_retrieval",
            "metrics": metrics,
            "data_source": str(root),
            "num_images": len(items),
            "num_texts": len(text_to_image),
            "embedding_cache": {k: v - before[k] for k, v in encoder.stats.as_dict().items()},
        },
    )


def _records(
    items: list[Any], name: str, text_to_image: list[int], per_query: dict[str, Any]
) -> list[SampleRecord]:
    caption_rows: dict[int, list[int]] = {}
    for row, img in enumerate(text_to_image):
        caption_rows.setdefault(img, []).append(row)
    records = []
    for i, item in enumerate(items):
        scores = {m: float(v[i]) for m, v in per_query.items() if m.startswith("text_retrieval")}
        caption_hits = {
            m: [float(v[r]) for r in caption_rows[i]]
            for m, v in per_query.items()
            if m.startswith("image_retrieval")
        }
        records.append(
            SampleRecord(
                benchmark=name,
                subset="default",
                index=i,
                id=item.key,
                cache_key=hashlib.sha256(f"{name}/{item.key}".encode()).hexdigest(),
                input=[ChatMessage(role="user", content=c) for c in item.captions],
                target=str(item.image_path or item.key),
                scores=scores,
                metadata={"captions": item.captions, "caption_hits": caption_hits},
            )
        )
    return records


def display_name(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").rstrip("/").split("/") if p]
    return parts[-1] if parts else "clip"
