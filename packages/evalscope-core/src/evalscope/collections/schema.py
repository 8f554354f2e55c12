"""Collection schemas: a tree of member benchmarks with weights, in EvalScope 1.14.1's shape.

A `CollectionSchema` holds `DatasetInfo`s (one member benchmark each: its name, weight, task type,
tags and dataset args) and nested schemas. Weights are relative among siblings and normalised down
the tree: a member's share of the whole is the product of its own and its ancestors' shares, so
`flatten()` returns the members with weights that add up to 1 (EvalScope's `flatten_weight`) and
`hierarchy` set to the names of the schemas above it.

The JSON file (`dump_json` / `from_json`) is EvalScope's: a schema is
`{"name", "weight", "datasets": [...]}`, a member is `asdict(DatasetInfo)`, so a schema written by
either loads in the other. Ours adds `tags` on a schema (inherited by every member below it); it
is written only when set, so a schema without them stays byte-compatible.

Unlike EvalScope, every weight is checked: a negative weight, a schema whose members' weights add
up to zero or less, or an empty schema fails with the path to the offending node.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope.errors import ConfigError, closest

if TYPE_CHECKING:
    from evalscope.collections.loading import MemberLoader

__all__ = ["CollectionSchema", "DatasetInfo", "leaf_weights"]


@dataclass
class DatasetInfo:
    """One member benchmark of a collection (EvalScope's fields and defaults)."""

    name: str
    weight: float = 1.0
    task_type: str = ""
    tags: list[str] = field(default_factory=list)
    #: the member's dataset args, as in `--dataset-args` (`subset_list`, `few_shot_num`, ...)
    args: dict[str, Any] = field(default_factory=dict)
    #: filled in by `CollectionSchema.flatten`: the names of the schemas above this member
    hierarchy: list[str] = field(default_factory=list)

    def get_data(
        self, loader: MemberLoader | None = None, *, data_dir: str | os.PathLike[str] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """The member's samples by subset, each an EvalScope `prompt` (rendered input, target, ...).

        `loader` defaults to the installed engine's (the native plugin's benchmarks and data loader).
        """
        from evalscope.collections.loading import default_loader

        out: dict[str, list[dict[str, Any]]] = {}
        for sample in (loader or default_loader(data_dir))(self):
            out.setdefault(sample.subset, []).append(sample.prompt)
        return out


@dataclass
class CollectionSchema:
    """A named group of members and sub-schemas; `weight` is its share among its siblings."""

    name: str
    weight: float = 1.0
    datasets: list[DatasetInfo | CollectionSchema] = field(default_factory=list)
    #: ours: tags every member below this schema carries (EvalScope has tags on members only)
    tags: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=4)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "weight": self.weight,
            "datasets": [
                d.to_dict() if isinstance(d, CollectionSchema) else asdict(d) for d in self.datasets
            ],
        }
        if self.tags:
            data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectionSchema:
        """Build (and check) a schema from EvalScope's dict form; errors name the node's path."""
        return _schema_from(data, ())

    def dump_json(self, file_path: str | os.PathLike[str]) -> None:
        """Write the schema as EvalScope does (UTF-8, indent 4), atomically."""
        from evalscope.collections.records import atomic_write

        atomic_write(Path(file_path), json.dumps(self.to_dict(), ensure_ascii=False, indent=4))

    @classmethod
    def from_json(cls, file_path: str | os.PathLike[str]) -> CollectionSchema:
        path = Path(file_path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(
                f"Collection schema {path} does not exist.",
                hint="write one with CollectionSchema(...).dump_json(path); see docs/collections.md",
            ) from None
        except OSError as exc:
            raise ConfigError(f"Cannot read collection schema {path}: {exc.strerror or exc}.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno}).") from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}", exc.hint) from None

    def validate(self) -> None:
        """Raise `ConfigError` for a negative weight, a zero or negative total, an empty schema."""
        _check_tree(self, ())

    def flatten(self) -> list[DatasetInfo]:
        """The members, depth first, with normalised weights (summing to 1), `hierarchy` and
        inherited tags filled in; the schema itself is not changed."""
        return [info for info, _ in leaf_weights(self)]


def leaf_weights(schema: CollectionSchema) -> list[tuple[DatasetInfo, Fraction]]:
    """Each member (a flattened copy, see `flatten`) with its exact share of the whole.

    Exact fractions, so that an allocation built on them does not depend on float rounding: the
    same schema gives the same counts on every machine.
    """
    _check_tree(schema, ())
    out: list[tuple[DatasetInfo, Fraction]] = []

    def walk(node: CollectionSchema, share: Fraction, names: list[str], tags: list[str]) -> None:
        names = [*names, node.name]
        tags = [*tags, *(t for t in node.tags if t not in tags)]
        total = sum(Fraction(d.weight) for d in node.datasets)
        for child in node.datasets:
            part = share * Fraction(child.weight) / total
            if isinstance(child, CollectionSchema):
                walk(child, part, names, tags)
                continue
            info = copy.deepcopy(child)
            info.weight = float(part)
            info.hierarchy = list(names)
            info.tags = [*info.tags, *(t for t in tags if t not in info.tags)]
            out.append((info, part))

    walk(schema, Fraction(1), [], [])
    return out


