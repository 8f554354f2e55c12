"""The plugin manager: entry points of group `evalscope.plugins`, loaded on first use and cached.

Why per-plugin isolation: a user with five plugins installed should not lose `evalscope eval`
because a sixth one fails to import. A plugin that fails to import, or whose hooks are misspelled
or mis-typed (`check_pending` / signature validation), is *not* registered; its error is kept and
shown by `evalscope plugins` and logged once as a warning, loud enough to notice, never fatal.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import threading
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from evalscope import hookspecs
from evalscope.plugin_dists import GROUP, forget

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "generation",
    "get_plugin_manager",
    "plugin_infos",
    "register_plugin",
    "reset_plugins",
]

ENTRY_POINT_GROUP = GROUP
BUILTIN_PLUGIN = ("core", "evalscope.builtin_plugin")

log = logging.getLogger("evalscope.plugins")


@dataclass
class PluginInfo:
    """One plugin as `evalscope plugins` shows it."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    error: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _State:
    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo]


_lock = threading.Lock()
_state: _State | None = None
_generation = 0  # bumped whenever the set of plugins changes: registries rebuild when it moves


def generation() -> int:
    """A counter that changes whenever plugins are (re)loaded or registered, for caches built on them."""
    return _generation


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first call."""
    return _get_state().pm


def plugin_infos() -> list[PluginInfo]:
    """Every plugin found (loaded or not), in load order."""
    return list(_get_state().infos.values())


def reset_plugins() -> None:
    """Forget the cached manager (tests, or after installing a plugin in-process)."""
    global _state, _generation
    forget()
    with _lock:
        _state = None
        _generation += 1


def register_plugin(module: ModuleType | object, name: str) -> PluginInfo:
    """Register an in-process plugin object (tests, notebooks) with the same validation as entry points."""
    state = _get_state()
    info = PluginInfo(name=name, module=getattr(module, "__name__", type(module).__name__))
    _register_checked(state.pm, module, info)
    state.infos[name] = info
    global _generation
    _generation += 1
    return info


def _get_state() -> _State:
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                _state = _build()
    return _state


def _build() -> _State:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}

    name, module_name = BUILTIN_PLUGIN
    info = PluginInfo(name=name, module=module_name, distribution="evalscope-core", version=_core_version())
    _register_checked(pm, importlib.import_module(module_name), info)
    infos[name] = info

    from evalscope.plugin_dists import entry_points

    for ep in sorted(entry_points(), key=lambda e: e.name):
        info = PluginInfo(name=ep.name, module=ep.value, distribution=ep.distribution, version=ep.version)
        if ep.name in infos:
            info.error = (
                f"duplicate plugin name {ep.name!r} (already provided by {infos[ep.name].distribution})"
            )
        else:
            try:
                plugin = ep.load()
            except Exception as exc:  # any import failure must stay contained
                info.error = f"failed to import {ep.value}: {_short_tb(exc)}"
            else:
                _register_checked(pm, plugin, info)
        if info.error:
            log.warning("plugin %r (%s) was not loaded: %s", info.name, info.distribution, info.error)
        infos[info.name] = info
    return _State(pm=pm, infos=infos)


def _register_checked(pm: pluggy.PluginManager, plugin: Any, info: PluginInfo) -> None:
    """Register `plugin`, then reject it (keeping the error) if any hook is unknown or mis-typed."""
    try:
        pm.register(plugin, name=info.name)
    except Exception as exc:  # pluggy.PluginValidationError, ValueError for duplicates
        info.error = f"invalid hook implementation: {exc}"
        return
    unknown = [
        hook.name
        for hook in pm.hook.__dict__.values()
        if isinstance(hook, pluggy.HookCaller)
        and not hook.has_spec()
        and any(impl.plugin_name == info.name for impl in hook.get_hookimpls())
    ]
    if unknown:
        pm.unregister(name=info.name)
        known = [n for n in dir(hookspecs) if n.startswith("evalscope_")]
        parts = []
        for hook_name in unknown:
            guess = difflib.get_close_matches(hook_name, known, n=1)
            parts.append(f"{hook_name!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
        info.error = "unknown hook " + ", ".join(parts)


def _short_tb(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _core_version() -> str:
    from evalscope import __version__

    return __version__
