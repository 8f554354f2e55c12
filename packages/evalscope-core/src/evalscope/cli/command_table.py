"""Which subcommands exist, known without importing any of them.

Built-in commands are a static table. Plugin commands come from the `evalscope_register_commands`
hook, but building the plugin manager costs pluggy + pydantic + every plugin module (~0.4 s),
far too much for `evalscope --help`. So the hook's answer is cached on disk, keyed by a
fingerprint of the installed `evalscope.plugins` entry points (read straight from the
`entry_points.txt` files): installing or removing a plugin changes the fingerprint and the cache
is rebuilt through the hook on the next call.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CommandEntry:
    name: str
    impl: str
    help: str
    plugin: str = "core"


BUILTIN: dict[str, CommandEntry] = {
    e.name: e
    for e in (
        CommandEntry("eval", "evalscope.cli.eval_cmd:app", "Evaluate a model on benchmarks."),
        CommandEntry("list", "evalscope.cli.list_cmd:app", "List benchmarks, models, metrics, backends."),
        CommandEntry("plugins", "evalscope.cli.plugins_cmd:app", "Show installed plugins and their errors."),
    )
}


def plugin_fingerprint() -> str:
    """Hash of every installed distribution that declares `evalscope.plugins` entry points."""
    from evalscope.plugin_dists import fingerprint

    return fingerprint()


def _cache_path() -> Path:
    from evalscope.cache_dirs import cache_dir

    return cache_dir("commands.json")


def forget_plugin_commands() -> None:
    """Drop the cache (a plugin edited in place, without reinstalling, may have changed its commands)."""
    from evalscope.plugin_dists import forget

    forget()
    try:
        _cache_path().unlink()
    except OSError:
        pass


def _read() -> dict[str, Any] | None:
    """The cache file's content, None when it is missing or unreadable."""
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _cached(fingerprint: str) -> dict[str, Any] | None:
    cached = _read()
    if cached is not None and cached.get("fingerprint") == fingerprint and "prestarts" in cached:
        return cached
    return None


def _prestart_table(cached: dict[str, Any] | None) -> dict[str, str]:
    table = cached.get("prestarts") if cached else None
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def plugin_commands() -> dict[str, CommandEntry]:
    """Plugin-owned commands, from the disk cache when the installed plugins have not changed."""
    fingerprint = plugin_fingerprint()
    cached = _cached(fingerprint)
    if cached is not None:
        try:
            return {c["name"]: CommandEntry(**c) for c in cached["commands"]}
        except (KeyError, TypeError):
            pass
    return _rebuild(fingerprint)


def _rebuild(fingerprint: str) -> dict[str, CommandEntry]:
    """Ask the hooks (plugin manager and registries: ~0.4 s) and write the cache."""
    commands = _commands_from_hook()
    data = {
        "fingerprint": fingerprint,
        "commands": [asdict(c) for c in commands.values()],
        "prestarts": _prestarts_from_specs(),
    }
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed
    return commands


def prestarts(refresh: bool = False) -> dict[str, str]:
    """Benchmark name (and alias) -> its `BenchmarkSpec.prestart`, from the cache only: reading it must
    cost milliseconds at the start of `evalscope eval`. `refresh` rebuilds a missing or stale cache
    (the eval command does it once its own registry is loaded, so the next run has the table)."""
    fingerprint = plugin_fingerprint()
    cached = _cached(fingerprint)
    if cached is None and refresh:
        _rebuild(fingerprint)
        cached = _cached(fingerprint)
    return _prestart_table(cached)


def cached_prestarts() -> dict[str, str]:
    """The prestart table as last written, without checking the fingerprint (`evalscope.cli.boot`).

    Why unchecked: hashing the installed plugins costs ~30 ms, and the start it would guard is only a
    head start -- a stale entry at worst starts a helper the run does not use (killed at exit) or
    names a module that no longer imports (ignored); the run starts what it needs itself, and the
    eval command rewrites a stale table (`prestarts(refresh=True)`).
    """
    return _prestart_table(_read())


def _prestarts_from_specs() -> dict[str, str]:
    from evalscope import registry

    out: dict[str, str] = {}
    for spec in registry.benchmarks().all():
        if spec.prestart:
            for name in (spec.name, spec.canonical_name, *spec.aliases):
                out[name] = spec.prestart
    return out


def _commands_from_hook() -> dict[str, CommandEntry]:
    from evalscope import registry

    out: dict[str, CommandEntry] = {}
    for spec in registry.commands().all():
        if spec.name in BUILTIN:
            continue  # built-ins cannot be shadowed
        out[spec.name] = CommandEntry(spec.name, spec.impl, spec.help or spec.description, spec.plugin)
    return out