# --- checks ----------------------------------------------------------------------------------------


def _where(path: tuple[str, ...]) -> str:
    return "schema " + " > ".join(repr(p) for p in path) if path else "the schema"


def _check_weight(value: Any, path: tuple[str, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{_where(path)}: weight must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise ConfigError(f"{_where(path)}: weight must be finite, got {value!r}.")
    if value < 0:
        raise ConfigError(
            f"{_where(path)}: weight {value!r} is negative.",
            hint="weights are relative shares among siblings: use 0 or more (0 leaves it out)",
        )


def _check_tree(node: CollectionSchema, parent: tuple[str, ...]) -> None:
    path = (*parent, str(node.name))
    if not isinstance(node.name, str) or not node.name:
        raise ConfigError(f"{_where(parent)}: a schema needs a non-empty 'name'.")
    _check_weight(node.weight, path)
    _check_strings(node.tags, "tags", path)
    if not node.datasets:
        raise ConfigError(f"{_where(path)} has no datasets.", hint="add DatasetInfo(name=...) members")
    for i, child in enumerate(node.datasets):
        if isinstance(child, CollectionSchema):
            _check_tree(child, path)
            continue
        if not isinstance(child, DatasetInfo):
            raise ConfigError(
                f"{_where(path)}: member #{i + 1} is a {type(child).__name__}, not a DatasetInfo."
            )
        where = (*path, str(child.name))
        if not isinstance(child.name, str) or not child.name:
            raise ConfigError(f"{_where(path)}: member #{i + 1} needs a benchmark 'name'.")
        _check_weight(child.weight, where)
        _check_strings(child.tags, "tags", where)
        if not isinstance(child.task_type, str):
            raise ConfigError(f"{_where(where)}: task_type must be a string, got {child.task_type!r}.")
        if not isinstance(child.args, dict):
            raise ConfigError(f"{_where(where)}: args must be an object (dataset args), got {child.args!r}.")
    total = sum(Fraction(d.weight) for d in node.datasets)
    if total <= 0:
        raise ConfigError(
            f"{_where(path)}: the weights of its {len(node.datasets)} member(s) add up to {float(total):g}, "
            "so no share can be computed.",
            hint="give at least one member a positive weight",
        )


def _check_strings(values: Any, what: str, path: tuple[str, ...]) -> None:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{_where(path)}: {what} must be a list of strings, got {values!r}.")


_INFO_KEYS = tuple(f.name for f in fields(DatasetInfo))
_SCHEMA_KEYS = ("name", "weight", "datasets", "tags")


def _unknown_keys(data: dict[str, Any], known: tuple[str, ...], path: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            near = closest(str(key), known)
            guess = f" Did you mean {near[0]!r}?" if near else ""
            raise ConfigError(
                f"{_where(path)}: unknown key {key!r}.{guess}", hint=f"valid keys: {', '.join(known)}"
            )


def _schema_from(data: Any, parent: tuple[str, ...]) -> CollectionSchema:
    if not isinstance(data, dict):
        raise ConfigError(f"{_where(parent)}: expected an object, got {type(data).__name__}.")
    path = (*parent, str(data.get("name", "")))
    _unknown_keys(data, _SCHEMA_KEYS, path)
    members = data.get("datasets", [])
    if not isinstance(members, list):
        raise ConfigError(f"{_where(path)}: 'datasets' must be a list.")
    schema = CollectionSchema(
        name=data.get("name", ""), weight=data.get("weight", 1.0), tags=list(data.get("tags") or [])
    )
    for i, member in enumerate(members):
        if not isinstance(member, dict):
            raise ConfigError(
                f"{_where(path)}: member #{i + 1} must be an object, got {type(member).__name__}."
            )
        if "datasets" in member:  # EvalScope's rule: an entry with `datasets` is a sub-schema
            schema.datasets.append(_schema_from(member, path))
            continue
        _unknown_keys(member, _INFO_KEYS, (*path, str(member.get("name", f"#{i + 1}"))))
        if "name" not in member:
            raise ConfigError(f"{_where(path)}: member #{i + 1} needs a benchmark 'name'.")
        schema.datasets.append(DatasetInfo(**member))
    if not parent:
        schema.validate()
    return schema
