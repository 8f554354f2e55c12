"""Which mteb tasks a config names, and where each task's data comes from.

Task names are mteb's own (`STSBenchmark`, `T2Retrieval`, `SciFact`, …); a typo gets the closest
names. A task's data is looked up locally first — `dataset_args.<Task>.local_path`, then the data dir
(`--data-dir` / `EVALSCOPE_DATA_DIR`) under the task's name or its hub id — and only then on the hub,
unless the run is offline, in which case a missing folder is an error before anything runs. Online, the
Hugging Face hub is probed first (`evalscope.hub_access`), so without network that error is immediate too.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.data_files import iter_jsonl
from evalscope.errors import ConfigError, DataFormatError, DatasetNotFoundError, UnknownNameError
from evalscope.hub_access import require_hub

from evalscope_rag.config import CustomTaskConfig, MTEBEvalConfig

log = logging.getLogger("evalscope.rag.tasks")


@dataclass
class TaskSource:
    task: Any  # an mteb AbsTask
    folder: Path | None = None  # local copy of the hub dataset, if any
    searched: list[Path] = field(default_factory=list)
    custom: bool = False

    @property
    def name(self) -> str:
        return str(self.task.metadata.name)

    @property
    def hub_id(self) -> str:
        return str(self.task.metadata.dataset.get("path", ""))


def resolve_tasks(evl: MTEBEvalConfig, config: TaskConfig) -> list[TaskSource]:
    import mteb

    tasks: list[Any] = []
    if evl.task_names:
        all_names: list[str] | None = None
        for name in evl.task_names:
            try:
                tasks.append(mteb.get_task(name))
            except KeyError:
                if all_names is None:
                    with warnings.catch_warnings():  # listing every task warns about each beta/superseded one
                        warnings.simplefilter("ignore")
                        every = mteb.get_tasks(
                            exclude_superseded=False, exclude_private=False, exclude_beta=False
                        )
                    all_names = [t.metadata.name for t in every]
                raise UnknownNameError(
                    "mteb task",
                    name,
                    all_names,
                    hint="task names are mteb's: python -c 'import mteb; print(mteb.get_tasks())'",
                ) from None
    elif evl.task_types or evl.languages:
        kwargs: dict[str, Any] = {}
        if evl.task_types:
            kwargs["task_types"] = evl.task_types
        if evl.languages:
            kwargs["languages"] = evl.languages
        tasks = list(mteb.get_tasks(**kwargs))
        if not tasks:
            raise ConfigError(f"No mteb task matches task_types={evl.task_types} languages={evl.languages}.")
    elif not evl.custom_tasks:
        raise ConfigError(
            "Name the tasks to run: eval.task_names (e.g. [STSBenchmark]), eval.task_types/languages, "
            "or eval.custom_tasks.",
            hint="--datasets STSBenchmark also works",
        )
    if evl.eval_splits:
        for task in tasks:
            task._eval_splits = list(evl.eval_splits)
    sources = [_locate(task, config) for task in tasks]
    for custom in evl.custom_tasks or []:
        sources.append(TaskSource(build_custom_task(custom), Path(custom.data_path), custom=True))
    offline = config.is_offline()
    for src in sources:
        if src.folder is None and offline and not src.custom:
            raise DatasetNotFoundError(
                f"Task {src.name} needs the dataset {src.hub_id!r}, and the run is offline; no local copy in: "
                + (", ".join(str(p) for p in src.searched) or "(no data dir set)"),
                hint=f"put the hub files in {src.searched[0] if src.searched else '<data dir>/' + src.name.lower()} "
                "(<config>/<split>.jsonl or .parquet), set --data-dir, or pass "
                f'--dataset-args \'{{"{src.name}": {{"local_path": "…"}}}}\'',
            )
    remote = [src for src in sources if src.folder is None and not src.custom]
    if remote and not offline:  # `datasets` would retry each download for tens of seconds without network
        require_hub(
            "huggingface",
            "download the data of mteb task(s) " + ", ".join(f"{s.name} ({s.hub_id})" for s in remote),
            "put each dataset's hub files in a local folder (<config>/<split>.jsonl or .parquet) under "
            "--data-dir / EVALSCOPE_DATA_DIR, or pass "
            f'--dataset-args \'{{"{remote[0].name}": {{"local_path": "…"}}}}\'',
            [str(p) for s in remote for p in s.searched],
        )
    return sources


def _locate(task: Any, config: TaskConfig) -> TaskSource:
    name = str(task.metadata.name)
    hub_id = str(task.metadata.dataset.get("path", ""))
    candidates: list[Path] = []
    args = config.dataset_args.get(name) or config.dataset_args.get(name.lower())
    if args is not None:
        for value in (args.local_path, args.dataset_id):
            if value:
                candidates.append(Path(value).expanduser())
                if not Path(value).expanduser().is_dir() and value == args.local_path:
                    raise DatasetNotFoundError(
                        f"dataset_args.{name}.local_path {value!r} is not a folder.",
                        hint="give the folder that holds <config>/<split>.jsonl (the hub dataset's layout)",
                    )
    data_dir = config.resolved_data_dir()
    if data_dir is not None:
        last = hub_id.rsplit("/", 1)[-1]
        for rel in (name.lower(), name, last.lower(), last, hub_id):
            if rel:
                path = data_dir / rel
                if path not in candidates:
                    candidates.append(path)
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is not None:
        log.info("task %s reads %s (local copy of %s)", name, folder, hub_id)
    return TaskSource(task, folder.resolve() if folder else None, candidates)


def build_custom_task(cfg: CustomTaskConfig) -> Any:
    """A retrieval task over EvalScope's custom files: corpus.jsonl, queries.jsonl, qrels.jsonl."""
    from datasets import Dataset
    from mteb import TaskMetadata
    from mteb.abstasks import AbsTaskRetrieval

    root = Path(cfg.data_path).expanduser()
    files = {n: root / f"{n}.jsonl" for n in ("corpus", "queries", "qrels")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"Custom task {cfg.name!r}: missing {', '.join(missing)}.",
            hint='corpus.jsonl: {"_id", "title", "text"}; queries.jsonl: {"_id", "text"}; '
            'qrels.jsonl: {"query-id", "corpus-id", "score"}',
        )
    corpus = _id_rows(files["corpus"], ("text",))
    queries = _id_rows(files["queries"], ("text",))
    qrels: dict[str, dict[str, int]] = {}
    for lineno, row in iter_jsonl(files["qrels"]):
        try:
            qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = int(row.get("score", 1))
        except (KeyError, ValueError, TypeError) as exc:
            raise DataFormatError(
                str(files["qrels"]), f"needs query-id, corpus-id, score ({exc})", line=lineno
            ) from None
    metadata = TaskMetadata(
        name=cfg.name,
        description=f"Custom retrieval task from {root}",
        reference=None,
        dataset={"path": f"local/{cfg.name}", "revision": "local"},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=list(cfg.eval_splits),
        eval_langs=["eng-Latn"],
        main_score="ndcg_at_10",
        date=None,
        domains=None,
        task_subtypes=None,
        license=None,
        annotations_creators=None,
        dialect=None,
        sample_creation=None,
        bibtex_citation="",
    )
    cls = type(f"CustomRetrieval_{cfg.name}", (AbsTaskRetrieval,), {"metadata": metadata})
    task = cls()
    keep = set(qrels)
    split_data = {
        split: {
            "corpus": Dataset.from_list(corpus),
            "queries": Dataset.from_list([q for q in queries if q["id"] in keep]),
            "relevant_docs": qrels,
            "top_ranked": None,
        }
        for split in cfg.eval_splits
    }
    task.dataset = {"default": split_data}
    task.data_loaded = True
    return task


def _id_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for lineno, row in iter_jsonl(path):
        rid = row.get("_id", row.get("id"))
        if rid is None or any(k not in row for k in required):
            raise DataFormatError(str(path), f"each row needs _id and {', '.join(required)}", line=lineno)
        item = {"id": str(rid), "text": str(row["text"])}
        if "title" in row and path.stem == "corpus":
            item["title"] = str(row.get("title") or "")
        out.append(item)
    return out
