"""EvalScope: a thin, plugin-based core for evaluating large models.

The public names (`run_task`, `TaskConfig`, `Report`) are resolved lazily so that importing
`evalscope` (and running `evalscope --help`) costs almost nothing: pydantic and the plugin
manager load only when a caller actually touches them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "run_task", "TaskConfig", "Report", "SampleRecord", "EvalScopeError"]

_LAZY = {
    "run_task": "evalscope.run:run_task",
    "TaskConfig": "evalscope.config:TaskConfig",
    "Report": "evalscope.report:Report",
    "SampleRecord": "evalscope.report:SampleRecord",
    "EvalScopeError": "evalscope.errors:EvalScopeError",
}

if TYPE_CHECKING:
    from evalscope.config import TaskConfig
    from evalscope.errors import EvalScopeError
    from evalscope.report import Report, SampleRecord
    from evalscope.run import run_task


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'evalscope' has no attribute {name!r}")
    import importlib

    module_name, attr = target.split(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
