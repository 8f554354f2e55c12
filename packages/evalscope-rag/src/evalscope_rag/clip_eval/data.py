"""Image-text retrieval datasets from local files, in the two layouts EvalScope's clip_benchmark reads.

* `custom`: `<data_dir>/image_queries.jsonl`, one `{"image_path": …, "query": [captions]}` per line
  (a relative `image_path` is relative to the jsonl's folder).
* webdataset (clip_benchmark's export: flickr8k, mscoco_captions, …): `<root>/<split>/nshards.txt` and
  `<root>/<split>/0.tar … (n-1).tar`, each sample a `<key>.jpg|png|webp` with `<key>.txt` (one caption
  per line). Read with the stdlib `tarfile`: no `webdataset` package, no download.

Images are opened lazily in batches, so a large set never sits in memory at once.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.data_files import iter_jsonl
from evalscope.errors import DataFormatError, DatasetNotFoundError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class ImageTextItem:
    key: str
    captions: list[str]
    image_path: Path | None = None  # custom layout
    image_bytes: bytes | None = None  # webdataset layout

    def open(self) -> Any:
        from PIL import Image

        source: Any = self.image_path if self.image_path is not None else io.BytesIO(self.image_bytes or b"")
        with Image.open(source) as img:
            return img.convert("RGB")


def dataset_root(name: str, data_dir: str | None, fallback_root: Path | None) -> Path:
    """The folder of dataset `name`: data_dir (or data_dir/name), else <EVALSCOPE_DATA_DIR>/name."""
    candidates: list[Path] = []
    if data_dir:
        base = Path(data_dir).expanduser()
        candidates += [base / name, base] if name != "custom" else [base]
    if fallback_root is not None:
        candidates.append(fallback_root / name)
    for c in candidates:
        if (c / "image_queries.jsonl").is_file() or (c.is_dir() and any(c.glob("*/nshards.txt"))):
            return c
    raise DatasetNotFoundError(
        f"No local copy of the image-text dataset {name!r}; looked in: "
        + (", ".join(str(c) for c in candidates) or "(set eval.data_dir)"),
        hint="eval.data_dir: a folder with image_queries.jsonl (custom) or <split>/nshards.txt + shards "
        "(clip_benchmark's webdataset export); nothing is downloaded",
    )


def load_items(root: Path, split: str, limit: int | None = None) -> list[ImageTextItem]:
    if (root / "image_queries.jsonl").is_file():
        items = _custom(root / "image_queries.jsonl")
    else:
        items = list(_webdataset(root, split))
    if not items:
        raise DataFormatError(str(root), "the dataset holds no image-caption pairs")
    return items[:limit] if limit is not None else items


def check_dataset(root: Path, split: str) -> None:
    """Cheap checks for `prepare`: every line of a custom set; the shard files of a webdataset."""
    if (root / "image_queries.jsonl").is_file():
        _custom(root / "image_queries.jsonl")
        return
    nshards_file = root / split / "nshards.txt"
    if not nshards_file.is_file():
        raise DatasetNotFoundError(f"{nshards_file} is missing (split {split!r}).", hint="check eval.split")
    try:
        n = int(nshards_file.read_text().strip())
    except ValueError:
        raise DataFormatError(str(nshards_file), "must hold the number of shards") from None
    missing = [str(root / split / f"{i}.tar") for i in range(n) if not (root / split / f"{i}.tar").is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"missing shards: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}"
        )


def _custom(path: Path) -> list[ImageTextItem]:
    items: list[ImageTextItem] = []
    for lineno, row in iter_jsonl(path):
        if "image_path" not in row or "query" not in row:
            raise DataFormatError(str(path), 'each line needs "image_path" and "query"', line=lineno)
        captions = [row["query"]] if isinstance(row["query"], str) else row["query"]
        if not isinstance(captions, list) or not captions or not all(isinstance(c, str) for c in captions):
            raise DataFormatError(
                str(path), '"query" must be a caption or a non-empty list of captions', line=lineno
            )
        image = Path(row["image_path"])
        image = image if image.is_absolute() else path.parent / image
        if not image.is_file():
            raise DataFormatError(str(path), f"image {image} does not exist", line=lineno)
        items.append(ImageTextItem(key=str(row.get("id", lineno)), captions=captions, image_path=image))
    return items


def _webdataset(root: Path, split: str) -> Iterator[ImageTextItem]:
    shard_dir = root / split
    nshards_file = shard_dir / "nshards.txt"
    if not nshards_file.is_file():
        raise DatasetNotFoundError(f"{nshards_file} is missing (split {split!r}).", hint="check eval.split")
    kind = (
        (root / "dataset_type.txt").read_text().strip().lower()
        if (root / "dataset_type.txt").is_file()
        else ""
    )
    if kind and kind != "retrieval":
        raise DataFormatError(
            str(root), f"dataset_type.txt says {kind!r}; only retrieval datasets are supported"
        )
    for i in range(int(nshards_file.read_text().strip())):
        shard = shard_dir / f"{i}.tar"
        if not shard.is_file():
            raise DatasetNotFoundError(f"shard {shard} is missing.")
        samples: dict[str, dict[str, bytes]] = {}
        with tarfile.open(shard) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                stem, dot, ext = member.name.rpartition(".")
                fh = tar.extractfile(member)
                if fh is not None and dot:
                    samples.setdefault(stem, {})["." + ext.lower()] = fh.read()
        for key, parts in samples.items():
            image = next((parts[e] for e in IMAGE_EXTS if e in parts), None)
            text = parts.get(".txt")
            if image is None or text is None:
                continue
            captions = [c for c in text.decode("utf-8").splitlines() if c.strip()]
            if captions:
                yield ImageTextItem(key=key, captions=captions, image_bytes=image)
