"""Installed distributions that declare `evalscope.plugins` entry points, read from their metadata folders.

Why not `importlib.metadata`: importing it (with the `email` package it parses METADATA with) and
scanning every distribution costs ~35 ms, paid by every `evalscope eval` before its first request.
The facts needed are few and stable: which `*.dist-info` / `*.egg-info` folders on `sys.path` have
an `entry_points.txt` naming the group, the lines under it, and the distribution's name and version
(the first header lines of its METADATA / PKG-INFO). Precedence is `importlib.metadata`'s: a
distribution found in two `sys.path` entries counts once, from the first. The scan is remembered
per `sys.path` for the life of the process (`forget` after installing in-process).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["EntryPoint", "entry_points", "fingerprint", "forget"]

GROUP = "evalscope.plugins"
_HEADER = f"[{GROUP}]"


@dataclass(frozen=True)
class EntryPoint:
    """`name = module:attr` under the group, with the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for part in attr.split("[", 1)[0].strip().split(".") if attr.strip() else ():
            obj = getattr(obj, part)
        return obj


@dataclass(frozen=True)
class _Dist:
    folder: str
    entry_points_text: str


def fingerprint() -> str:
    """Hash of every distribution declaring the group (its folder name and entry points): installing,
    upgrading or removing a plugin changes it."""
    h = hashlib.sha256()
    for dist in _scan(tuple(sys.path)):
        h.update(os.path.basename(dist.folder).encode())
        h.update(dist.entry_points_text.encode())
    return h.hexdigest()


def entry_points() -> list[EntryPoint]:
    """The group's entry points, in `sys.path` order, each distribution once."""
    out: list[EntryPoint] = []
    seen: set[str] = set()
    for dist in _scan(tuple(sys.path)):
        name, version = _name_version(dist.folder)
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for ep_name, value in _group_lines(dist.entry_points_text):
            out.append(EntryPoint(ep_name, value, name, version))
    return out


def forget() -> None:
    """Scan again on the next call (a plugin installed or edited by this process)."""
    _scan.cache_clear()


@functools.lru_cache(maxsize=4)
def _scan(paths: tuple[str, ...]) -> tuple[_Dist, ...]:
    found: list[_Dist] = []
    for entry in paths:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            folder = os.path.join(entry or ".", name)
            try:
                with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if _HEADER in text:
                found.append(_Dist(folder, text))
    return tuple(found)


def _group_lines(text: str) -> list[tuple[str, str]]:
    """`name = value` pairs under `[evalscope.plugins]` (INI syntax, as `importlib.metadata` reads it)."""
    pairs: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line == _HEADER
            continue
        if inside and "=" in line:
            name, value = line.split("=", 1)
            pairs.append((name.strip(), value.strip()))
    return pairs


def _name_version(folder: str) -> tuple[str, str]:
    """From the metadata headers (`Name:`, `Version:`); the folder's name when they cannot be read."""
    stem = os.path.basename(folder).rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    meta = "METADATA" if folder.endswith(".dist-info") else "PKG-INFO"
    try:
        with open(os.path.join(folder, meta), encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break  # the headers end at the first blank line
                key, _, value = line.partition(":")
                if key == "Name":
                    name = value.strip()
                elif key == "Version":
                    version = value.strip()
    except OSError:
        pass
    return name, version
