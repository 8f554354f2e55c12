"""`--api local` / `--api local_vllm`: start a server for the checkpoint `--model` names, benchmark it, stop it.

EvalScope 1.x's options, with what it leaves to chance made definite:

* `local`: this package's transformers server (`python -m evalscope_perf.local_hf_server`: one
  request generates at a time, tokens streamed as they come); `local_vllm`: vLLM's OpenAI server,
  `python -m vllm.entrypoints.openai.api_server` with EvalScope's flags (every visible GPU as tensor
  parallel, `--gpu-memory-utilization 0.9`, `--max-model-len` 32768 or the model's own if smaller,
  `--trust-remote-code`, `--disable-log-stats`), served under the `--model` name.
* `--model` is a checkpoint folder or a hub id, found the way every local model is
  (`evalscope.checkpoints.resolve_checkpoint`: the HF and ModelScope caches, else downloaded from
  `--data-source`'s hub), before anything starts.
* The server listens on 127.0.0.1 (not every interface) at `--port` (8877, EvalScope's; 0: a free
  one); a port already in use fails at once and says so.
* Ready = `GET /v1/models` answers 200, within `--local-server-timeout` seconds; a server that
  exits first, or never answers, fails the command with the end of its log.
* It is always stopped: on return, error, Ctrl-C and SIGTERM (its whole process group: vLLM's
  workers too), and on Linux it gets SIGTERM if this process dies without cleaning up. Its log is
  kept as `local_server.log` in the run's folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalscope.errors import EvalScopeError, MissingDependencyError, UsageError

from evalscope_perf.config import LOCAL_APIS, PerfConfig

__all__ = ["LOCAL_APIS", "LocalServer", "LocalServerError", "local_server", "server_command"]

_HOST = "127.0.0.1"
_MAX_MODEL_LEN = 32768  # EvalScope's cap: a 128k-context model's full KV cache rarely fits
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


class LocalServerError(EvalScopeError):
    """The local model server did not start, or died before answering."""


def _require(api: str) -> None:
    """The packages the server needs, named with the install command when one is missing."""
    needed = ("vllm",) if api == "local_vllm" else ("torch", "transformers")
    for name in needed:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            continue
        if api == "local_vllm":
            raise MissingDependencyError(
                "--api local_vllm starts vLLM's OpenAI server (python -m vllm.entrypoints.openai.api_server), "
                "and vllm is not installed in this environment.",
                hint="pip install vllm  (Linux with a CUDA GPU); or --api local for a transformers server",
            )
        raise MissingDependencyError(
            f"--api local serves the checkpoint with transformers, and {name} is not installed.",
            hint="pip install torch transformers  (or run the checkpoint behind vLLM: --api local_vllm)",
        )


def _gpu_count() -> int:
    """GPUs vLLM may use: CUDA_VISIBLE_DEVICES when set (no CUDA call here), else torch's count."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return max(1, len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"]))
    try:
        import torch

        return max(1, int(torch.cuda.device_count()))
    except ImportError:
        return 1


