"""The hub code path: Hugging Face `datasets` (default) or ModelScope (`dataset_hub: modelscope`).

This is what users run when they have no local copy. It is never executed at import time or in
tests (the test machines are offline); the local folder is an equal, tested source.
"""

from __future__ import annotations

from typing import Any

from evalscope.datasets import DataSource, LoadedSplit
from evalscope.errors import DatasetNotFoundError, MissingDependencyError


class HubLoader:
    def load(self, source: DataSource) -> LoadedSplit:
        name = None if source.subset in ("", "default") else source.subset
        if source.hub == "modelscope":
            return LoadedSplit(records=_modelscope(source, name), origin=f"modelscope:{source.dataset_id}")
        return LoadedSplit(records=_huggingface(source, name), origin=f"huggingface:{source.dataset_id}")


def _huggingface(source: DataSource, name: str | None) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependencyError(
            f"Downloading {source.dataset_id} needs the Hugging Face `datasets` package.",
            hint='pip install "evalscope-native[hub]"  — or point --data-dir at a local copy.',
        ) from exc
    try:
        ds = datasets.load_dataset(source.dataset_id, name, split=source.split)
    except Exception as exc:  # network, missing config, auth: all reported the same way
        raise DatasetNotFoundError(
            f"Could not load {source.dataset_id} ({name or 'default'}/{source.split}) from the Hugging Face hub: {exc}",
            hint="Check the name and your network, or use a local copy via --data-dir / dataset_id.",
        ) from exc
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
