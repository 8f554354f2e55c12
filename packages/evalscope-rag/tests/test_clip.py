"""CLIP-benchmark image-text retrieval on a fixture of our own making, with a tiny real CLIP checkpoint.

recall@k from the backend must equal an independent computation (numpy argsort, from embeddings this
test computes itself with transformers) — the definition clip_benchmark uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evalscope.errors import DataFormatError, DatasetNotFoundError
from evalscope.run import run_task
from evalscope_rag.testing.clip_fixture import write_image_text_set, write_tiny_clip


@pytest.fixture(scope="module")
def clip_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("clip")
    return write_image_text_set(root / "data"), write_tiny_clip(root / "tiny-clip", seed=1)


def _independent_recall(model_dir: Path, data_dir: Path, ks: list[int]) -> dict[str, float]:
    import torch
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(model_dir).eval()
    tok, proc = AutoTokenizer.from_pretrained(model_dir), AutoImageProcessor.from_pretrained(model_dir)
    rows = [json.loads(x) for x in (data_dir / "image_queries.jsonl").read_text().splitlines()]
    images = [Image.open(data_dir / r["image_path"]).convert("RGB") for r in rows]
    texts = [c for r in rows for c in r["query"]]
    owner = np.array([i for i, r in enumerate(rows) for _ in r["query"]])
    with torch.no_grad():
        img = model.get_image_features(pixel_values=proc(images=images, return_tensors="pt")["pixel_values"])
        enc = tok(texts, padding=True, return_tensors="pt")
        txt = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    img = getattr(img, "pooler_output", img).numpy()
    txt = getattr(txt, "pooler_output", txt).numpy()
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    txt /= np.linalg.norm(txt, axis=1, keepdims=True)
    scores = txt @ img.T
    out = {}
    for k in ks:
        top_images = np.argsort(-scores, axis=1)[:, :k]
        out[f"image_retrieval_recall@{k}"] = float(
            np.mean([owner[t] in top_images[t] for t in range(len(texts))])
        )
        top_texts = np.argsort(-scores.T, axis=1)[:, :k]
        out[f"text_retrieval_recall@{k}"] = float(
            np.mean([(owner[top_texts[i]] == i).any() for i in range(len(rows))])
        )
    return out


def test_recall_at_k_matches_an_independent_computation(
    clip_setup: tuple[Path, Path], tmp_path: Path
) -> None:
    data_dir, model_dir = clip_setup
    ks = [1, 3, 5]
    cfg = {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "offline": True,
        "eval_config": {
            "tool": "clip_benchmark",
            "eval": {
                "models": [{"model_name": str(model_dir)}],
                "dataset_name": ["custom"],
                "data_dir": str(data_dir),
                "batch_size": 5,
                "recall_k": ks,
            },
        },
    }
    report = run_task(cfg)["custom"]
    expected = _independent_recall(model_dir, data_dir, ks)
    got = {m.name: m.score for m in report.metrics}
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-6), name
    assert got["image_retrieval_recall@5"] >= got["image_retrieval_recall@1"]
    nums = {m.name: m.num for m in report.metrics}
    assert nums["image_retrieval_recall@1"] == 24 and nums["text_retrieval_recall@1"] == 12
    reviews = next((tmp_path / "outputs").rglob("custom.jsonl")).read_text().splitlines()
    assert len(reviews) == 12 and "caption_hits" in reviews[0]


def test_a_rerun_encodes_nothing_and_scores_the_same(clip_setup: tuple[Path, Path], tmp_path: Path) -> None:
    data_dir, model_dir = clip_setup
    eval_cfg = {
        "models": [{"model_name": str(model_dir)}],
        "dataset_name": ["custom"],
        "data_dir": str(data_dir),
        "batch_size": 4,
        "recall_k": [1, 5],
    }

    def run(out: str) -> tuple[dict[str, float], dict[str, int]]:
        cfg = {"eval_backend": "RAGEval", "work_dir": str(tmp_path / out), "offline": True,
               "eval_config": {"tool": "clip_benchmark", "eval": eval_cfg}}  # fmt: skip
        report = run_task(cfg)["custom"]
        return {m.name: m.score for m in report.metrics}, report.extra["embedding_cache"]

    first, first_stats = run("first")
    assert first_stats == {"images_encoded": 12, "images_cached": 0, "texts_encoded": 24, "texts_cached": 0}
    second, second_stats = run("second")
    assert second_stats == {"images_encoded": 0, "images_cached": 12, "texts_encoded": 0, "texts_cached": 24}
    assert second == first  # the cached float32 vectors are the encoder's own

    eval_cfg["use_embedding_cache"] = False
    third, third_stats = run("third")
    assert third_stats["images_encoded"] == 12 and third_stats["images_cached"] == 0 and third == first


def test_bad_image_sets_fail_before_the_run(clip_setup: tuple[Path, Path], tmp_path: Path) -> None:
    _, model_dir = clip_setup
    base = {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "outputs"),
        "eval_config": {
            "tool": "clip_benchmark",
            "eval": {"models": [str(model_dir)], "dataset_name": "custom"},
        },
    }
    with pytest.raises(DatasetNotFoundError, match="image-text dataset 'custom'"):
        run_task(
            {
                **base,
                "eval_config": {
                    **base["eval_config"],
                    "eval": {**base["eval_config"]["eval"], "data_dir": str(tmp_path)},
                },
            }
        )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "image_queries.jsonl").write_text('{"image_path": "missing.png", "query": ["x"]}\n')
    with pytest.raises(DataFormatError, match=r"image_queries.jsonl:1: image .*missing.png does not exist"):
        run_task(
            {
                **base,
                "eval_config": {
                    **base["eval_config"],
                    "eval": {**base["eval_config"]["eval"], "data_dir": str(broken)},
                },
            }
        )
    assert not (tmp_path / "outputs").exists()


def test_webdataset_shards_are_read_without_the_webdataset_package(
    clip_setup: tuple[Path, Path], tmp_path: Path
) -> None:
    import io
    import tarfile

    from evalscope_rag.clip_eval.data import load_items

    data_dir, _ = clip_setup
    rows = [json.loads(x) for x in (data_dir / "image_queries.jsonl").read_text().splitlines()]
    root = tmp_path / "wds"
    (root / "test").mkdir(parents=True)
    (root / "dataset_type.txt").write_text("retrieval\n")
    (root / "test" / "nshards.txt").write_text("1\n")
    with tarfile.open(root / "test" / "0.tar", "w") as tar:
        for i, row in enumerate(rows):
            for name, payload in (
                (f"{i:04d}.png", (data_dir / row["image_path"]).read_bytes()),
                (f"{i:04d}.txt", "\n".join(row["query"]).encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    items = load_items(root, "test")
    assert [it.captions for it in items] == [r["query"] for r in rows]
    assert items[0].open().size == (48, 48)
