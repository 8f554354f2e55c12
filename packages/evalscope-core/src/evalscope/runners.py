"""Runners: where a run's work executes (`--runner`). `local` is this process; plugins add others (ray).

A runner is picked by name through the registry (`evalscope_register_runners`), built as
`cls(args)` with its validated `--runner-args`, and asked two things by the core:

* `check(config, backend_spec)` before the backend prepares anything: e.g. that the cluster is
  reachable (a wrong address is exit code 2 in seconds, before any output);
* `run_eval(backend, prepared, run)` instead of `backend.run(prepared, run)`: a distributed runner
  drives an `evalscope.sharding.ShardableBackend` through its shards.

`evalscope perf` uses the same runners for load: `run_load(shares, emit)` runs each `LoadShare`
(one picklable k-of-n share of a load test) in its own process, wherever the runner puts it, and
streams the records back (see `DistributesLoad`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from evalscope.config import TaskConfig
    from evalscope.report import Report
    from evalscope.run_context import RunInfo
    from evalscope.specs import BackendSpec, RunnerSpec

__all__ = [
    "DistributesLoad",
    "LoadResult",
    "LoadShare",
    "LocalRunner",
    "Runner",
    "check_runner",
    "resolve_runner",
]


class Runner(Protocol):
    def check(self, config: TaskConfig, backend_spec: BackendSpec) -> None:
        """Refuse what cannot run (unreachable cluster, unsupported option) before any output."""
        ...

    def run_eval(self, backend: Any, prepared: Any, run: RunInfo) -> list[Report]:
        """Run the prepared evaluation, writing into `run.run_dir`; the reports, as `Backend.run`."""
        ...


class LocalRunner:
    """This process, the backend's own concurrency: exactly `backend.run(prepared, run)`."""

    def __init__(self, args: Any = None) -> None:
        self.args = args

    def check(self, config: TaskConfig, backend_spec: BackendSpec) -> None:
        return None

    def run_eval(self, backend: Any, prepared: Any, run: RunInfo) -> list[Report]:
        reports: list[Report] = backend.run(prepared, run)
        return reports


class LoadShare(Protocol):
    """One share (k of n) of a load test; it is pickled and run in another process, maybe another node.

    Timestamps in its records are that process's `time.perf_counter()`; `rebase(records, offset)`
    adds `offset` to each, so the runner can express them in seconds since the common start.
    """

    async def warm_up(self, emit: Callable[[list[Any]], None]) -> None: ...

    async def measure(self, emit: Callable[[list[Any]], None]) -> int:
        """Send the measured requests now; `emit` batches of finished records. Returns how many were
        abandoned in flight."""
        ...

    def stop(self) -> None:
        """Release no more requests (a stop rule fired, or Ctrl-C): `measure` returns soon, the
        requests still in flight counted as abandoned. Called on the share's own event loop."""
        ...

    def rebase(self, records: list[Any], offset: float) -> list[Any]: ...


@dataclass
class LoadResult:
    abandoned: int = 0
    start_spread_s: float = 0.0  # how far apart (wall clock) the shares started their measured phase
    nodes: list[str] = field(default_factory=list)  # where each share ran (a runner's node ids)


@runtime_checkable
class DistributesLoad(Protocol):
    def run_load(
        self,
        shares: list[Any],
        emit: Callable[[list[Any]], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> LoadResult:
        """Warm every share up, then start their measured phases at one instant; `emit` gets every
        record, warm-up ones included, with its times in seconds since that instant. `should_stop`
        (perf's stop rules and Ctrl-C) is polled every ~0.2 s in this process; once it is true every
        share is told to `stop`, and the records measured until then still arrive."""
        ...


def resolve_runner(name: str, args: dict[str, Any] | None = None) -> tuple[RunnerSpec, Runner]:
    """The runner called `name`, built with its validated `args`; a missing plugin names its package."""
    from evalscope import registry
    from evalscope.distributions import install_hint, provider_of
    from evalscope.errors import MissingDependencyError, UnknownNameError

    try:
        spec = registry.runners().resolve(name)
    except UnknownNameError:
        dist = provider_of("runner", name)
        if dist is None:
            raise
        raise MissingDependencyError(
            f"The {name} runner is provided by the {dist} distribution, which is not installed.",
            hint=install_hint(dist),
        ) from None
    return spec, registry.load_impl(spec)(_validate_args(spec, args or {}))


def _validate_args(spec: RunnerSpec, args: dict[str, Any]) -> Any:
    from evalscope import registry
    from evalscope.errors import ConfigError, closest

    if spec.args_model is None:
        if args:
            raise ConfigError(f"The {spec.name} runner takes no --runner-args ({', '.join(sorted(args))}).",
                              hint="drop --runner-args")  # fmt: skip
        return None
    from pydantic import ValidationError

    model = registry.load_impl(spec.model_copy(update={"impl": spec.args_model}))
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        hint = None
        if err["type"] == "extra_forbidden":
            near = closest(str(err["loc"][0]), model.model_fields)
            hint = f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(model.model_fields)}"
        raise ConfigError(f"--runner-args for {spec.name}: {where}: {err['msg']}", hint=hint) from None


def check_runner(runner_spec: RunnerSpec, backend_spec: BackendSpec) -> None:
    """A distributed runner needs a backend that can be split into shards."""
    from evalscope.errors import ConfigError

    if runner_spec.distributed and not backend_spec.capabilities.distributed:
        raise ConfigError(
            f"The {backend_spec.name} backend cannot run on the {runner_spec.name} runner: it cannot split a "
            "run into shards.",
            hint="drop --runner (the default runs locally), or pick a backend that can (--backend native)",
        )
