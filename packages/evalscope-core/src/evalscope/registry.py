"""Name registries built from the registration hooks: canonical `<plugin>/<name>`, bare names when unique.

The hooks are called through `evalscope.hooks.collect`, each plugin on its own: the registry must
know *which* plugin registered a spec (for canonical names), and one plugin's broken hook must not
hide every other plugin's benchmarks.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Generic, TypeVar

from evalscope import hooks, plugins
from evalscope.errors import AmbiguousNameError, EvalScopeError, UnknownNameError
from evalscope.specs import (
    BackendSpec,
    BenchmarkSpec,
    CommandSpec,
    MetricSpec,
    ModelSpec,
    ReporterSpec,
    RunnerSpec,
    ScorerSpec,
    _Spec,
)

__all__ = [
    "KINDS",
    "Registry",
    "backends",
    "benchmarks",
    "commands",
    "get_registry",
    "load_impl",
    "metrics",
    "models",
    "reporters",
    "reset_registries",
    "runners",
    "scorers",
]

log = logging.getLogger("evalscope.registry")

S = TypeVar("S", bound=_Spec)

KINDS: dict[str, tuple[str, type[_Spec]]] = {
    "benchmark": ("evalscope_register_benchmarks", BenchmarkSpec),
    "model": ("evalscope_register_models", ModelSpec),
    "scorer": ("evalscope_register_scorers", ScorerSpec),
    "metric": ("evalscope_register_metrics", MetricSpec),
    "backend": ("evalscope_register_backends", BackendSpec),
    "reporter": ("evalscope_register_reporters", ReporterSpec),
    "runner": ("evalscope_register_runners", RunnerSpec),
    "command": ("evalscope_register_commands", CommandSpec),
}


class Registry(Generic[S]):
    """All specs of one kind, addressable by canonical name, bare name or alias."""

    def __init__(self, kind: str, specs: list[S]) -> None:
        self.kind = kind
        self._specs: dict[str, S] = {}
        self._short: dict[str, list[str]] = {}
        for spec in specs:
            canonical = spec.canonical_name
            if canonical in self._specs:
                log.warning("%s %r registered twice; the later registration wins", kind, canonical)
            self._specs[canonical] = spec
        for canonical, spec in self._specs.items():
            for short in (spec.name, *spec.aliases):
                bucket = self._short.setdefault(short.lower(), [])
                if canonical not in bucket:
                    bucket.append(canonical)

    def __contains__(self, name: str) -> bool:
        try:
            self.resolve(name)
        except EvalScopeError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._specs)

    def all(self) -> list[S]:
        return list(self._specs.values())

    def names(self) -> list[str]:
        return list(self._specs)

    def resolve(self, name: str) -> S:
        """`plugin/name` exactly, else a unique bare name or alias (case-insensitive)."""
        if name in self._specs:
            return self._specs[name]
        if "/" in name:
            plugin, _, short = name.partition("/")
            for spec in self._specs.values():
                if spec.plugin == plugin and short in (spec.name, *spec.aliases):
                    return spec
        else:
            matches = self._short.get(name.lower(), [])
            if len(matches) == 1:
                return self._specs[matches[0]]
            if len(matches) > 1:
                raise AmbiguousNameError(self.kind, name, matches)
        candidates = [*self._specs, *(s.name for s in self._specs.values())]
        candidates += [a for s in self._specs.values() for a in s.aliases]
        raise UnknownNameError(
            self.kind,
            name,
            candidates,
            hint=f"`evalscope list {self.kind}s` shows every installed {self.kind}.",
        )


_cache: dict[str, tuple[int, Registry[Any]]] = {}


def get_registry(kind: str) -> Registry[Any]:
    """The registry for `kind` ('benchmark', 'model', ...), built on first use and cached until the
    set of plugins changes (`plugins.generation()`: the plugin manager never calls back into here)."""
    if kind not in KINDS:
        raise UnknownNameError("registry kind", kind, KINDS)
    current = plugins.generation()
    cached = _cache.get(kind)
    if cached is None or cached[0] != current:
        cached = _cache[kind] = (current, Registry(kind, _collect(kind)))
    return cached[1]


def benchmarks() -> Registry[BenchmarkSpec]:
    return get_registry("benchmark")


def models() -> Registry[ModelSpec]:
    return get_registry("model")


def scorers() -> Registry[ScorerSpec]:
    return get_registry("scorer")


def metrics() -> Registry[MetricSpec]:
    return get_registry("metric")


def backends() -> Registry[BackendSpec]:
    return get_registry("backend")


def reporters() -> Registry[ReporterSpec]:
    return get_registry("reporter")


def runners() -> Registry[RunnerSpec]:
    return get_registry("runner")


def commands() -> Registry[CommandSpec]:
    return get_registry("command")


def reset_registries() -> None:
    _cache.clear()


def _collect(kind: str) -> list[Any]:
    hook_name, spec_type = KINDS[kind]
    infos = {info.name: info for info in plugins.plugin_infos()}
    out: list[Any] = []
    for plugin_name, result in hooks.collect(hook_name):  # registration order, each plugin alone
        info = infos.get(plugin_name)
        try:
            if isinstance(result, BaseException):
                raise result
            specs = [s if isinstance(s, spec_type) else spec_type.model_validate(s) for s in result]
        except Exception as exc:  # a broken plugin loses its own registrations only
            msg = f"{hook_name} failed: {type(exc).__name__}: {exc}"
            log.warning("plugin %r: %s", plugin_name, msg)
            if info is not None:
                info.error = (info.error + "; " if info.error else "") + msg
            continue
        for spec in specs:
            spec = spec.model_copy(update={"plugin": plugin_name})
            out.append(spec)
            if info is not None:
                info.registered.setdefault(kind, []).append(spec.name)
    return out


def _install_command(module: str) -> str:
    """How to install the package that provides `module`.

    One of ours (`evalscope_perf...`) is installed from this repository: `pip install evalscope-perf`
    would fetch an unrelated project of that name from PyPI (`evalscope.distributions`).
    """
    top = module.partition(".")[0]
    if top.startswith("evalscope_"):
        from evalscope.distributions import install_hint

        return install_hint(top.replace("_", "-"))
    return f"`pip install {top}`"


def load_impl(spec: _Spec) -> Any:
    """Import `spec.impl` ('module:attr'); a failure names the plugin and the broken path."""
    module_name, _, attr = spec.impl.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        raise EvalScopeError(
            f"Cannot load {spec.canonical_name} ({spec.impl}): {exc}",
            hint=f"Install the missing package ({_install_command(missing)}) or reinstall plugin {spec.plugin!r}."
            if missing
            else None,
        ) from exc
    except AttributeError as exc:
        raise EvalScopeError(
            f"Cannot load {spec.canonical_name}: {spec.impl} does not exist ({exc})."
        ) from exc
    return obj
