"""Where benchmark records come from: a `DataSource` is resolved to a `DatasetLoader` by plugins.

The resolver hook (`evalscope_resolve_dataset_loader`) lets the native plugin answer for local
folders and the hubs, and lets a third party add other stores without touching the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["DataSource", "DatasetLoader", "LoadedSplit", "resolve_loader"]


@dataclass(frozen=True)
class DataSource:
    """One split of one subset of a benchmark's dataset."""

    benchmark: str
    dataset_id: str
    subset: str
    split: str
    data_dir: Path | None = None
    offline: bool = False
    hub: str = "huggingface"
    aliases: tuple[str, ...] = ()
    local_only: bool = False  # a custom dataset: a missing local copy fails at once, even online  # other names the benchmark's local folder may have ('truthfulqa')


@dataclass
class LoadedSplit:
    """Records plus where they came from, so a bad record can be reported as `file:line`."""

    records: list[dict[str, Any]]
    origin: str
    lines: list[int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self, index: int) -> tuple[str, int | None]:
        return self.origin, (self.lines[index] if self.lines is not None else None)


class DatasetLoader(Protocol):
    def load(self, source: DataSource) -> LoadedSplit:
        """Read the split or raise `DatasetNotFoundError` naming what was looked for."""
        ...


def resolve_loader(source: DataSource) -> DatasetLoader:
    from evalscope.distributions import install_hint
    from evalscope.errors import DatasetNotFoundError
    from evalscope.hooks import first_result

    loader: DatasetLoader | None = first_result("evalscope_resolve_dataset_loader", source=source)
    if loader is None:
        raise DatasetNotFoundError(
            f"No installed plugin can load dataset {source.dataset_id!r} ({source.subset}/{source.split}).",
            hint=f"Install evalscope-native ({install_hint('evalscope-native')}), "
            "or point `dataset_id` at a local folder.",
        )
    return loader
