"""Where perf's secrets live, so that `evalscope.secrets` can keep them out of everything perf writes.

Why a module of its own: the core knows *how* to mask (known values with `redact`, credential shapes
with `redact_message`); only perf knows *where* its secrets hide: `--api-key`, auth-like `--headers`
(`X-Api-Key`, `X-Auth-Token`, ...), the `user:pass@` and `?key=` of `--url`, and secret-named keys
inside `--extra-args`. A server that rejects a request often quotes the header it received
(`401: Incorrect API key provided: Bearer sk-...`), and that text reaches the SQLite rows, the
summaries and the terminal; so every perf run registers these values first (`PerfConfig.secrets`).
`--workers` processes are fresh interpreters with an empty registry: they register the parent's
values again (`workers.WorkerJob.secrets`) before they turn a reply into an error text.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["header_secrets", "is_secret_header"]

#: A header whose lower-cased name contains one of these carries a credential.
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "password", "cookie", "signature")


def is_secret_header(name: str) -> bool:
    """True for `Authorization`, `X-Api-Key`, `X-Auth-Token`, `Cookie`, ... (case-insensitive)."""
    from evalscope.secrets import SECRET_KEY_NAMES

    low = name.lower()
    return low in SECRET_KEY_NAMES or any(word in low for word in _SECRET_HEADER_WORDS)


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """Values of auth-like headers, plus the credential after a scheme (`Bearer x` also gives `x`)."""
    found: list[str] = []
    for name, value in headers.items():
        if not value or not is_secret_header(name):
            continue
        found.append(value)
        _, space, credential = value.strip().partition(" ")
        if space and credential.strip():
            found.append(credential.strip())
    return found
