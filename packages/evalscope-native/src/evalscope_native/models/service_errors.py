"""Name a failed request for what it is: refused, DNS, TLS, timeout, HTTP status, not JSON, no answer.

Why: the SDK reports a refused connection, an unknown host and a TLS mismatch alike as
"APITimeoutError: Request timed out." (its aiohttp transport maps every connect failure to a connect
timeout), and a web page or a truncated body as a bare `JSONDecodeError` without a URL. A user cannot
fix what the message does not name, and the engine's circuit breaker (`engine/breaker.py`) needs a
stable `kind` to tell one outage repeating from unrelated failures. Every message passes
`secrets.redact_message`: servers echo the `Authorization` header in their errors.
"""

from __future__ import annotations

import json
import socket
import ssl
from urllib.parse import urlsplit

from evalscope.contracts import ModelError, RetryableModelError
from evalscope.secrets import redact_message, redact_url

__all__ = [
    "classify_transport_error",
    "decode_json_body",
    "endpoint",
    "http_status_error",
    "transport_failure",
]


def endpoint(base_url: str, path: str) -> str:
    """`http://host:port/v1/chat/completions`, query and credentials removed (for messages)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return redact_url(f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}{path}")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _type_names(exc: BaseException) -> set[str]:
    return {t.__name__ for t in type(exc).__mro__}


def classify_transport_error(exc: BaseException, url: str, timeout: float | None) -> RetryableModelError:
    """A connection-level failure (no HTTP status) as a retryable error with a kind and a plain message."""
    chain = _chain(exc)
    names = set().union(*(_type_names(e) for e in chain))
    kind = "connection"
    if any(isinstance(e, socket.gaierror) for e in chain) or "ClientConnectorDNSError" in names:
        kind = "dns"
    elif any(isinstance(e, ConnectionRefusedError) for e in chain):
        kind = "refused"
    elif any(isinstance(e, (ssl.SSLError, ssl.CertificateError)) for e in chain) or names & {
        "ClientSSLError",
        "ClientConnectorCertificateError",
        "ClientConnectorSSLError",
    }:
        kind = "tls"
    elif names & {"ConnectTimeout", "ConnectionTimeoutError", "ServerTimeoutError"} and not names & {
        "ReadTimeout"
    }:
        kind = "connect_timeout"
    elif names & {"ServerDisconnectedError", "RemoteProtocolError"} or any(
        isinstance(e, (ConnectionResetError, BrokenPipeError)) for e in chain
    ):
        kind = "disconnected"
    elif names & {"ReadTimeout", "APITimeoutError", "TimeoutError"}:
        kind = "timeout"
    return _failure(kind, url, timeout, chain, _innermost(chain))


def transport_failure(
    failure: str, url: str, timeout: float | None, cause: BaseException | None, detail: str
) -> RetryableModelError:
    """A failure `evalscope.http` reported (`Exchange.failure`), named as `classify_transport_error` does."""
    if cause is not None and failure in ("connect", "disconnected"):
        classified = classify_transport_error(cause, url, timeout)
        if classified.kind != "connection" or failure == "connect":
            return classified
    kind = {"read_timeout": "timeout", "total_timeout": "timeout", "connect": "connection"}.get(
        failure, failure
    )
    return _failure(kind, url, timeout, [], detail)


def _failure(
    kind: str, url: str, timeout: float | None, chain: list[BaseException], detail: str
) -> RetryableModelError:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    message = {
        "dns": f"cannot resolve host {host!r} (DNS lookup failed) for {url}; check the host in --api-url",
        "refused": f"connection refused by {where}: nothing is listening there ({url}); "
        "is the model server running, and on this port?",
        "tls": f"TLS handshake with {where} failed ({_ssl_reason(chain) or detail}) for {url}; "
        "an http:// server addressed as https://, or a certificate this machine does not trust?",
        "connect_timeout": f"no connection to {where} within the connect timeout ({url}): a wrong address, "
        "a firewall, or an http:// server addressed as https://",
        "disconnected": f"{where} closed the connection without a complete answer ({url})",
        "timeout": f"no answer from {url} within {timeout:g}s (--timeout)" if timeout else f"{url} timed out",
    }.get(kind, f"cannot talk to {url}: {detail}")
    return RetryableModelError(redact_message(message), kind=kind)


def _ssl_reason(chain: list[BaseException]) -> str:
    return next((str(e) for e in chain if isinstance(e, (ssl.SSLError, ssl.CertificateError))), "")


def http_status_error(
    status: int, message: str, url: str, retry_after: float | None
) -> ModelError | RetryableModelError:
    """An HTTP error status: 429, 5xx, 408/409 are retried; the rest (auth, not found, bad request) are not."""
    hint = {
        401: " (check --api-key, or OPENAI_API_KEY)",
        403: " (the key is not allowed to use this model)",
        404: " (check --api-url: it should end in the API's base such as /v1; and --model)",
    }.get(status, "")
    text = redact_message(f"HTTP {status} from {url}: {message}{hint}")
    if status == 429 or status >= 500 or status in (408, 409):
        return RetryableModelError(text, retry_after=retry_after, kind=f"http_{status}")
    return ModelError(text, kind=f"http_{status}")


def decode_json_body(raw: bytes, url: str) -> dict[str, object]:
    """Parse a 2xx body; a web page is named as such (not retried), a cut-off body is retried."""
    head = raw.lstrip()[:1]
    if head not in (b"{", b"["):
        snippet = raw[:120].decode("utf-8", errors="replace").replace("\n", " ")
        what = "an HTML page" if head == b"<" else "a body that is not JSON"
        raise ModelError(
            redact_message(
                f"{url} answered with {what}, not the OpenAI API's JSON: {snippet!r}; is --api-url the API's "
                "base URL (for vLLM and most services it ends in /v1)?"
            ),
            kind="not_json",
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RetryableModelError(
            redact_message(f"{url} sent invalid JSON ({len(raw)} bytes, cut off or malformed): {exc}"),
            kind="bad_json",
        ) from None
    if not isinstance(data, dict):
        raise ModelError(f"{url} answered with a JSON {type(data).__name__}, not an object", kind="not_json")
    return data


def _innermost(chain: list[BaseException]) -> str:
    for e in reversed(chain):
        text = str(e)
        if text:
            return f"{type(e).__name__}: {text}"
    return type(chain[-1]).__name__ if chain else "unknown error"
