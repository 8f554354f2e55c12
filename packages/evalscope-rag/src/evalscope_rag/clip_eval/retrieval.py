"""Zero-shot image-text retrieval and recall@k, exactly as clip_benchmark defines them.

`scores = texts @ images.T` (both L2-normalised). For each text, its positives are the one image it
captions; for each image, all of its captions. recall@k of a query is 1 when at least one positive
is among its top-k candidates (`torch.topk`), and the metric is the mean over queries:

* `image_retrieval_recall@k`: text → image, averaged over texts;
* `text_retrieval_recall@k`: image → text, averaged over images.

clip_benchmark computes "actual recall" (true positives / positives) and thresholds it at > 0, which
is the same thing. One deliberate difference: a k larger than the number of candidates is clamped
(clip_benchmark's `torch.topk` would fail); recall@k is then 1.
"""

from __future__ import annotations

from typing import Any


def recall_hits(scores: Any, positives: Any, k: int) -> Any:
    """Per query (row): 1.0 if a positive is among the top-k columns, else 0.0."""
    import torch

    k = min(k, scores.shape[1])
    top = torch.topk(scores, k, dim=1).indices
    hits = positives.gather(1, top).any(dim=1)
    return hits.float()


def retrieval_metrics(
    text_emb: Any, image_emb: Any, text_to_image: list[int], ks: list[int]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics plus the per-query hit vectors (`image_retrieval@k` per text, `text_retrieval@k` per image)."""
    import torch

    scores = text_emb @ image_emb.T
    positives = torch.zeros_like(scores, dtype=torch.bool)
    positives[torch.arange(len(text_to_image)), torch.as_tensor(text_to_image)] = True
    metrics: dict[str, float] = {}
    per_query: dict[str, Any] = {}
    for k in ks:
        img_hits = recall_hits(scores, positives, k)
        txt_hits = recall_hits(scores.T, positives.T, k)
        metrics[f"image_retrieval_recall@{k}"] = float(img_hits.mean().item())
        metrics[f"text_retrieval_recall@{k}"] = float(txt_hits.mean().item())
        per_query[f"image_retrieval_recall@{k}"] = img_hits
        per_query[f"text_retrieval_recall@{k}"] = txt_hits
    return metrics, per_query
