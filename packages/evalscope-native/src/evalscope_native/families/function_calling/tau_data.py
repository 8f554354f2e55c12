"""τ-bench's data: each domain's database, policy (wiki) and tasks, read from a local folder.

The folder has τ-bench's own layout (`tau_bench/envs/` of a checkout of sierra-research/tau-bench can
be given as it is):

    <root>/retail/data/orders.json, products.json, users.json
    <root>/airline/data/flights.json, reservations.json, users.json
    <root>/<domain>/wiki.md                 the policy, sent as the agent's system prompt
    <root>/<domain>/tasks_<split>.json      [{"user_id", "instruction", "actions": [{"name", "kwargs"}],
                                              "outputs": [...]}, ...]   (or τ-bench's tasks_<split>.py)

`<root>` is `dataset_args.tau_bench.local_path`, else `<data dir>/tau_bench` (--data-dir or
$EVALSCOPE_DATA_DIR). With neither, the files are downloaded once from GitHub (EvalScope's dataset
id is the repository) into `$EVALSCOPE_CACHE_DIR/tau_bench`. A `tasks_<split>.py` is read with `ast`
(literal values only), never imported or executed.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalscope.errors import DataFormatError, DatasetNotFoundError

__all__ = ["DATA_FILES", "REPOSITORY", "Domain", "find_root", "load_domain", "state_hash"]

REPOSITORY = "https://github.com/sierra-research/tau-bench"
#: the database tables of each domain, as τ-bench's `data/__init__.py` loads them
DATA_FILES: dict[str, tuple[str, ...]] = {
    "retail": ("orders", "products", "users"),
    "airline": ("flights", "reservations", "users"),
}


@dataclass
class Domain:
    """One domain's policy, tasks and database (a pickled snapshot: every episode gets a fresh copy)."""

    name: str
    root: Path
    wiki: str
    tasks: list[dict[str, Any]]
    tasks_origin: str
    _snapshot: bytes  # our own pickle of the parsed JSON (fresh_data)
    #: the database hash after each ground truth (by its actions' JSON), computed once for all trials
    truth_hashes: dict[str, str] = field(default_factory=dict)

    def fresh_data(self) -> dict[str, Any]:
        """A new, private copy of the database, as `data_load_func()` gives τ-bench's `Env`."""
        collecting = gc.isenabled()
        gc.disable()  # the copy has no cycles: without the collector's passes over it, it loads 2.5x faster
        try:
            data: dict[str, Any] = pickle.loads(self._snapshot)  # noqa: S301 (made by load_domain)
        finally:
            if collecting:
                gc.enable()
        return data


def find_root(
    local_path: str | None, data_dir: Path | None, domains: list[str], *, offline: bool = False
) -> Path:
    """The folder holding the domains: the user's `local_path`, else `<data dir>/tau_bench`, else the
    downloaded copy. A folder that exists but lacks a file fails in `load_domain`, naming the file."""
    roots = [Path(local_path).expanduser()] if local_path else []
    if data_dir is not None:
        roots.append(data_dir / "tau_bench")
    for root in roots:
        if any((root / d).is_dir() for d in domains):
            return root
    if local_path:
        raise DatasetNotFoundError(
            f"tau_bench: local_path {local_path} has no {' or '.join(domains)} folder.",
            hint="give the folder that holds retail/ and airline/ (τ-bench's tau_bench/envs/), each with "
            "data/*.json, wiki.md and tasks_test.json",
        )
    return _download(roots, offline)


def load_domain(root: Path, name: str, split: str) -> Domain:
    folder = root / name
    missing = [f"data/{t}.json" for t in DATA_FILES[name] if not (folder / "data" / f"{t}.json").is_file()]
    if not (folder / "wiki.md").is_file():
        missing.append("wiki.md")
    tasks_file = next(
        (p for p in (folder / f"tasks_{split}.json", folder / f"tasks_{split}.py") if p.is_file()), None
    )
    if tasks_file is None:
        missing.append(f"tasks_{split}.json")
    if missing:
        raise DatasetNotFoundError(
            f"tau_bench/{name}: {folder} lacks {', '.join(missing)}.",
            hint=f"copy them from τ-bench ({REPOSITORY}, tau_bench/envs/{name}/), or leave local_path out "
            "to download them",
        )
    assert tasks_file is not None
    tables: dict[str, Any] = {}
    for table in DATA_FILES[name]:
        path = folder / "data" / f"{table}.json"
        try:
            tables[table] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFormatError(str(path), f"not JSON: {exc}", line=exc.lineno) from None
    tasks = _read_tasks(tasks_file)
    wiki = (folder / "wiki.md").read_text(encoding="utf-8")
    return Domain(
        name, root, wiki, tasks, str(tasks_file), pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
    )


