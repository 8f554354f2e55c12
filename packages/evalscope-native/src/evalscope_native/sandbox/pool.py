"""Many programs at once: a bounded thread pool driving sandbox processes, and a result cache.

Threads are enough: each one only waits on its sandbox's pipes, the work happens in the child
processes. The cache key is the sha256 of (program, tests, limits, isolation, harness version; for
a stdin/stdout case also its stdin, expected output and check), so a re-run, or the same completion
sampled twice, is not executed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evalscope_native.sandbox.checked import CheckedProgram, execute_checked
from evalscope_native.sandbox.result import Isolation, SandboxLimits, SandboxResult
from evalscope_native.sandbox.runner import _execute, choose_isolation

# Bump when the launcher or the classification changes: old cached verdicts are then ignored.
HARNESS_VERSION = "1"


def default_cache_dir() -> Path:
    """`$EVALSCOPE_CACHE_DIR/sandbox`, else `~/.cache/evalscope/sandbox` (XDG_CACHE_HOME honoured)."""
    from evalscope.cache_dirs import cache_dir

    return cache_dir("sandbox")


class SandboxCache:
    """One JSON file per result under ``root/<key[:2]>/<key>.json``; written atomically.

    ``error`` results (the harness could not run the sample) are never stored: they say nothing
    about the program.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    @staticmethod
    def key(
        program: str,
        tests: str,
        limits: SandboxLimits,
        isolation: Isolation,
        *,
        stdin: str | None = None,
        expected: str | None = None,
        check: str | None = None,
        checked: dict[str, object] | None = None,
    ) -> str:
        """The content hash of everything a verdict depends on.

        A stdin/stdout case adds its ``stdin``, its ``expected`` output and the name of the output
        ``check`` (the verdict is the host's comparison); without them the key is the one earlier
        versions computed, so existing cached verdicts stay valid. A checked run (``checked``: its
        protocol version, set-up code and remote names) never shares a key with a plain run.
        """
        content: dict[str, object] = {
            "v": HARNESS_VERSION,
            "program": program,
            "tests": tests,
            "limits": limits.as_dict(),
            "iso": isolation,
        }
        if stdin is not None or expected is not None or check is not None:
            content["io"] = {"stdin": stdin, "expected": expected, "check": check}
        if checked is not None:
            content["checked"] = checked
        payload = json.dumps(content, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> SandboxResult | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        result = SandboxResult.from_json(data)
        result.cached = True
        return result

    def put(self, key: str, result: SandboxResult) -> None:
        if result.status == "error":
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{id(result)}.tmp")
        tmp.write_text(json.dumps(result.to_json()), encoding="utf-8")
        os.replace(tmp, path)


def run_many(
    programs: Sequence[str | CheckedProgram],
    *,
    tests: Sequence[str] | str = "",
    workers: int | None = None,
    limits: SandboxLimits | None = None,
    cache: SandboxCache | None = None,
    allow_weak: bool | None = None,
    on_result: Callable[[int, SandboxResult], None] | None = None,
) -> list[SandboxResult]:
    """Run every program (with its tests: one string for all, or one per program), in order.

    A ``CheckedProgram`` carries its own tests (``tests`` must then be empty for it) and runs as
    ``run_checked`` does: the tests in a checker process that gets the program's values. At most ``workers`` sandboxes run at once (default: the number of CPUs). The isolation is
    chosen once for the batch, so every result of a batch carries the same ``isolation``.
    """
    lim = limits or SandboxLimits()
    mode = choose_isolation(allow_weak)
    test_list = [tests] * len(programs) if isinstance(tests, str) else list(tests)
    if len(test_list) != len(programs):
        raise ValueError(f"{len(programs)} programs but {len(test_list)} test strings")
    if any(isinstance(p, CheckedProgram) and t for p, t in zip(programs, test_list, strict=True)):
        raise ValueError("a CheckedProgram carries its own tests: pass tests='' with it")

    def one(index: int) -> SandboxResult:
        program, test = programs[index], test_list[index]
        if isinstance(program, CheckedProgram):
            result = execute_checked(program, lim, mode, cache)
        else:
            key = SandboxCache.key(program, test, lim, mode) if cache is not None else ""
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                result = _execute(program + ("\n\n" + test if test else ""), lim, mode)
                if cache is not None:
                    cache.put(key, result)
            else:
                result = hit
        if on_result is not None:
            on_result(index, result)
        return result

    size = max(1, workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="sandbox") as pool:
        return list(pool.map(one, range(len(programs))))
