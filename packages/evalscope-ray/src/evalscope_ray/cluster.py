"""Reaching the Ray cluster: fail in seconds, naming the address tried, never hang.

`ray.init` on an address where nothing listens retries for a long time; a TCP connect with a
timeout first turns a typo or a stopped cluster into exit code 2 at once. `auto` means a cluster
already started on this machine (`ray start --head`): Ray notes its address in
`/tmp/ray/ray_current_cluster`, or the user exported RAY_ADDRESS.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

from evalscope.errors import ServiceUnreachableError

__all__ = ["connect", "env_for_workers", "split_address"]

log = logging.getLogger("evalscope.ray")

_CURRENT_CLUSTER = Path("/tmp/ray/ray_current_cluster")
HINT = (
    "start a cluster (`ray start --head` here, `ray up cluster.yaml` or KubeRay elsewhere) and pass its "
    "address: --ray-address auto | host:6379 | ray://host:10001"
)


def split_address(address: str) -> tuple[str, int]:
    """host and port of `host:port` or `ray://host:port` (Ray Client's default port is 10001)."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rpartition(":")
    if not host:
        return rest, 10001 if address.startswith("ray://") else 6379
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ServiceUnreachableError(f"Ray address {address!r} has no valid port.", hint=HINT) from None


def _resolve_auto() -> str:
    env = os.environ.get("RAY_ADDRESS")
    if env and env != "auto":
        return env
    if _CURRENT_CLUSTER.is_file():
        text = _CURRENT_CLUSTER.read_text().strip()
        if text:
            return text
    raise ServiceUnreachableError(
        "No Ray cluster is running on this machine (tried --ray-address auto: RAY_ADDRESS is unset and "
        f"{_CURRENT_CLUSTER} does not exist).",
        hint=HINT,
    )


def _probe(address: str, timeout: float) -> None:
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ServiceUnreachableError(
            f"Ray is not reachable at {address} ({host}:{port}: {reason} after at most {timeout:g} s).",
            hint=HINT,
        ) from None


def connect(address: str | None, timeout: float) -> Any:
    """Connect this process to the cluster (reusing a connection already made); returns the `ray` module."""
    import ray

    if ray.is_initialized():
        return ray
    target = address
    if address == "auto":
        target = _resolve_auto()
    elif address is None and os.environ.get("RAY_ADDRESS"):
        target = address = _resolve_auto()
    if target is not None and target != "local":
        _probe(target, timeout)
    errors: list[BaseException] = []

    def init() -> None:
        try:
            ray.init(
                address=None if target in (None, "local") else target,
                namespace="evalscope",
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        except BaseException as exc:  # surfaced on the caller's thread
            errors.append(exc)

    # `ray.init` can still wait long on something that answers TCP but is not Ray: bound it.
    thread = threading.Thread(target=init, name="evalscope-ray-init", daemon=True)
    thread.start()
    thread.join(timeout + 50.0)
    if thread.is_alive() or errors:
        why = f"{type(errors[0]).__name__}: {errors[0]}" if errors else f"no answer after {timeout + 50:g} s"
        raise ServiceUnreachableError(
            f"Could not join the Ray cluster at {address or 'a new local instance'} ({why}).", hint=HINT
        )
    log.info("connected to Ray: %s", ray.get_runtime_context().gcs_address)
    return ray


def env_for_workers() -> dict[str, str]:
    """The environment a worker needs to see what the driver sees (data folders, hub settings)."""
    keep = ("EVALSCOPE_", "HF_", "MODELSCOPE_", "TRANSFORMERS_OFFLINE")
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}
