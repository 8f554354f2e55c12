"""Run the scripted server for a test: in a subprocess (`ScriptedServer`) or on a thread (`InProcessServer`).

A subprocess keeps the server's event loop and GIL away from the code being measured, as with a real
model service, and proves the CLI works: the default for tests and benchmarks. A thread is for
Python responders (a judge that records what it was asked, a sentence-transformers model), which
cannot cross a process boundary. Both are context managers with the same URLs and testing calls.

    python -m evalscope.testing --config '{"ttft": 0.05, "tokens": 64}' --port 8877

prints one `LISTENING http://host:port` line and serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from evalscope.testing.app import ScriptedApp
from evalscope.testing.config import ServerConfig
from evalscope.testing.connection import loop_factory, serve
from evalscope.testing.responders import ChatResponder, EmbedFn, RerankFn

__all__ = ["InProcessServer", "ScriptedServer", "main"]

# Loopback must never go through an HTTP proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _config(config: Mapping[str, Any] | ServerConfig | None) -> ServerConfig:
    if isinstance(config, ServerConfig):
        return config
    return ServerConfig.from_dict(config or {})


class _Served:
    """URLs and the testing routes, over HTTP, whichever way the server runs."""

    host = "127.0.0.1"
    port = 0
    config: ServerConfig
    _base_config: dict[str, Any]  # what the server was started with: `configure` starts from it

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client takes as its API base: `http://127.0.0.1:<port>/v1`."""
        return f"{self.url}/v1"

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.url + path, method=method, data=data)
        with _OPENER.open(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        """The counters and clocks of `GET /stats` (see `evalscope.testing.app`)."""
        result: dict[str, Any] = self._call("GET", "/stats")
        return result

    def reset_stats(self, *, attempts: bool = False) -> None:
        """Zero the counters; with `attempts=True` also forget which faulted keys already failed."""
        self._call("POST", "/stats/reset?attempts=1" if attempts else "/stats/reset")

    def configure(self, **settings: Any) -> None:
        """Serve the config this server was started with, updated by `settings`; counters start again."""
        config = ServerConfig.from_dict({**self._base_config, **settings})  # a typo fails here, in the test
        self._call("POST", "/config", config.to_dict())
        self.config = config


class ScriptedServer(_Served):
    """`with ScriptedServer({"entries": [...]}) as srv: srv.base_url` -- the server in a subprocess."""

    def __init__(
        self, config: Mapping[str, Any] | ServerConfig | None = None, *, startup_timeout_s: float = 30.0
    ) -> None:
        self.config = _config(config)
        self._base_config = self.config.to_dict()
        self.startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ScriptedServer:
        self._tmpdir = tempfile.TemporaryDirectory(prefix="scripted-server-")
        cfg_path = Path(self._tmpdir.name, "config.json")
        cfg_path.write_text(json.dumps(self.config.to_dict()), encoding="utf-8")
        stderr_path = Path(self._tmpdir.name, "stderr.log")
        env = dict(os.environ)
        src_root = str(Path(__file__).resolve().parents[2])  # importable even when not pip-installed
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH")) if p)
        cmd = [
            sys.executable,
            "-m",
            "evalscope.testing",
            "--config",
            str(cfg_path),
            "--host",
            self.host,
            "--port",
            "0",
        ]
        with open(stderr_path, "wb") as stderr:  # a file, not a pipe: a full pipe would block the server
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env)
        first_line: list[bytes] = []
        got_line = threading.Event()
        stdout = self._proc.stdout
        assert stdout is not None

        def drain() -> None:  # keep reading so stray output can never block the child
            for i, line in enumerate(iter(stdout.readline, b"")):
                if i == 0:
                    first_line.append(line)
                    got_line.set()
            got_line.set()

        threading.Thread(target=drain, daemon=True).start()
        got_line.wait(self.startup_timeout_s)
        line = first_line[0].decode(errors="replace").strip() if first_line else ""
        if not line.startswith("LISTENING "):
            code = self._proc.poll()
            self._terminate()  # the child is gone before its stderr is read, so the log is complete
            err = stderr_path.read_text(encoding="utf-8", errors="replace")
            self._cleanup()
            why = f"exited with code {code}" if code is not None else f"timed out ({self.startup_timeout_s}s)"
            raise RuntimeError(
                f"scripted server never printed LISTENING: {why}; stdout: {line!r}; stderr:\n{err}"
            )
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        self._terminate()
        self._cleanup()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _terminate(self) -> None:
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
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


class InProcessServer(_Served):
    """`with InProcessServer(cfg, chat=fn) as srv: ...` -- the server on a daemon thread of this process.

    `chat(messages, body) -> str`, `embed(texts) -> vectors` and `rerank(query, documents) -> scores`
    run on worker threads (see `evalscope.testing.responders`); they override the config's
    `responders` for their route.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | ServerConfig | None = None,
        *,
        chat: ChatResponder | None = None,
        embed: EmbedFn | None = None,
        rerank: RerankFn | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = _config(config)
        self._base_config = self.config.to_dict()
        self.host, self._requested_port = host, port
        self._callables: dict[str, Callable[..., Any] | None] = {
            "chat": chat,
            "embed": embed,
            "rerank": rerank,
        }
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    def __enter__(self) -> InProcessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> InProcessServer:
        app = ScriptedApp(self.config, **self._callables)  # a bad responder factory fails here, in the test
        ready = threading.Event()
        failure: list[BaseException] = []

        def on_ready(port: int) -> None:
            self.port = port
            ready.set()

        async def run() -> None:
            self._stop_event = asyncio.Event()
            await serve(app, self.host, self._requested_port, stop=self._stop_event, on_ready=on_ready)

        def target() -> None:
            loop = self._loop = loop_factory()()
            try:
                loop.run_until_complete(run())
            except BaseException as exc:  # reported to start(), which raises it in the test
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=target, name="scripted-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure or not ready.is_set():
            self.stop()
            raise RuntimeError(f"the in-process scripted server did not start: {failure[:1] or 'timed out'}")
        return self

    def stop(self) -> None:
        loop, stop, thread = self._loop, self._stop_event, self._thread
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop already closed
                pass
        if thread is not None:
            thread.join(timeout=10)
        self._thread = self._loop = self._stop_event = None


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: print one `LISTENING http://host:port` line, serve until SIGTERM/SIGINT, exit 0."""
    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible server (a fake model).")
    parser.add_argument("--config", help="a JSON object, or a JSON file, of ServerConfig keys")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    raw = args.config or "{}"
    if not raw.lstrip().startswith("{"):
        raw = Path(raw).read_text(encoding="utf-8")
    app = ScriptedApp(ServerConfig.from_dict(json.loads(raw)))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows: default handlers remain
                pass

        def ready(port: int) -> None:
            print(f"LISTENING http://{args.host}:{port}", flush=True)

        await serve(app, args.host, args.port, stop=stop, on_ready=ready)

    loop = loop_factory()()
    try:
        loop.run_until_complete(run())
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
    return 0
