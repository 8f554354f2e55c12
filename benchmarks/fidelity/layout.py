"""The same records laid out the way each engine reads a local folder.

EvalScope 1.14.1 reads a local `dataset_id` folder with `datasets.load_dataset(folder, name=subset,
split=split)` (`evalscope/api/dataset/hub.py`, `DatasetHub._load_huggingface`), i.e. a folder in
the hub's own layout. So `build_their_folder` writes one whose `README.md` front matter declares one
`configs:` entry per subset with its `data_files` per split — what a hub dataset card does — that
point at our files (symlinks, or rewritten records when `Entry.their_record` is set). We read
the source folder itself. Custom datasets (`general_mcq`, `general_qa`) are in EvalScope's own
`<subset>_<split>.<ext>` layout already (`Entry.their_as_is`) and need no copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fidelity.entries import Entry

SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def split_files(folder: Path) -> dict[str, Path]:
    """`{split: file}` of a folder holding `<split>.<ext>` files."""
    return {p.name.rsplit(".", 1)[0]: p for p in sorted(folder.iterdir()) if p.suffix in SUFFIXES}


def read_records(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return list(data if isinstance(data, list) else data.get("data", []))
    raise SystemExit(f"the fidelity harness rewrites jsonl/json records only; got {path}")


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def subset_folders(source: Path) -> list[Path]:
    """The per-subset folders of a data folder; the folder itself when its layout is flat."""
    return sorted(p for p in source.iterdir() if p.is_dir()) or [source]


def data_subsets(source: Path) -> list[str]:
    """The subsets a `<subset>/<split>.<ext>` folder holds, as we name them (`default` when flat)."""
    return [p.name if p != source else "default" for p in subset_folders(source) if split_files(p)]


def build_their_folder(entry: Entry, source: Path, dest: Path) -> Path:
    """A hub-style folder for EvalScope from our `<subset>/<split>.<ext>` layout (see the module doc)."""
    if entry.their_as_is:
        return source
    dest.mkdir(parents=True, exist_ok=True)
    folders = subset_folders(source)
    configs: dict[str, dict[str, list[str]]] = {}
    for folder in folders:
        ours = folder.name if folder != source else "default"
        subset = entry.their_subsets.get(ours, ours)
        for split, path in split_files(folder).items():
            rel = Path(subset) / f"{split}{path.suffix if entry.their_record is None else '.jsonl'}"
            if entry.their_record is None:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).symlink_to(path.resolve())
            else:
                record_fn = entry.their_record
                _write_jsonl(dest / rel, (record_fn(r, ours) for r in read_records(path)))
            configs.setdefault(subset, {}).setdefault(split, []).append(rel.as_posix())
            if entry.their_aggregate and entry.their_aggregate not in {f.name for f in folders}:
                configs.setdefault(entry.their_aggregate, {}).setdefault(split, []).append(rel.as_posix())
    lines = ["---", "configs:"]
    for name, splits in configs.items():
        lines += [f"- config_name: {json.dumps(name)}", "  data_files:"]
        for split, paths in splits.items():
            lines += [f"  - split: {json.dumps(split)}", f"    path: {json.dumps(paths)}"]
    (dest / "README.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")
    return dest
