"""The one place hooks are called — always through pluggy, so its ordering and wrappers apply.

Three ways of calling, as `hookspecs.py` documents each hook:

* `collect(name)` — registration hooks: every plugin's answer, each plugin called on its own (a
  `subset_hook_caller` that keeps only that plugin and any plugin wrapping the hook), so one plugin
  that raises loses its own registrations, never the others'.
* `first_result(name, **kwargs)` — resolver hooks (`firstresult=True`): pluggy's own call.
* `notify(name, **kwargs)` — lifecycle hooks: every plugin in isolation, like `collect`; a failure is
  logged (the first with its traceback, later ones at DEBUG) and never raised into the run.

Why not `impl.function(...)`: that bypasses pluggy — hook wrappers, `tryfirst`/`trylast` and the
argument checks would silently stop applying to the hooks called that way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pluggy

__all__ = ["collect", "first_result", "notify", "reset_failures"]

log = logging.getLogger("evalscope")

_failures: dict[tuple[str, str], int] = {}


def _pm() -> pluggy.PluginManager:
    from evalscope.plugins import get_plugin_manager

    return get_plugin_manager()


def _each_plugin(pm: pluggy.PluginManager, hook_name: str, *, call_order: bool) -> Iterator[tuple[str, Any]]:
    """(plugin name, a caller of this hook restricted to that plugin and the hook's wrappers).

    `call_order`: pluggy's (later-registered first); else registration order, which registries use
    so that canonical names and "the later registration wins" stay stable.
    """
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    wrappers = {id(i.plugin) for i in impls if i.hookwrapper or i.wrapper}
    ordered = reversed(impls) if call_order else iter(impls)
    plugins = [(i.plugin_name, i.plugin) for i in ordered if not (i.hookwrapper or i.wrapper)]
    if not plugins and wrappers:  # only wrappers: pluggy still runs them, once, around nothing
        yield "wrappers", getattr(pm.hook, hook_name)
        return
    seen: set[int] = set()
    for name, plugin in plugins:  # pluggy calls LIFO: later-registered first
        if id(plugin) in seen:
            continue
        seen.add(id(plugin))
        others = [p for _, p in pm.list_name_plugin() if p is not plugin and id(p) not in wrappers]
        yield name, pm.subset_hook_caller(hook_name, remove_plugins=others)


def collect(hook_name: str) -> list[tuple[str, list[Any] | BaseException]]:
    """Each plugin's results for a registration hook, or the exception it raised, in registration order."""
    pm = _pm()
    out: list[tuple[str, list[Any] | BaseException]] = []
    for name, caller in _each_plugin(pm, hook_name, call_order=False):
        try:
            results = caller()
        except Exception as exc:  # a broken plugin loses its own registrations only
            out.append((name, exc))
            continue
        out.append((name, [item for result in results for item in (result or [])]))
    return out


def first_result(hook_name: str, **kwargs: Any) -> Any:
    """A resolver hook's answer: the first non-None result, pluggy's `firstresult` call."""
    return getattr(_pm().hook, hook_name)(**kwargs)


def reset_failures() -> None:
    """Each run logs its plugins' first lifecycle failure with a traceback again."""
    _failures.clear()


def notify(hook_name: str, **kwargs: Any) -> None:
    """Call a lifecycle hook on every plugin in isolation: a failure is logged, never raised."""
    pm = _pm()
    for name, caller in _each_plugin(pm, hook_name, call_order=True):
        try:
            caller(**kwargs)
        except Exception:
            key = (name, hook_name)
            _failures[key] = _failures.get(key, 0) + 1
            if _failures[key] == 1:
                log.exception("plugin %r failed in %s; the run continues", name, hook_name)
            else:
                log.debug(
                    "plugin %r failed in %s again (%d times)", name, hook_name, _failures[key], exc_info=True
                )
