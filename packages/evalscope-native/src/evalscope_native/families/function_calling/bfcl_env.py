"""BFCL's executable environments, in the `bfcl` engine environment, driven as a subprocess.

`bfcl-eval` pins numpy 1.26, faiss, sentence-transformers, tree-sitter and a dozen model SDKs, so it
cannot share our environment; its multi-turn environments (GorillaFileSystem, MathAPI, MessageAPI,
TwitterAPI, TicketAPI, TradingBot, TravelAPI, VehicleControlAPI, long_context) and checker need none
of them. `scripts/install_engines.sh bfcl` makes `.engines/bfcl` with `bfcl-eval` alone (plus mpmath);
the interpreter is found like every engine's (`evalscope.engines.env.find_engine`:
`$EVALSCOPE_BFCL_PYTHON`, `$EVALSCOPE_ENGINES_DIR/bfcl`, the checkout's `.engines/bfcl`, or this
interpreter when `bfcl_eval` is importable here). `bfcl_driver.py` runs there and answers one JSON
line per request; one driver serves a whole run (generation and scoring), a lock keeps its lines in order.
"""

from __future__ import annotations

import json
import subprocess
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.engines.env import EngineInstall, EngineSpec, find_engine
from evalscope.errors import EvalScopeError

__all__ = ["BFCL_ENGINE", "BFCLEnvironments", "find_bfcl"]

_DRIVER = Path(__file__).with_name("bfcl_driver.py")


@dataclass(frozen=True)
class _BFCLEngine(EngineSpec):
    def install_hint(self) -> str:
        return (
            f"run `scripts/install_engines.sh {self.name}` in the EvalScope checkout (~2 s: bfcl-eval without "
            "its dependencies, plus mpmath), or make a virtual environment, `pip install --no-deps "
            f"-r packages/{self.plugin_package}/bfcl-engine-requirements.txt` into it and set "
            f"{self.env_var}=<venv>/bin/python"
        )


BFCL_ENGINE = _BFCLEngine(
    name="bfcl",
    module="bfcl_eval",
    distribution="bfcl-eval",
    pin="2025.10.27.1",
    plugin_package="evalscope-native",
)


def find_bfcl() -> EngineInstall:
    """The `bfcl` engine's interpreter; `MissingDependencyError` with the install command otherwise."""
    return find_engine(BFCL_ENGINE)


class BFCLEnvironments:
    """A running `bfcl_driver.py`: `request(op, **fields)` sends one line and returns its answer."""

    def __init__(self, python: Path) -> None:
        self._python = python
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(self._python), "-u", str(_DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        weakref.finalize(self, _stop, proc)
        return proc

    def request(self, op: str, **fields: Any) -> Any:
        line = json.dumps({"op": op, **fields}, ensure_ascii=False) + "\n"
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
                answer = self._proc.stdout.readline()
            except (BrokenPipeError, OSError) as exc:
                answer = ""
                detail = str(exc)
            else:
                detail = f"exit code {self._proc.poll()}"
            if not answer:
                self._proc = None
                raise EvalScopeError(f"BFCL's environment driver ({self._python}) stopped: {detail}")
        reply = json.loads(answer)
        if "error" in reply:
            raise EvalScopeError(f"BFCL's environment driver failed on {op!r}: {reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                _stop(self._proc)
                self._proc = None


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        try:
            assert proc.stdin is not None
            proc.stdin.close()  # the driver ends at end of input
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
