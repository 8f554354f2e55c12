"""Shared bits of the sandbox tests: small limits, and a check that no sample process survived."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from evalscope_native.sandbox import SandboxLimits
from evalscope_native.sandbox import bwrap as bwrap_mod

# Small limits keep the hostile cases quick (the suite must stay well under 40 s on 2 cores).
FAST = SandboxLimits(timeout_s=2.0, cpu_s=1, memory_mb=256, max_processes=16, tmpfs_mb=16)


def require_bwrap() -> None:
    problem = bwrap_mod.probe()
    if problem is not None:
        pytest.fail(f"the sandbox tests need bubblewrap: {problem}")


def processes_with(marker: str) -> list[int]:
    """Host PIDs whose command line contains ``marker`` (other than this test process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found
