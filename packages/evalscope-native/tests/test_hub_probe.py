"""Without network the dataset hub path fails at once (evalscope.hub_access), in-process and via the CLI.

The hub is 127.0.0.1: `HF_ENDPOINT` names a port that refuses connections, or one that accepts them.
No test reaches the internet; none waits for a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.datasets import DataSource
from evalscope.hub_access import HubUnreachableError, clear_probe_cache
from evalscope_native.data.hub import HubLoader
from evalscope_native.data.loader import pick_loader
from native_helpers import evalscope_cmd

_NETWORK_VARS = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "EVALSCOPE_HUB_PROBE", "EVALSCOPE_DATA_DIR",
)  # fmt: skip


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch, closed_port: int, tmp_path: Path) -> Iterator[int]:
    for name in _NETWORK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    clear_probe_cache()
    yield closed_port
    clear_probe_cache()


def _source(dataset_id: str = "openai/gsm8k", **kw: Any) -> DataSource:
    return DataSource(benchmark="gsm8k", dataset_id=dataset_id, subset="main", split="test", **kw)


def test_the_hub_loader_fails_at_once_naming_endpoint_and_local_alternatives(no_hub: int) -> None:
    loader = pick_loader(_source())  # no local copy, online: the hub path
    assert isinstance(loader, HubLoader)
    with pytest.raises(HubUnreachableError) as err:
        loader.load(_source())
    text = str(err.value)
    assert "Cannot download dataset 'openai/gsm8k' for gsm8k: the network is unreachable." in text
    assert f"Tried the Hugging Face hub at http://127.0.0.1:{no_hub}" in text
    assert "--data-dir / EVALSCOPE_DATA_DIR" in text and "gsm8k/<subset>/<split>.jsonl" in text
    assert '"dataset_id": "/path/to/folder"' in text and "--offline (or HF_HUB_OFFLINE=1)" in text


def test_a_modelscope_dataset_is_probed_at_modelscope(monkeypatch: pytest.MonkeyPatch, no_hub: int) -> None:
    monkeypatch.setenv("MODELSCOPE_DOMAIN", f"http://127.0.0.1:{no_hub}")
    with pytest.raises(HubUnreachableError) as err:
        HubLoader().load(_source("modelscope/gsm8k", hub="modelscope"))
    assert f"Tried ModelScope at http://127.0.0.1:{no_hub}" in str(err.value)


def _datasets_cache(root: Path, dataset_id: str, config: str, split: str, rows: list[dict[str, Any]]) -> Path:
    """A real `datasets` cache entry for `dataset_id`, as an earlier online `load_dataset` leaves it:
    `datasets` prepares the rows (arrow + dataset_info.json), filed under the hub dataset's name."""
    import datasets

    src = root / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    build = root / "build"
    datasets.load_dataset("json", data_files={split: str(src)}, cache_dir=str(build))
    prepared = next(p for p in build.glob("json/*/*/*") if p.is_dir())
    namespace, name = dataset_id.split("/")
    target = root / "cache" / f"{namespace}___{name}" / config / "0.0.0" / prepared.name
    shutil.copytree(prepared, target)
    info = json.loads((target / "dataset_info.json").read_text(encoding="utf-8"))
    info.update(config_name=config, dataset_name=name)  # `datasets` matches the folder against these
    (target / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    for arrow in target.glob("json-*.arrow"):  # the builder's files are named after the dataset
        arrow.rename(target / f"{name}-{arrow.name.removeprefix('json-')}")
    return root / "cache"


def test_a_copy_in_the_datasets_cache_is_still_used_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hub: int
) -> None:
    datasets = pytest.importorskip("datasets")
    rows = [{"question": "1+1?", "answer": "#### 2"}, {"question": "2+2?", "answer": "#### 4"}]
    cache = _datasets_cache(tmp_path, "evalscope-test/tinygsm", "main", "test", rows)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)  # read by `datasets` at import
    offline_before = datasets.config.HF_HUB_OFFLINE
    split = HubLoader().load(_source("evalscope-test/tinygsm"))
    assert split.records == rows and split.origin == "huggingface-cache:evalscope-test/tinygsm"
    assert datasets.config.HF_HUB_OFFLINE == offline_before  # switched on for that one call only
    with pytest.raises(HubUnreachableError):  # same namespace, not cached: the unreachable hub is the error
        HubLoader().load(_source("evalscope-test/absent"))


def test_cli_without_data_dir_and_without_network_exits_2_with_the_message(
    tmp_path: Path, closed_port: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _NETWORK_VARS}
    env.update(
        HF_ENDPOINT=f"http://127.0.0.1:{closed_port}",
        HF_DATASETS_CACHE=str(tmp_path / "datasets-cache"),
        EVALSCOPE_CACHE_DIR=str(tmp_path / "evalscope-cache"),
    )
    res = subprocess.run(
        evalscope_cmd("eval", "--model", "mock_llm", "--datasets", "gsm8k", "--limit", "2",
                      "--work-dir", str(tmp_path / "out")),
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Cannot download dataset 'openai/gsm8k' for gsm8k: the network is unreachable." in res.stderr
    assert f"http://127.0.0.1:{closed_port}" in res.stderr
    assert "--data-dir / EVALSCOPE_DATA_DIR" in res.stderr and "--offline" in res.stderr
    assert "Traceback" not in res.stderr and "Retrying" not in res.stderr
    assert not (tmp_path / "out").exists()
