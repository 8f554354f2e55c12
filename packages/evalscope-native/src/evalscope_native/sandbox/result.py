"""The inputs and outputs of one sandboxed run: resource limits and the classified result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

#: passed: exit 0 AND the per-run nonce arrived (the trusted epilogue ran); failed: anything else the
#: program did to itself (exception, wrong answer, early exit); timeout: wall clock or CPU limit;
#: memory: address-space limit hit; killed: a signal or the output-flood guard ended it;
#: error: the harness could not run the sample at all (sandbox set-up failed).
Status = Literal["passed", "failed", "timeout", "memory", "killed", "error"]
Isolation = Literal["bwrap", "weak"]


@dataclass(frozen=True)
class SandboxLimits:
    """Per-sample limits. Small defaults: a benchmark test should need far less than this.

    ``max_processes`` counts every process and thread of the sample (RLIMIT_NPROC);
    ``memory_mb`` bounds each process's address space (RLIMIT_AS), which also bounds threads'
    stacks, so keep it >= 128 for CPython.
    """

    timeout_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 512
    max_processes: int = 32
    max_file_mb: int = 16
    max_open_files: int = 64
    tmpfs_mb: int = 64
    max_output_bytes: int = 64 * 1024  # kept per stream, the rest is counted and dropped
    flood_output_bytes: int = 8 * 1024 * 1024  # above this the run is killed (an output flood)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SandboxResult:
    """What one run did. ``passed`` is the only field a scorer needs; the rest explains it."""

    status: Status
    exit_code: int | None
    stdout: str
    stderr: str
    wall_s: float
    isolation: Isolation
    detail: str = ""  # a short human explanation (exception name, limit hit, set-up error)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
