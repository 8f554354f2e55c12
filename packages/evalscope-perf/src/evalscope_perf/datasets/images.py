"""Image + text prompts: `--dataset random_vl` (random text and random images) and `flickr8k`.

* `random_vl` (EvalScope's): each prompt is a `random` text prompt (`--tokenizer-path`, lengths as
  `--min/--max-prompt-length`) plus `--image-num` random PNG images of `--image-width` x
  `--image-height` (a flat colour with random rectangles, seeded by `--seed`), sent as base64
  `data:` URLs in OpenAI's content parts. PNGs are encoded here (zlib), no imaging library needed.
* `flickr8k`: Flickr8k's images with their captions as the text, EvalScope's way, read from
  `--dataset-path`: a folder or the WebDataset `.tar` shards of `clip-benchmark/wds_flickr8k`
  (members `<key>.jpg` + `<key>.txt`), or a folder of images with same-named `.txt` captions.
  Without `--dataset-path` the test split's shards (`test/0.tar`, `test/1.tar`, ...) are downloaded
  from the hub (`--dataset-source`, ModelScope by default, as EvalScope), only as many as the run's
  prompts need; offline that fails at once and names the flag to use.
"""

from __future__ import annotations

import base64
import struct
import tarfile
import zlib
from pathlib import Path
from typing import Any

from evalscope.errors import ConfigError, DataFormatError, DatasetNotFoundError

from evalscope_perf.apis.base import Prompt
from evalscope_perf.datasets.base import DatasetContext, download_hub_file, require_path
from evalscope_perf.datasets.random_tokens import random_prompts

__all__ = ["flickr8k", "png_bytes", "random_vl"]

_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def png_bytes(pixels: Any) -> bytes:
    """An RGB PNG of a (height, width, 3) uint8 array."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def _random_image(rng: Any, width: int, height: int) -> bytes:
    import numpy as np

    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = rng.integers(0, 256, 3)
    for _ in range(int(rng.integers(1, 6))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, 2))
        img[y0 : y1 + 1, x0 : x1 + 1] = rng.integers(0, 256, 3)
    return png_bytes(img)


def _message(text: str, images: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for mime, data in images:
        url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return [{"role": "user", "content": parts}]


def random_vl(ctx: DatasetContext) -> list[Prompt]:
    import numpy as np

    if ctx.image_num < 1 or ctx.image_width < 1 or ctx.image_height < 1:
        raise ConfigError("--image-num, --image-width and --image-height must be >= 1")
    rng = np.random.default_rng(None if ctx.seed is None else ctx.seed + 1)
    out: list[Prompt] = []
    for text in random_prompts(ctx):
        images = [
            ("image/png", _random_image(rng, ctx.image_width, ctx.image_height)) for _ in range(ctx.image_num)
        ]
        out.append(_message(str(text), images))
    return out


def _pairs_from_tar(path: Path) -> list[tuple[str, str, bytes]]:
    pairs: dict[str, dict[str, bytes]] = {}
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, _, ext = member.name.rpartition(".")
                f = tar.extractfile(member)
                if f is not None and ("." + ext.lower() in _MIME or ext == "txt"):
                    pairs.setdefault(key, {})[ext.lower()] = f.read()
    except tarfile.TarError as exc:
        raise DataFormatError(str(path), f"not a readable tar shard ({exc})") from None
    out = []
    for files in pairs.values():
        image = next(((e, d) for e, d in files.items() if "." + e in _MIME), None)
        if image is not None and "txt" in files:
            out.append((_MIME["." + image[0]], files["txt"].decode("utf-8", "replace").strip(), image[1]))
    return out


FLICKR8K_HUB_ID = "clip-benchmark/wds_flickr8k"  # the same id on ModelScope and Hugging Face


def _hub_shards(ctx: DatasetContext) -> list[tuple[str, str, bytes]]:
    """The test split's WebDataset shards from the hub, one after another until `ctx.count` pairs are
    read; the first must download (its error says how to work offline), a later missing one ends the split."""
    triples: list[tuple[str, str, bytes]] = []
    shard = 0
    while len(triples) < ctx.count:
        try:
            path = download_hub_file(ctx, FLICKR8K_HUB_ID, FLICKR8K_HUB_ID, f"test/{shard}.tar")
        except DatasetNotFoundError:
            if shard == 0:
                raise
            break
        triples += _pairs_from_tar(path)
        shard += 1
    return triples


def flickr8k(ctx: DatasetContext) -> list[Prompt]:
    if not ctx.path:
        found = _hub_shards(ctx)
        return [_message(caption, [(mime, data)]) for mime, caption, data in found[: ctx.count]]
    root = require_path(ctx, "the wds_flickr8k .tar shards (or a folder of images with .txt captions)")
    files = sorted(root.rglob("*")) if root.is_dir() else [root]
    triples: list[tuple[str, str, bytes]] = []
    for f in files:
        if len(triples) >= ctx.count:
            break
        if f.suffix == ".tar":
            triples += _pairs_from_tar(f)
        elif f.suffix.lower() in _MIME and f.with_suffix(".txt").is_file():
            caption = f.with_suffix(".txt").read_text(encoding="utf-8", errors="replace").strip()
            triples.append((_MIME[f.suffix.lower()], caption, f.read_bytes()))
    if not triples:
        raise DataFormatError(
            str(root), "no image with a caption (.jpg/.png + .txt) found for --dataset flickr8k"
        )
    return [_message(caption, [(mime, data)]) for mime, caption, data in triples[: ctx.count]]
