"""The perf plugin's hooks: only the `perf` command, imported when invoked."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import CommandSpec


@hookimpl
def evalscope_register_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="perf",
            impl="evalscope_perf.cli:app",
            help="Stress-test a model service: TTFT, TPOT, ITL, throughput, SLA search.",
            description="EvalScope's `perf`: load a service with streamed requests and measure it as vLLM does.",
        )
    ]
