"""`--dataset random_vl` and `flickr8k`: image + text prompts reach the server as OpenAI content parts."""

from __future__ import annotations

import base64
import io
import struct
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evalscope.errors import DatasetNotFoundError
from evalscope.testing import InProcessServer, content_text, image_urls
from evalscope_perf import run_perf_benchmark
from evalscope_perf.datasets.images import png_bytes


def _png_size(url: str) -> tuple[int, int]:
    data = base64.b64decode(url.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _serve(tmp_path: Path, seen: list[list[dict[str, Any]]], **cfg: Any) -> Any:
    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages)
        return "a picture"

    with InProcessServer({"model": "vl"}, chat=chat) as srv:
        settings = {
            "url": srv.base_url, "model": "vl", "outputs_dir": str(tmp_path / "o"), "live": False,
            "no_test_connection": True, "sleep_interval": 0, "parallel": 2, **cfg,
        }  # fmt: skip
        return run_perf_benchmark(settings, quiet=True).runs[0]


def test_random_vl_sends_random_images_of_the_requested_size(tmp_path: Path, tokenizer_dir: Path) -> None:
    seen: list[list[dict[str, Any]]] = []
    run = _serve(
        tmp_path, seen, dataset="random_vl", tokenizer_path=str(tokenizer_dir), min_prompt_length=5,
        max_prompt_length=10, image_num=2, image_width=32, image_height=24, number=6, seed=1,
    )  # fmt: skip
    assert run.succeeded == 6
    for messages in seen:
        urls = image_urls(messages)
        assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
        assert {_png_size(u) for u in urls} == {(32, 24)}
        assert 5 <= len(content_text(messages[-1]["content"]).split()) <= 10
    assert len({u for m in seen for u in image_urls(m)}) > 2  # random, not one image repeated


def test_png_encoder_round_trips_pixels() -> None:
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = png_bytes(img)
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert raw == b"\x00" + img[0].tobytes() + b"\x00" + img[1].tobytes()


def _shard(path: Path, keys: range) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for k in keys:
            for name, data in (
                (f"s{k}.png", png_bytes(np.zeros((4, 5, 3), np.uint8))),
                (f"s{k}.txt", f"a dog {k}".encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_flickr8k_reads_webdataset_shards(tmp_path: Path) -> None:
    _shard(tmp_path / "test-000.tar", range(3))
    seen: list[list[dict[str, Any]]] = []
    run = _serve(tmp_path, seen, dataset="flickr8k", dataset_path=str(tmp_path), number=3)
    assert run.succeeded == 3
    captions = sorted(content_text(m[-1]["content"]) for m in seen)
    assert captions == ["a dog 0", "a dog 1", "a dog 2"]
    assert all(_png_size(image_urls(m)[0]) == (5, 4) for m in seen)


def test_flickr8k_without_a_path_downloads_only_the_shards_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub path: shards test/0.tar, test/1.tar, ... until the prompts are there (the download
    itself is the hub library's; here the 'hub' is a folder, as no test may reach the network)."""
    from evalscope_perf.datasets import images
    from evalscope_perf.datasets.base import DatasetContext

    hub = tmp_path / "hub"
    _shard(hub / "test" / "0.tar", range(3))
    _shard(hub / "test" / "1.tar", range(3, 6))
    asked: list[str] = []

    def download(ctx: Any, dataset_id: str, hf_id: str, filename: str) -> Path:
        assert dataset_id == hf_id == "clip-benchmark/wds_flickr8k"
        asked.append(filename)
        if not (hub / filename).exists():
            raise DatasetNotFoundError(f"{filename} is not in the dataset")
        return hub / filename

    monkeypatch.setattr(images, "download_hub_file", download)
    assert len(images.flickr8k(DatasetContext("flickr8k", None, 4))) == 4
    assert asked == ["test/0.tar", "test/1.tar"]
    asked.clear()
    prompts = images.flickr8k(DatasetContext("flickr8k", None, 100))  # the split ends at shard 2
    assert len(prompts) == 6 and asked == ["test/0.tar", "test/1.tar", "test/2.tar"]


def test_flickr8k_offline_without_a_path_names_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalscope_perf.datasets.base import DatasetContext
    from evalscope_perf.datasets.images import flickr8k

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="offline") as exc:
        flickr8k(DatasetContext("flickr8k", None, 10))
    assert "--dataset-path /path/to/test/0.tar" in str(exc.value)
