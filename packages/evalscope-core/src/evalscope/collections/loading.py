"""Where a sampler gets each member's samples: a loader, provided by the engine plugin.

The core knows what a collection is but not how a benchmark's records become prompts: that is the
engine's job (its benchmark adapters, data loader and prompt rendering). So the samplers take a
`MemberLoader` — any callable `(DatasetInfo) -> Sequence[MemberSample]` — and, when given none,
ask the installed plugins for one through the resolver hook `evalscope_resolve_collection_loader`
(first non-None wins; evalscope-native answers). A test or a script can pass its own loader and
never touch a plugin.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from evalscope.collections.schema import DatasetInfo

__all__ = ["ChecksMembers", "MemberLoader", "MemberSample", "default_loader"]


@dataclass(frozen=True)
class MemberSample:
    """One sample of a member benchmark, ready to be written into a mixed file."""

    subset: str
    #: EvalScope's `prompt`: "input" (the rendered chat messages), "target", "choices", "id" (the
    #: sample's position in its subset, an int as EvalScope's `Sample.id`), "metadata"; JSON-ready
    prompt: dict[str, Any]
    #: what rebuilds the member's own sample at evaluation time (the record's "member" field)
    member: dict[str, Any] = field(default_factory=dict)


class MemberLoader(Protocol):
    def __call__(self, info: DatasetInfo) -> Sequence[MemberSample]:
        """All samples of the member (every subset its args select), in dataset order."""
        ...


@runtime_checkable
class ChecksMembers(Protocol):
    """Optional for a loader: check every member (names, args) before any data is read."""

    def check(self, infos: Sequence[DatasetInfo]) -> None: ...


def default_loader(data_dir: str | os.PathLike[str] | None = None) -> MemberLoader:
    """The installed engine's loader (local data under `data_dir`, default `EVALSCOPE_DATA_DIR`)."""
    from evalscope.distributions import install_hint
    from evalscope.errors import MissingDependencyError
    from evalscope.hooks import first_result

    folder = Path(data_dir).expanduser() if data_dir is not None else None
    loader: MemberLoader | None = first_result("evalscope_resolve_collection_loader", data_dir=folder)
    if loader is None:
        raise MissingDependencyError(
            "Sampling a collection reads its members through an engine plugin, and none is installed.",
            hint=f"install evalscope-native ({install_hint('evalscope-native')}), or pass loader= to the sampler",
        )
    return loader
