"""A sandbox for model-written Python: bubblewrap namespaces + rlimits, no Docker daemon.

``run_untrusted(program, tests=...)`` runs one program; ``run_checked(CheckedProgram(program,
tests))`` runs the tests in a separate checker process that receives the program's values by value
(what the code benchmarks use); ``run_many`` runs a batch of either on a bounded pool with an
optional ``SandboxCache``; ``run_io_case(program, stdin, expected)`` feeds a program a stdin and
judges its stdout on the host. Threat model and guarantees: docs/sandbox.md.
"""

from evalscope_native.sandbox.bwrap import SandboxUnavailable
from evalscope_native.sandbox.checked import CheckedProgram, run_checked
from evalscope_native.sandbox.compare import EXACT, STDOUT_LINES, OutputCheck
from evalscope_native.sandbox.io_case import run_io_case
from evalscope_native.sandbox.pool import SandboxCache, run_many
from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult, Status
from evalscope_native.sandbox.runner import choose_isolation, run_untrusted

__all__ = [
    "EXACT",
    "CheckedProgram",
    "STDOUT_LINES",
    "Isolation",
    "OutputCheck",
    "SandboxCache",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailable",
    "Status",
    "choose_isolation",
    "run_checked",
    "run_io_case",
    "run_many",
    "run_untrusted",
]
