"""EvalScope perf: stress-test model services (`evalscope perf`, `run_perf_benchmark`).

Names load lazily so importing the package (as the CLI's plugin discovery does) costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["PerfConfig", "PerfResult", "load_perf_config", "run_perf_benchmark"]

if TYPE_CHECKING:
    from evalscope_perf.benchmark import PerfResult, run_perf_benchmark
    from evalscope_perf.config import PerfConfig, load_perf_config

_LAZY = {
    "run_perf_benchmark": "evalscope_perf.benchmark",
    "PerfResult": "evalscope_perf.benchmark",
    "PerfConfig": "evalscope_perf.config",
    "load_perf_config": "evalscope_perf.config",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'evalscope_perf' has no attribute {name!r}")