def _max_model_len(folder: str) -> int:
    try:
        config = json.loads(Path(folder, "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _MAX_MODEL_LEN
    own = config.get("max_position_embeddings") or (config.get("text_config") or {}).get(
        "max_position_embeddings"
    )
    return min(_MAX_MODEL_LEN, int(own)) if isinstance(own, int) and own > 0 else _MAX_MODEL_LEN


def server_command(cfg: PerfConfig, folder: str, port: int) -> list[str]:
    """The command line that serves checkpoint `folder` on `port` for `cfg.api`."""
    if cfg.api == "local_vllm":
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", folder, "--served-model-name", str(cfg.model),
            "--tensor-parallel-size", str(_gpu_count()),
            "--max-model-len", str(_max_model_len(folder)),
            "--gpu-memory-utilization", "0.9",
            "--host", _HOST, "--port", str(port),
            "--trust-remote-code", "--disable-log-stats",
        ]  # fmt: skip
    command = [
        sys.executable, "-m", "evalscope_perf.local_hf_server",
        "--model", folder, "--served-model-name", str(cfg.model), "--host", _HOST, "--port", str(port),
    ]  # fmt: skip
    if cfg.attn_implementation:
        command += ["--attn-implementation", cfg.attn_implementation]
    return command


def _free_port(port: int) -> int:
    """`port` if nothing listens there (0: any free port); a port in use fails with the fix."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind it
        try:
            sock.bind((_HOST, port))
        except OSError as exc:
            raise UsageError(
                f"--port {port} is in use on {_HOST} ({exc.strerror}): the local server cannot listen there.",
                hint="pass another --port (0 picks a free one), or stop what listens there",
            ) from None
        bound: int = sock.getsockname()[1]
        return bound


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the server if `evalscope perf` dies without stopping it (SIGKILL, a crash)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LocalServer:
    """One server process for `cfg` (`cfg.api` in LOCAL_APIS): `start()`, then `url`, then `stop()`."""

    def __init__(self, cfg: PerfConfig) -> None:
        self.cfg = cfg
        self.port = cfg.port
        self.proc: subprocess.Popen[bytes] | None = None
        self.command: list[str] = []
        self._log_dir = tempfile.mkdtemp(prefix="evalscope-perf-server-")
        self.log_path = Path(self._log_dir, "local_server.log")
        self._failed = False  # a server that failed to start keeps its log (the error names it)

    @property
    def base_url(self) -> str:
        return f"http://{_HOST}:{self.port}/v1"

    @property
    def url(self) -> str:
        """The chat completions endpoint the benchmark sends to."""
        return f"{self.base_url}/chat/completions"

    def start(self) -> LocalServer:
        from evalscope.checkpoints import resolve_checkpoint

        cfg = self.cfg
        _require(cfg.api)
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        ckpt = resolve_checkpoint(str(cfg.model), None, offline, cfg.data_source, option="--model")
        self.port = _free_port(cfg.port)
        self.command = server_command(cfg, ckpt.location, self.port)
        env = dict(os.environ)
        if cfg.api == "local_vllm":  # EvalScope's: workers spawned, not forked after CUDA started
            env.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
        print(f"Starting the local server ({cfg.api}): {' '.join(self.command)}", file=sys.stderr, flush=True)
        with open(self.log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it in order
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        proc, timeout = self.proc, self.cfg.local_server_timeout
        assert proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with _OPENER.open(f"{self.base_url}/models", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass  # not listening yet (or still loading the weights)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.5)  # the pause between polls, cut short if the server exits
                self._failed = True  # its log stays where the hint says
                raise LocalServerError(
                    f"the local server ({self.cfg.api}) exited with code {code} before answering. "
                    f"The end of its log:\n{self.log_tail()}",
                    hint=f"the whole log: {self.log_path}; the command: {' '.join(self.command)}",
                )
        self.stop()
        self._failed = True
        raise LocalServerError(
            f"the local server ({self.cfg.api}) did not answer GET {self.base_url}/models within "
            f"--local-server-timeout {timeout:g}s. The end of its log:\n{self.log_tail()}",
            hint=f"a large checkpoint may need a longer --local-server-timeout; the whole log: {self.log_path}",
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM its process group, SIGKILL what is left after `grace_s`; waits until it is gone."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 30.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # workers the server left behind in its group

    def keep_log(self, folder: Path) -> Path | None:
        """Copy the server's log into the run's folder (the temporary one goes with `close`)."""
        if not self.log_path.is_file() or not folder.is_dir():
            return None
        target = folder / "local_server.log"
        target.write_bytes(self.log_path.read_bytes())
        return target

    def close(self) -> None:
        self.stop()
        if not self._failed:
            shutil.rmtree(self._log_dir, ignore_errors=True)


@contextlib.contextmanager
def local_server(cfg: PerfConfig) -> Iterator[LocalServer]:
    """The started server; stopped when the block ends, however it ends (SIGTERM included)."""
    server = LocalServer(cfg)
    restore: Any = None
    if threading.current_thread() is threading.main_thread():

        def on_sigterm(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)  # unwinds through the `finally` below

        restore = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield server.start()
    finally:
        server.close()
        if restore is not None:
            signal.signal(signal.SIGTERM, restore)
