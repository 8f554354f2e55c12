"""Whether the environment routes a URL through an HTTP proxy (`HTTP(S)_PROXY`, `NO_PROXY`).

Why: the raw client speaks to the host directly; a caller uses it only when no proxy applies and
falls back to aiohttp (which honours the proxy variables) otherwise, so a user behind a corporate
proxy gets the same answers without a flag.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

__all__ = ["proxy_for"]


def proxy_for(url: str) -> str | None:
    """The proxy URL the environment names for `url`, or None (none set, or the host is in NO_PROXY)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    host = parts.hostname or ""
    if urllib.request.proxy_bypass(parts.netloc.rsplit("@", 1)[-1]) or urllib.request.proxy_bypass(host):
        return None
    return proxy
