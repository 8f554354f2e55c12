"""One JSON POST to a model service (sync or async), with the failure classified for `retry.call_with_retry`.

Embedding and rerank services share the rule: a timeout, a dropped connection, HTTP 408/409/429 or
5xx, or a body that is not JSON are worth another attempt (`RetryableError`, honouring
`Retry-After`); any other 4xx fails at once through the caller's `refused` error, since repeating a
bad request — a wrong model name, a bad key — cannot help and the service's message says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from evalscope_rag.retry import RetryableError, parse_retry_after

RETRYABLE_STATUS = frozenset({408, 409, 429})


def make_client(api_key: str, timeout: float | None, concurrency: int) -> Any:
    """An `httpx.Client` with the bearer key, the run's timeout and room for `concurrency` requests."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(30.0, timeout or 30.0)),
        headers={"Authorization": f"Bearer {api_key}"},
        limits=httpx.Limits(max_connections=2 * max(1, concurrency)),
    )


def post_json(
    client: Any, url: str, body: dict[str, Any], *, timeout: float | None, refused: Callable[[str], Exception]
) -> Any:
    """POST `body`, return the decoded reply; raise `RetryableError` or `refused(<service's answer>)`."""
    import httpx

    try:
        resp = client.post(url, json=body)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise _transport_error(exc, timeout) from None
    return decode_reply(resp, refused)


async def apost_json(
    client: Any, url: str, body: dict[str, Any], *, timeout: float | None, refused: Callable[[str], Exception]
) -> Any:
    """`post_json` on an `httpx.AsyncClient`."""
    import httpx

    try:
        resp = await client.post(url, json=body)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise _transport_error(exc, timeout) from None
    return decode_reply(resp, refused)


def _transport_error(exc: Exception, timeout: float | None) -> RetryableError:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return RetryableError(f"no answer within {timeout}s ({type(exc).__name__})")
    return RetryableError(f"connection error: {type(exc).__name__}: {exc}")


def decode_reply(resp: Any, refused: Callable[[str], Exception]) -> Any:
    """An `httpx.Response` → its JSON, or the failure classified as in the module docstring."""
    if resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUS:
        raise RetryableError(
            f"HTTP {resp.status_code}: {resp.text[:200]}",
            retry_after=parse_retry_after(resp.headers.get("retry-after")),
        )
    if resp.status_code >= 400:
        raise refused(f"HTTP {resp.status_code}: {resp.text[:300]}")
    try:
        return resp.json()
    except json.JSONDecodeError as exc:
        raise RetryableError(f"malformed response (not JSON: {exc.msg})") from None
