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

from evalscope.data_files import read_records
from evalscope.datasets import DatasetLoader, DataSource, LoadedSplit
from evalscope.errors import DatasetNotFoundError, closest

#: The data files a local folder is searched for, in EvalScope's layouts (the core's readers also
#: take .tsv, which those layouts never hold).
SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def candidate_roots(source: DataSource) -> list[Path]:
    """Folders (or one file) that may hold the split, each once: an absolute `dataset_id` joined to the
    data dir is the same path again, and a relative one may name the same folder by another route."""
    roots: list[Path] = []
    as_path = Path(source.dataset_id).expanduser()
    if as_path.exists():
        roots.append(as_path)
    if source.data_dir is not None:
        names = (source.benchmark, *source.aliases, source.dataset_id, source.dataset_id.rsplit("/", 1)[-1])
        for name in dict.fromkeys(names):
            roots.append(source.data_dir / name)
    seen: set[Path] = set()
    unique = []
    for root in roots:
        key = root.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(root)
    return unique


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


_Signature = tuple[tuple[str, int, int], ...]  # (file, mtime_ns, size) of each file a split was read from


def _signature(files: list[Path]) -> _Signature:
    stats = [(str(f), f.stat()) for f in files]
    return tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)


class LocalLoader:
    """Reads splits from local files; results are cached per process (few-shot splits are reused)
    while the files are unchanged (a mixed file sampled again in the same session is read again)."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[LoadedSplit, list[Path], _Signature]] = {}

    def load(self, source: DataSource) -> LoadedSplit:
        key = (source.subset, source.split)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            try:
                if _signature(hit[1]) == hit[2]:
                    return hit[0]
            except OSError:
                pass  # a file went away: look again
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
                    self._cache[key] = (split, files, _signature(files))
                return split
        raise DatasetNotFoundError(
            f"No local copy of {source.benchmark} subset {source.subset!r} split {source.split!r}; looked "
            + "; ".join(
                f"in {r} for {', '.join(looked_for(r, source.subset, source.split))}" for r in self.roots
            )
            + "."
            + "".join(_what_is_there(r, source.subset, source.split) for r in self.roots),
            hint="Lay files out as <folder>/<subset>/<split>.jsonl (or .json/.csv/.parquet), or as "
            "<folder>/<subset>_<split>.jsonl like EvalScope's custom datasets; `subset_list` names the subsets.",
        )


def looked_for(root: Path, subset: str, split: str) -> list[str]:
    """The patterns `find_split_files` tries in the folder `root`, relative to it, each once."""
    flat = root.is_dir() and not any(p.is_dir() for p in root.iterdir())
    out = [f"{subset}/{split}.*"] if subset else []
    if flat or not subset:
        out.append(f"{split}.*")
    if subset:
        out += [f"{subset}_{split}.*", f"{subset}.*"]
    return out


_LISTED = 20  # subsets named in an error; a folder of 57 MMLU subjects is summarised
_SPLIT_WORDS = ("train", "val", "validation", "dev", "test")


def subsets_in(root: Path, split: str) -> tuple[list[str], list[str]]:
    """(subset names, data file names) a folder offers, in either layout: `<subset>/` sub-folders and
    `<subset>_<split>.<ext>` / `<subset>.<ext>` files (a file named after a split is the flat layout)."""
    if not root.is_dir():
        return [], []
    subsets: list[str] = []
    files: list[str] = []
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            if path.name != "data":  # `huggingface-cli download`'s shard folder, not a subset
                subsets.append(path.name)
            continue
        if path.suffix.lower() not in SUFFIXES:
            continue
        files.append(path.name)
        stem = path.stem
        if stem in (split, *_SPLIT_WORDS) or stem.startswith(f"{split}-"):
            continue  # <folder>/<split>.jsonl: the single-subset layout, no subset name in it
        for word in (split, *_SPLIT_WORDS):
            if stem.endswith(f"_{word}"):
                stem = stem[: -len(word) - 1]
                break
        subsets.append(stem)
    return list(dict.fromkeys(subsets)), files


def _what_is_there(root: Path, subset: str, split: str) -> str:
    """' Found in <root>: subsets …; did you mean …?' for the error message ('' for a file)."""
    if not root.is_dir():
        return ""
    subsets, files = subsets_in(root, split)
    if not subsets and not files:
        return f" {root} holds no data files ({', '.join(SUFFIXES)})."
    shown = ", ".join(repr(s) for s in subsets[:_LISTED])
    if len(subsets) > _LISTED:
        shown += f", … ({len(subsets) - _LISTED} more)"
    text = f" Found in {root}: subsets {shown or '(none)'}"
    if files:
        text += f" (files {', '.join(files[:_LISTED])}{', …' if len(files) > _LISTED else ''})"
    text += "."
    if subset in subsets:  # the subset is there, the split is not: say which splits it has
        splits = _splits_of(root, subset)
        text += f" Subset {subset!r} has splits: {', '.join(repr(s) for s in splits) or '(none)'}."
        return text
    guesses = closest(subset, subsets)
    if guesses:
        text += " Did you mean " + " or ".join(repr(g) for g in guesses) + "?"
    return text


def _splits_of(root: Path, subset: str) -> list[str]:
    """Split names a subset offers: `<subset>/<split>.<ext>` files or `<subset>_<split>.<ext>` files."""
    names: set[str] = set()
    folder = root / subset
    if folder.is_dir():
        names |= {p.name.split(".", 1)[0] for p in folder.iterdir() if p.suffix in SUFFIXES}
    names |= {
        p.name.split(".", 1)[0][len(subset) + 1 :]
        for p in root.glob(f"{subset}_*")
        if p.is_file() and p.suffix in SUFFIXES
    }
    return sorted(n for n in names if n)


_loaders: dict[tuple[str, ...], LocalLoader] = {}
_loaders_lock = threading.Lock()


def pick_loader(source: DataSource) -> DatasetLoader:
    from evalscope_native.arena.sources import PREFIX, ArenaLoader

    if source.dataset_id.startswith(PREFIX):  # general_arena: earlier runs' answers, paired up
        return ArenaLoader()
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
