"""The hub code path: Hugging Face `datasets` (default) or ModelScope (`dataset_hub: modelscope`).

This is what users run when they have no local copy. Before the first hub call the hub's endpoint is
probed (`evalscope.hub_access`): without network the run fails at once, naming the endpoint and the
local alternatives, instead of after `datasets`' retries. One exception: a copy `datasets` cached on
an earlier, online run is still used (read with `datasets` in offline mode, so without the retries).
Tests never reach the internet: they point `HF_ENDPOINT` at ports on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from evalscope.datasets import DataSource, LoadedSplit
from evalscope.distributions import install_hint
from evalscope.errors import DatasetNotFoundError, MissingDependencyError
from evalscope.hub_access import HubUnreachableError, require_hub

log = logging.getLogger("evalscope.native.data")


class HubLoader:
    def load(self, source: DataSource) -> LoadedSplit:
        name = None if source.subset in ("", "default") else source.subset
        if source.hub == "modelscope":
            _require_hub(source)
            return LoadedSplit(records=_modelscope(source, name), origin=f"modelscope:{source.dataset_id}")
        try:
            _require_hub(source)
        except HubUnreachableError as unreachable:
            records = _huggingface_cached(source, name)
            if records is None:
                raise
            log.warning("%s; using the copy in the `datasets` cache", unreachable.message)
            return LoadedSplit(records=records, origin=f"huggingface-cache:{source.dataset_id}")
        return LoadedSplit(records=_huggingface(source, name), origin=f"huggingface:{source.dataset_id}")


def _require_hub(source: DataSource) -> None:
    require_hub(
        source.hub,
        f"download dataset {source.dataset_id!r} for {source.benchmark}",
        f"use a local copy: --data-dir / EVALSCOPE_DATA_DIR (a folder holding "
        f"{source.benchmark}/<subset>/<split>.jsonl), or a local folder as dataset_id (or local_path) in "
        f'--dataset-args \'{{"{source.benchmark}": {{"dataset_id": "/path/to/folder"}}}}\'',
    )


def _import_datasets(source: DataSource) -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependencyError(
            f"Downloading {source.dataset_id} needs the Hugging Face `datasets` package.",
            hint=f"{install_hint('evalscope-native', 'hub')}  — or point --data-dir at a local copy.",
        ) from exc
    return datasets


def _huggingface(source: DataSource, name: str | None) -> list[dict[str, Any]]:
    datasets = _import_datasets(source)
    try:
        ds = datasets.load_dataset(source.dataset_id, name, split=source.split)
    except Exception as exc:  # network, missing config, auth: all reported the same way
        raise DatasetNotFoundError(
            f"Could not load {source.dataset_id} ({name or 'default'}/{source.split}) from the Hugging Face hub: {exc}",
            hint="Check the name and your network, or use a local copy via --data-dir / dataset_id.",
        ) from exc
    return [dict(r) for r in ds]


def _datasets_cache_root() -> Path:
    """Where `datasets` keeps prepared datasets (its own rule, read without importing it)."""
    if os.environ.get("HF_DATASETS_CACHE"):
        return Path(os.environ["HF_DATASETS_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("HF_HOME") or Path(xdg) / "huggingface").expanduser() / "datasets"


def _maybe_cached(dataset_id: str) -> bool:
    """A cheap pre-check (no `datasets` import): might `datasets` hold `dataset_id` from an earlier run?

    `datasets` names the folder `<namespace>___<name in snake case>`; matching the namespace alone
    over-approximates, and `datasets` itself makes the final call.
    """
    root = _datasets_cache_root()
    if not root.is_dir():
        return False
    namespace, _, base = dataset_id.rpartition("/")
    prefix = f"{namespace}___".lower() if namespace else base.lower().replace("-", "_")
    return any(p.is_dir() and p.name.lower().startswith(prefix) for p in root.iterdir())


def _huggingface_cached(source: DataSource, name: str | None) -> list[dict[str, Any]] | None:
    """The split from `datasets`' own cache, read in offline mode; None when it is not there."""
    if not _maybe_cached(source.dataset_id):
        return None
    datasets = _import_datasets(source)
    # `datasets` reads its offline switch at call time: set it for this one call, so a missing copy fails
    # at once rather than retrying a hub we already know is unreachable.
    saved = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = True
    try:
        ds = datasets.load_dataset(source.dataset_id, name, split=source.split)
    except Exception as exc:  # not cached (or not this config/split): the unreachable hub is the error
        log.debug("no cached copy of %s: %s", source.dataset_id, exc)
        return None
    finally:
        datasets.config.HF_HUB_OFFLINE = saved
    return [dict(r) for r in ds]


def _modelscope(source: DataSource, name: str | None) -> list[dict[str, Any]]:
    try:
        from modelscope.msdatasets import MsDataset
    except ImportError as exc:
        raise MissingDependencyError(
            "dataset_hub=modelscope needs the `modelscope` package.", hint="pip install modelscope"
        ) from exc
    try:
        ds = MsDataset.load(source.dataset_id, subset_name=name or "default", split=source.split)
    except Exception as exc:
        raise DatasetNotFoundError(
            f"Could not load {source.dataset_id} ({name or 'default'}/{source.split}) from ModelScope: {exc}"
        ) from exc
    return [dict(r) for r in ds]
