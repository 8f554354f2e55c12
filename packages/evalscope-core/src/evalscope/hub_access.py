"""Is the model/dataset hub reachable? One quick TCP probe before the first download.

Without network, `datasets`, `huggingface_hub` and `transformers` each retry for tens of seconds
before giving up, and their final error does not say what to do instead. So every code path that is
about to download (native's dataset hub loader, `evalscope.checkpoints`, evalscope-rag's models and
mteb data) first calls `require_hub`: it opens a TCP connection to the hub's host — or to the proxy
the libraries would use — bounded by `PROBE_TIMEOUT` seconds (name lookup included), and on failure
raises `HubUnreachableError` naming what was tried, that the network is unreachable, and the fix.

* The endpoint is the one the libraries use: `HF_ENDPOINT` (default https://huggingface.co) for the
  Hugging Face hub, `MODELSCOPE_DOMAIN` (default www.modelscope.cn, https) for ModelScope.
* Proxies come from the environment, as `requests`/`httpx` read them: `HTTPS_PROXY` / `HTTP_PROXY` /
  `ALL_PROXY` (any case), unless `NO_PROXY` lists the host. The proxy is dialled instead of the hub.
* Results are cached per process and per (host, port): a run with 50 subsets probes once.
* `EVALSCOPE_HUB_PROBE=0` skips the probe, for networks where a plain TCP connect is not how the
  hub is reached; `--offline` / `HF_HUB_OFFLINE=1` never gets here (nothing is downloaded at all).

A reachable host says nothing about a dataset's name or access rights: those errors still come
from the hub libraries. Only the standard library is imported here.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from evalscope.errors import UsageError

__all__ = [
    "PROBE_TIMEOUT",
    "HubProbe",
    "HubUnreachableError",
    "clear_probe_cache",
    "hub_endpoint",
    "probe_hub",
    "require_hub",
]

PROBE_TIMEOUT = 3.0  # seconds for name lookup + connect; a reachable hub answers in well under one
HUB_LABELS = {"huggingface": "the Hugging Face hub", "modelscope": "ModelScope"}
_DEFAULT_PORTS = {"https": 443, "http": 80, "socks5": 1080, "socks5h": 1080, "socks4": 1080}
_FALSE = ("0", "false", "no", "off")


class HubUnreachableError(UsageError):
    """A download was needed but the hub (or the proxy to it) does not accept connections (exit code 2)."""


@dataclass(frozen=True)
class HubProbe:
    """What one probe dialled and what came of it (`error` is None when the connection was accepted)."""

    hub: str  # "huggingface" | "modelscope"
    endpoint: str  # the hub's URL, as the libraries use it
    host: str  # what was dialled: the hub's host, or the proxy's
    port: int
    proxy: str | None  # the proxy URL from the environment, when the hub is reached through one
    error: str | None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        via = f" through the proxy {self.proxy}" if self.proxy else ""
        return f"{self.endpoint}{via} (TCP connect to {self.host}:{self.port})"


def hub_endpoint(hub: str) -> str:
    """The base URL the hub libraries talk to, from the same environment variables they read."""
    if hub == "modelscope":
        domain = os.environ.get("MODELSCOPE_DOMAIN", "").strip() or "www.modelscope.cn"
        return (domain if "://" in domain else f"https://{domain}").rstrip("/")
    endpoint = os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"
    return (endpoint if "://" in endpoint else f"https://{endpoint}").rstrip("/")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # a malformed port (the libraries fail on it too): probe the scheme's default
        port = None
    return host, port or _DEFAULT_PORTS.get(parts.scheme.lower(), 443)


def _proxy_for(url: str) -> str | None:
    """The proxy `requests`/`httpx` would use for `url`, from the environment (None: direct)."""
    import urllib.request  # http.client + ssl: only when a probe is made, not when a plugin imports us

    proxies = urllib.request.getproxies_environment()
    host = urlsplit(url).hostname or ""
    if not proxies or urllib.request.proxy_bypass(host):  # NO_PROXY, checked as `requests` checks it
        return None
    scheme = urlsplit(url).scheme.lower()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


_cache: dict[tuple[str, int], str | None] = {}
_cache_lock = threading.Lock()


def _connect(host: str, port: int, timeout: float) -> str | None:
    """None when `host:port` accepts a TCP connection within `timeout` seconds, else why not.

    The name lookup runs in a daemon thread: `getaddrinfo` has no timeout of its own, and a resolver
    that never answers must not hold the run longer than the connect would.
    """
    if not host:
        return "no host name in the endpoint URL"
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except socket.gaierror as exc:
            outcome.append(f"the name {host!r} does not resolve ({exc.strerror or exc})")
        except TimeoutError:
            outcome.append(f"no answer within {timeout:g} s")
        except OSError as exc:
            outcome.append(exc.strerror or str(exc) or type(exc).__name__)

    worker = threading.Thread(target=attempt, name="evalscope-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g} s"
    return outcome[0]


def probe_hub(hub: str, timeout: float = PROBE_TIMEOUT) -> HubProbe:
    """Dial `hub`'s endpoint (or its proxy) once per process; the result is cached per (host, port)."""
    endpoint = hub_endpoint(hub)
    proxy = _proxy_for(endpoint)
    host, port = _host_port(proxy or endpoint)
    with _cache_lock:
        known = (host, port) in _cache
        error = _cache.get((host, port))
    if not known:
        error = _connect(host, port, timeout)
        with _cache_lock:
            _cache[(host, port)] = error
    return HubProbe(hub, endpoint, host, port, proxy, error)


def clear_probe_cache() -> None:
    """Forget earlier probes (a long-lived process whose network has come back)."""
    with _cache_lock:
        _cache.clear()


def require_hub(hub: str, what: str, fix: str, looked: Sequence[str] = ()) -> None:
    """Return when `hub` is reachable (or the probe is switched off); else raise `HubUnreachableError`.

    `what` says what needed the hub ("download dataset 'openai/gsm8k'"), `fix` how to do without it
    (a local folder, a cache), `looked` the local places already searched; the hint adds `--offline`.
    Call it right before the first hub call.
    """
    if os.environ.get("EVALSCOPE_HUB_PROBE", "").strip().lower() in _FALSE:
        return
    probe = probe_hub(hub)
    if probe.reachable:
        return
    label = HUB_LABELS.get(hub, hub)
    message = (
        f"Cannot {what}: the network is unreachable. Tried {label} at {probe.describe()}: {probe.error}."
    )
    if looked:
        message += "\nNot found locally either; looked in:\n" + "\n".join(f"  - {p}" for p in looked)
    raise HubUnreachableError(
        message,
        hint=f"{fix}; and run with --offline (or HF_HUB_OFFLINE=1) so that the hub is never tried "
        "(EVALSCOPE_HUB_PROBE=0 skips this check where the hub is reachable in a way it cannot see).",
    )
