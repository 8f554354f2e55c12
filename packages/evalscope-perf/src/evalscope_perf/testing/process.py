"""Run the fake model server in a subprocess: `with FakeServer({"ttft": 0.05}) as srv: srv.base_url`.

A subprocess, not a thread, so the server's event loop and GIL never slow down the client being
measured, exactly as with a real model service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["FakeServer"]


class FakeServer:
    """Start `python -m evalscope_perf.testing.server` on 127.0.0.1 with a free port."""

    def __init__(self, config: dict[str, Any] | None = None, *, startup_timeout_s: float = 30.0) -> None:
        self.config = dict(config or {})
        self.startup_timeout_s = startup_timeout_s
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        # Loopback must never go through an HTTP proxy configured in the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> FakeServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-model-")
        stderr_path = Path(self._tmp.name, "stderr.log")
        env = dict(os.environ)
        src_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "evalscope_perf.testing.server", "--port", "0"]
        cmd += ["--config", json.dumps(self.config)]
        with open(stderr_path, "wb") as stderr:  # a file, not a pipe: a full pipe would block the server
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env)
        lines: list[bytes] = []
        got = threading.Event()
        stdout = self._proc.stdout
        assert stdout is not None

        def drain() -> None:
            for line in iter(stdout.readline, b""):
                lines.append(line)
                got.set()
            got.set()

        threading.Thread(target=drain, daemon=True).start()
        got.wait(self.startup_timeout_s)
        first = lines[0].decode(errors="replace").strip() if lines else ""
        if not first.startswith("LISTENING "):
            code = self._proc.poll()
            self._stop()
            err = stderr_path.read_text(encoding="utf-8", errors="replace")
            self._cleanup()
            raise RuntimeError(f"fake model server did not start (exit code {code}): {first!r}\n{err}")
        self.port = int(first.rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        self._cleanup()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.url + path, method=method, data=data)
        with self._opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        """Counters (requests, ok, 429, 500, drop, streams) and, if recorded, per-request timings."""
        result: dict[str, Any] = self._call("GET", "/stats")
        return result

    def reset(self) -> None:
        self._call("POST", "/stats/reset")

    def configure(self, **settings: Any) -> None:
        """Replace the fake model's settings (keys of `FakeModelConfig`) and zero the counters."""
        self.config = settings
        self._call("POST", "/config", settings)
        self.reset()