def _read_tasks(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        try:
            tasks = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFormatError(str(path), f"not JSON: {exc}", line=exc.lineno) from None
    else:
        tasks = _tasks_from_python(path)
    if not isinstance(tasks, list):
        raise DataFormatError(
            str(path), "expected a list of tasks ({user_id, instruction, actions, outputs})"
        )
    return tasks


def _tasks_from_python(path: Path) -> list[dict[str, Any]]:
    """τ-bench's `TASKS_TEST = [Task(user_id=..., actions=[Action(name=..., kwargs={...})], ...)]`,
    read as literals: `Task(...)` / `Action(...)` become dicts of their keyword arguments."""

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Call):
            return {kw.arg: value(kw.value) for kw in node.keywords if kw.arg}
        if isinstance(node, ast.List | ast.Tuple):
            return [value(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return {value(k): value(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
        return ast.literal_eval(node)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List):
            try:
                return [value(e) for e in stmt.value.elts]
            except ValueError as exc:
                raise DataFormatError(str(path), f"a task is not made of literals: {exc}") from None
    raise DataFormatError(str(path), "no `TASKS = [Task(...), ...]` list found")


def to_hashable(item: Any) -> Any:
    """τ-bench's `to_hashable`: dicts as sorted key/value tuples, lists as tuples, sets sorted."""
    if isinstance(item, dict):
        return tuple((key, to_hashable(v)) for key, v in sorted(item.items()))
    if isinstance(item, list):
        return tuple(to_hashable(e) for e in item)
    if isinstance(item, set):
        return tuple(sorted(to_hashable(e) for e in item))
    return item


def state_hash(data: dict[str, Any]) -> str:
    """τ-bench's `get_data_hash`: sha256 of the hashable form's `str`."""
    return hashlib.sha256(str(to_hashable(data)).encode("utf-8")).hexdigest()


def _download(looked: list[Path], offline: bool = False) -> Path:
    """τ-bench's files from GitHub into the cache, once (the hub path: never used by the tests)."""
    import io
    import tarfile
    import urllib.request

    from evalscope.cache_dirs import cache_dir

    target = cache_dir("tau_bench")
    if all((target / d / "wiki.md").is_file() for d in DATA_FILES):
        return target
    where = " or ".join(str(p) for p in looked) or "no local_path / data dir"
    hint = (
        "put τ-bench's tau_bench/envs/ folder (retail/, airline/) there and pass it as "
        "dataset_args.tau_bench.local_path"
    )
    if offline or any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes")
        for v in ("HF_HUB_OFFLINE", "EVALSCOPE_OFFLINE")
    ):
        raise DatasetNotFoundError(
            f"tau_bench: no local data ({where}), and downloads are off (offline).", hint=hint
        )
    url = "https://codeload.github.com/sierra-research/tau-bench/tar.gz/refs/heads/main"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (a fixed https URL)
            blob = resp.read()
    except OSError as exc:
        raise DatasetNotFoundError(
            f"tau_bench: no local data ({where}) and the download from {REPOSITORY} failed: {exc}",
            hint=hint,
        ) from None
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            _, _, rel = member.name.partition("/tau_bench/envs/")
            parts = rel.split("/")
            keep = parts[0] in DATA_FILES and (
                rel.endswith("wiki.md")
                or (len(parts) == 3 and parts[1] == "data" and parts[2].endswith(".json"))
                or (len(parts) == 2 and parts[1].startswith("tasks_") and parts[1].endswith(".py"))
            )
            if member.isfile() and keep:
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                if extracted is not None:
                    out.write_bytes(extracted.read())
    return target
