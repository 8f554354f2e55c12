"""Choosing where a split comes from: a local folder first, the hub only when allowed.

Local layout (that of `../shared/data` and of a `huggingface-cli download` folder):

    <folder>/<subset>/<split>.{jsonl,json,csv,parquet}
    <folder>/<subset>/<split>-00000-of-00001.parquet      (hub shards, concatenated in order)
    <folder>/<split>.<ext>                                (single-subset datasets)
    <folder>/<subset>_<split>.<ext>, <folder>/<subset>.<ext>   (EvalScope's custom-dataset naming)

`<folder>` is `dataset_id` when it is an existing path, else `<data_dir>/<benchmark>` (or the
dataset id's last part) under `--data-dir` / `EVALSCOPE_DATA_DIR`. Offline, a missing local copy
fails at once naming every path it looked for: no network wait.
"""

from __future__ import annotations

import threading
from pathlib import Path

from evalscope.datasets import DatasetLoader, DataSource, LoadedSplit
from evalscope.errors import DatasetNotFoundError

from evalscope_native.data.files import SUFFIXES, read_records


def candidate_roots(source: DataSource) -> list[Path]:
    roots: list[Path] = []
    as_path = Path(source.dataset_id).expanduser()
    if as_path.exists():
        roots.append(as_path)
    if source.data_dir is not None:
        names = (source.benchmark, *source.aliases, source.dataset_id, source.dataset_id.rsplit("/", 1)[-1])
        for name in dict.fromkeys(names):
            roots.append(source.data_dir / name)
    return roots


def find_split_files(root: Path, subset: str, split: str) -> list[Path]:
    if root.is_file():
        return [root]
    flat = not any(p.is_dir() for p in root.iterdir())
    # The folder itself is read only in a flat layout (<folder>/<split>.jsonl): a subset missing from a
    # per-subset layout must fail, not silently read another file.
    for folder in (root / subset, root) if subset and flat else (root / subset,) if subset else (root,):
        if not folder.is_dir():
            continue
        exact = [
            folder / f"{split}{suffix}" for suffix in SUFFIXES if (folder / f"{split}{suffix}").is_file()
        ]
        if exact:
            return exact[:1]
        shards = sorted(p for p in folder.glob(f"{split}-*") if p.suffix.lower() in SUFFIXES)
        if shards:
            return shards
        hub_data = folder / "data"  # `huggingface-cli download` of a single-config dataset
        if hub_data.is_dir():
            shards = sorted(p for p in hub_data.glob(f"{split}-*") if p.suffix.lower() in SUFFIXES)
            if shards:
                return shards
        nested = folder / split
        if nested.is_dir():
            files = sorted(p for p in nested.iterdir() if p.suffix.lower() in SUFFIXES)
            if files:
                return files
    return custom_layout_files(root, subset, split)


# EvalScope's custom-dataset layout (general_mcq / general_qa): every subset's files side by side in one
# folder, named `<subset>_<split>.<ext>` (`example_val.csv`, `example_dev.csv`) or `<subset>.<ext>` for any
# split (`example.jsonl`), formats tried in EvalScope's order. It is the last resort, so every layout above
# keeps its meaning; EvalScope also reads `.tsv`, which our readers do not.
CUSTOM_LAYOUT_SUFFIXES = (".jsonl", ".csv", ".parquet", ".json")


def custom_layout_files(root: Path, subset: str, split: str) -> list[Path]:
    """`<root>/<subset>_<split>.<ext>`, else `<root>/<subset>.<ext>`, as EvalScope's local loader finds them."""
    if not subset or not root.is_dir():
        return []
    for suffix in CUSTOM_LAYOUT_SUFFIXES:
        for name in (f"{subset}_{split}{suffix}", f"{subset}{suffix}"):
            if (root / name).is_file():
                return [root / name]
    return []


class LocalLoader:
    """Reads splits from local files; results are cached per process (few-shot splits are reused)."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], LoadedSplit] = {}

    def load(self, source: DataSource) -> LoadedSplit:
        key = (source.subset, source.split)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        for root in self.roots:
            files = find_split_files(root, source.subset, source.split)
            if files:
                records, lines = [], []
                keep_lines = True
                for f in files:
                    recs, ln = read_records(f)
                    records += recs
                    if ln is None or len(files) > 1:
                        keep_lines = False
                    else:
                        lines += ln
                split = LoadedSplit(
                    records=records, origin=str(files[0]), lines=lines if keep_lines else None
                )
                with self._lock:
                    self._cache[key] = split
                return split
        looked = ", ".join(
            f"{r}/{source.subset}/{source.split}.*, {r}/{source.subset}_{source.split}.*" for r in self.roots
        )
        raise DatasetNotFoundError(
            f"No local copy of {source.benchmark} subset {source.subset!r} split {source.split!r}; looked in {looked}.",
            hint="Lay files out as <folder>/<subset>/<split>.jsonl (or .json/.csv/.parquet), or as "
            "<folder>/<subset>_<split>.jsonl like EvalScope's custom datasets.",
        )


_loaders: dict[tuple[str, ...], LocalLoader] = {}
_loaders_lock = threading.Lock()


def pick_loader(source: DataSource) -> DatasetLoader:
    roots = [r for r in candidate_roots(source) if r.exists()]
    if roots:
        key = tuple(str(r) for r in roots)
        with _loaders_lock:
            if key not in _loaders:
                _loaders[key] = LocalLoader(roots)
            return _loaders[key]
    if source.offline or source.local_only:
        looked = [str(p) for p in candidate_roots(source)] or [source.dataset_id]
        why = "Offline and no" if source.offline else "No"
        raise DatasetNotFoundError(
            f"{why} local copy of {source.benchmark!r} (dataset {source.dataset_id!r}); looked for: "
            + ", ".join(looked),
            hint="Set --data-dir / EVALSCOPE_DATA_DIR to a folder holding <benchmark>/<subset>/<split>.jsonl, "
            "or pass the folder as dataset_id (or local_path) in --dataset-args"
            + ("; or drop --offline / HF_HUB_OFFLINE." if source.offline else "."),
        )
    from evalscope_native.data.hub import HubLoader

    return HubLoader()
