"""A local folder in the hub dataset's layout, as good a source as the hub itself, for every mteb task.

mteb tasks load their data with `datasets.load_dataset(<hub id>, <config>, split=…)` — from
`AbsTask.load_data`, the retrieval loader (which also asks `get_dataset_config_names` /
`get_dataset_split_names`) and ~140 task-specific loaders. Rather than re-implement each task's
loading, `LocalHub` answers those three calls for the hub ids it was given a folder for, and the
task's own code runs unchanged on the local rows (its `dataset_transform`, column renames, splits).

Folder layout, as `../shared/data` and a hub snapshot have it (jsonl, json, csv, tsv or parquet):

    <folder>/<config>/<split>.jsonl                      e.g. stsbenchmark/default/test.jsonl
    <folder>/<config>/<split>-00000-of-00001.parquet     a hub download
    <folder>/<config>/<split>/0000.parquet               the hub's parquet conversion
    <folder>/<split>.jsonl, <folder>/data/<split>-….parquet   the `default` config

Rows are read into memory (no `datasets` cache written under ~/.cache), and a malformed line is
reported with its file and line number. While a run is offline, a hub id with no local folder fails
at once with the folders that were searched, instead of waiting on the network.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalscope.data_files import read_parquet_table, read_records
from evalscope.errors import DataFormatError, DatasetNotFoundError

log = logging.getLogger("evalscope.rag.data")

DATA_EXTS = (".jsonl", ".json", ".parquet", ".csv", ".tsv")
_SHARD = re.compile(r"^(?P<split>[A-Za-z0-9_.]+?)(?:-\d{5}-of-\d{5})?$")
_PATCHED = ("load_dataset", "get_dataset_config_names", "get_dataset_split_names")


def _data_files(folder: Path) -> dict[str, list[Path]]:
    """split name → files, for one config folder (the layouts in the module docstring)."""
    found: dict[str, list[Path]] = {}
    if not folder.is_dir():
        return found
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.suffix in DATA_EXTS:
            m = _SHARD.match(file.stem)
            if m:
                found.setdefault(m.group("split"), []).append(file)
        elif file.is_dir() and file.name != "data":
            shards = sorted(p for p in file.iterdir() if p.is_file() and p.suffix in DATA_EXTS)
            if shards and not any(p.is_dir() for p in file.iterdir()):
                found.setdefault(file.name, []).extend(shards)
    data = folder / "data"
    if data.is_dir() and not found:
        return _data_files(data)
    return found


class LocalHub:
    """Hub ids → local folders; answers `datasets`' hub calls for them (see the module docstring)."""

    def __init__(
        self, folders: dict[str, Path], *, offline: bool, searched: dict[str, list[Path]] | None = None
    ):
        self.folders = {k.lower(): v for k, v in folders.items()}
        self.offline = offline
        self.searched = {k.lower(): v for k, v in (searched or {}).items()}
        self._orig: dict[str, Any] = {}

    def folder_for(self, path: Any) -> Path | None:
        return self.folders.get(str(path).lower()) if isinstance(path, str) else None

    def _config_dir(self, root: Path, config: str | None) -> Path:
        if config and config != "default" and (root / config).is_dir():
            return root / config
        if config in (None, "default"):
            if (root / "default").is_dir() and _data_files(root / "default"):
                return root / "default"
            if _data_files(root):
                return root
        configs = self.config_names(root)
        raise DatasetNotFoundError(
            f"{root}: no data for config {config or 'default'!r} (found configs: {', '.join(configs) or 'none'}).",
            hint=f"lay the files out as {root}/<config>/<split>.jsonl (or .parquet), as the hub dataset has them",
        )

    def config_names(self, root: Path) -> list[str]:
        names = [p.name for p in sorted(root.iterdir()) if p.is_dir() and p.name != "data" and _data_files(p)]
        if _data_files(root) and "default" not in names:
            names.append("default")
        return names

    # -- the three datasets functions ------------------------------------------------------------

    def load_dataset(self, *args: Any, **kwargs: Any) -> Any:
        path = args[0] if args else kwargs.get("path")
        root = self.folder_for(path)
        if root is None:
            self._refuse_if_offline(path)
            return self._orig["load_dataset"](*args, **kwargs)
        config = args[1] if len(args) > 1 else kwargs.get("name")
        split = kwargs.get("split")
        folder = self._config_dir(root, config)
        files = _data_files(folder)
        from datasets import DatasetDict

        if split is not None:
            if split not in files:
                raise DatasetNotFoundError(
                    f"{folder}: no split {split!r} (found: {', '.join(sorted(files)) or 'none'}).",
                    hint=f"add {folder}/{split}.jsonl",
                )
            return read_split(files[split])
        return DatasetDict({name: read_split(paths) for name, paths in files.items()})

    def get_dataset_config_names(self, *args: Any, **kwargs: Any) -> list[str]:
        path = args[0] if args else kwargs.get("path")
        root = self.folder_for(path)
        if root is None:
            self._refuse_if_offline(path)
            return list(self._orig["get_dataset_config_names"](*args, **kwargs))
        return self.config_names(root)

    def get_dataset_split_names(self, *args: Any, **kwargs: Any) -> list[str]:
        path = args[0] if args else kwargs.get("path")
        root = self.folder_for(path)
        if root is None:
            self._refuse_if_offline(path)
            return list(self._orig["get_dataset_split_names"](*args, **kwargs))
        config = args[1] if len(args) > 1 else kwargs.get("config_name")
        return sorted(_data_files(self._config_dir(root, config)))

    def _refuse_if_offline(self, path: Any) -> None:
        if not self.offline or not isinstance(path, str):
            return
        if Path(path).exists() or "/" not in path:  # a local path or a packaged builder ("json")
            return
        looked = self.searched.get(path.lower(), [])
        where = ", ".join(str(p) for p in looked) or "(no data dir set)"
        raise DatasetNotFoundError(
            f"Dataset {path!r} is not available locally and the run is offline; looked in: {where}.",
            hint="put the hub files there (<folder>/<config>/<split>.jsonl or .parquet), set --data-dir / "
            'EVALSCOPE_DATA_DIR, or pass --dataset-args \'{"<Task>": {"local_path": "…"}}\'',
        )

    # -- installing the shim -----------------------------------------------------------------------

    @contextlib.contextmanager
    def installed(self) -> Iterator[LocalHub]:
        """Answer `datasets`' hub calls (in `datasets` and every loaded mteb module) for the run."""
        import datasets

        self._orig = {name: getattr(datasets, name) for name in _PATCHED}
        replaced: list[tuple[Any, str, Any]] = []
        for mod_name, mod in list(sys.modules.items()):
            if mod is None or not (mod_name == "datasets" or mod_name.startswith("mteb")):
                continue
            namespace = getattr(mod, "__dict__", {})
            for name in _PATCHED:
                if namespace.get(name) is self._orig[name]:
                    replaced.append((mod, name, self._orig[name]))
                    setattr(mod, name, getattr(self, name))
        saved_env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
        if self.offline:
            os.environ.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
        try:
            yield self
        finally:
            for mod, name, orig in replaced:
                setattr(mod, name, orig)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def read_split(files: list[Path]) -> Any:
    """One split's files → an in-memory `datasets.Dataset` (no cache files)."""
    from datasets import concatenate_datasets

    parts = [_read_file(f) for f in files]
    return parts[0] if len(parts) == 1 else concatenate_datasets(parts)


def _read_file(path: Path) -> Any:
    from datasets import Dataset

    if path.suffix == ".parquet":
        return Dataset(read_parquet_table(path))  # the Arrow table as it is: column types kept
    rows, _ = read_records(path)  # a bad line raises `DataFormatError` naming file and line
    if not rows:
        raise DataFormatError(str(path), "the file holds no rows")
    return Dataset.from_list(rows)
