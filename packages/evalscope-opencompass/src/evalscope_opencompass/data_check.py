"""Where a dataset's local copy must be, read from OpenCompass's files without importing it.

OpenCompass downloads a dataset whose local folder is missing; this backend never downloads, so `prepare`
checks the folders first and fails before a run folder exists, naming every missing path. It needs two facts
that live in the engine's source, both read with `ast` (importing OpenCompass takes ~20 s):

* the dataset config's `path=` values (`'opencompass/gsm8k'`), followed through `read_base()` imports;
* `DATASETS_MAPPING` in `opencompass/utils/datasets_info.py`, which maps such a path to its place under the
  data folder (`'./data/gsm8k/'`), as OpenCompass's `get_data_path` does with `$COMPASS_DATA_CACHE`.

A path built at run time (not a literal) is not seen here; the engine-side driver checks again with the
loaded config before OpenCompass starts.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=8)
def data_mapping(package_dir: Path) -> dict[str, str]:
    """`DATASETS_MAPPING[path]['local']` for every path the installed OpenCompass knows."""
    source = package_dir / "utils" / "datasets_info.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DATASETS_MAPPING" for t in node.targets
        ):
            try:
                mapping = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return {k: v["local"] for k, v in mapping.items() if isinstance(v, dict) and v.get("local")}
    return {}


def config_paths(config_file: Path, package_dir: Path, _depth: int = 0) -> set[str]:
    """Every literal `path=` of a dataset config, including configs it imports with `read_base()`."""
    try:
        tree = ast.parse(config_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "path":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if _is_str(key, "path") and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
        elif isinstance(node, ast.ImportFrom) and _depth < 4:
            target = _imported_config(node, config_file, package_dir)
            if target is not None:
                found |= config_paths(target, package_dir, _depth + 1)
    return found


def missing_local_data(config_file: Path, package_dir: Path, data_dir: Path) -> list[str]:
    """The local paths this dataset config will read that do not exist under `data_dir`."""
    mapping = data_mapping(package_dir)
    missing = []
    for path in sorted(config_paths(config_file, package_dir)):
        if os.path.isabs(path):
            local = Path(path)
        elif path in mapping:
            local = Path(os.path.normpath(data_dir / mapping[path]))
        else:
            continue  # not a data path OpenCompass resolves under the data folder (an HF id, a template...)
        if not local.exists():
            missing.append(str(local))
    return missing


def _is_str(node: ast.expr | None, value: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


def _imported_config(node: ast.ImportFrom, config_file: Path, package_dir: Path) -> Path | None:
    """The config file a `from .x import y` / `from opencompass.configs... import y` refers to."""
    module = node.module or ""
    if node.level:
        base = config_file.parent
        for _ in range(node.level - 1):
            base = base.parent
        target = base.joinpath(*module.split(".")) if module else None
    elif module.startswith("opencompass.configs."):
        target = package_dir.joinpath(*module.split(".")[1:])
    else:
        return None
    if target is None:
        return None
    file = target.with_suffix(".py")
    return file if file.is_file() else None
