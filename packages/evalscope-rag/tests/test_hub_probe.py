"""Without network the rag backend stops in `prepare`, before any download is tried: a hub id of an
embedding model or CLIP checkpoint in no local cache, or an mteb task with no local copy of its data.

The hub is 127.0.0.1 (`HF_ENDPOINT` names a port that refuses connections); no test leaves the
machine, and the run folder is never created.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.hub_access import HubUnreachableError, clear_probe_cache
from evalscope.run import run_task

_NETWORK_VARS = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "EVALSCOPE_HUB_PROBE", "EVALSCOPE_DATA_DIR",
)  # fmt: skip


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[int]:
    """HF_ENDPOINT at a refusing port on 127.0.0.1, empty model caches, no data dir, online."""
    constants = pytest.importorskip("huggingface_hub.constants")
    for name in _NETWORK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = closed.getsockname()[1]
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        clear_probe_cache()
        yield port
    clear_probe_cache()


def _run(tmp_path: Path, eval_config: dict[str, Any]) -> HubUnreachableError:
    cfg = {"eval_backend": "RAGEval", "work_dir": str(tmp_path / "out"), "eval_config": eval_config}
    with pytest.raises(HubUnreachableError) as err:
        run_task(cfg)
    assert not (tmp_path / "out").exists()  # prepare writes nothing
    return err.value


def test_an_embedding_model_to_download(tmp_path: Path, no_hub: int) -> None:
    err = _run(
        tmp_path,
        {"tool": "MTEB", "models": [{"model_name_or_path": "tiny-org/absent-embedder"}],
         "eval": {"task_names": ["STSBenchmark"]}},
    )  # fmt: skip
    text = str(err)
    assert "Cannot download model 'tiny-org/absent-embedder' (model_name_or_path)" in text
    assert f"http://127.0.0.1:{no_hub}" in text and "model_name_or_path /path/to/absent-embedder" in text


def test_mteb_task_data_to_download(tmp_path: Path, no_hub: int) -> None:
    model = tmp_path / "local-model"  # a folder: nothing to download for the model
    model.mkdir()
    err = _run(
        tmp_path,
        {
            "tool": "MTEB",
            "models": [{"model_name_or_path": str(model)}],
            "eval": {"task_names": ["STSBenchmark"]},
        },
    )
    text = str(err)
    assert "Cannot download the data of mteb task(s) STSBenchmark (mteb/stsbenchmark-sts)" in text
    assert "network is unreachable" in text and f"http://127.0.0.1:{no_hub}" in text
    assert "--data-dir / EVALSCOPE_DATA_DIR" in text and '"STSBenchmark": {"local_path"' in text


def test_a_clip_checkpoint_to_download(tmp_path: Path, no_hub: int) -> None:
    err = _run(
        tmp_path,
        {"tool": "clip_benchmark",
         "eval": {"models": [{"model_name": "tiny-org/absent-clip"}], "dataset_name": ["custom"],
                  "data_dir": str(tmp_path)}},
    )  # fmt: skip
    text = str(err)
    assert "Cannot download model 'tiny-org/absent-clip' (model_name)" in text
    assert str(tmp_path / "hf" / "models--tiny-org--absent-clip") in text
