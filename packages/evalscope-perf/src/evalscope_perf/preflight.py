"""Before the load: is the service there, and does it accept our request?

An unreachable URL must fail in seconds with a message that names the fix, not after thousands of
requests have each waited for their timeout. So: one TCP (and TLS) connect bounded by
`--connect-timeout`, then, unless `--no-test-connection`, one real request (a short generation)
whose 4xx answer (wrong model name, wrong path, bad key) stops the run with the server's message.
Messages show the URL with its credentials masked, and the server's message as `record.finalize`
masked it (a 401 often quotes the key it was sent); `--debug` output is masked the same way.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from urllib.parse import urlsplit

from evalscope.errors import ServiceUnreachableError
from evalscope.http.exchange import Exchange
from evalscope.secrets import redact_message, redact_url

from evalscope_perf.prepare import Prepared
from evalscope_perf.record import finalize
from evalscope_perf.runner import make_client, run_async

__all__ = ["ServiceUnreachableError", "preflight"]

_RETRYABLE = (0, 429, 500, 502, 503, 504)


def preflight(prep: Prepared) -> None:
    run_async(_check(prep))


async def _check(prep: Prepared) -> None:
    cfg = prep.cfg
    url = redact_url(cfg.url)
    parts = urlsplit(cfg.url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    hint = "is the model server running and listening there? Check --url (and --connect-timeout)."
    ctx = ssl.create_default_context() if parts.scheme == "https" else None
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname=host if ctx else None),
            cfg.connect_timeout,
        )
        writer.close()
    except socket.gaierror as exc:
        raise ServiceUnreachableError(
            f"--url {url}: cannot resolve host {host!r} ({exc.strerror}).", hint
        ) from None
    except asyncio.TimeoutError:
        raise ServiceUnreachableError(
            f"--url {url}: no answer from {host}:{port} within --connect-timeout {cfg.connect_timeout}s.",
            hint,
        ) from None
    except ssl.SSLError as exc:
        raise ServiceUnreachableError(f"--url {url}: TLS handshake failed: {exc}.", hint) from None
    except OSError as exc:
        raise ServiceUnreachableError(
            f"--url {url}: cannot connect to {host}:{port}: {exc.strerror or exc}.", hint
        ) from None
    if cfg.no_test_connection:
        return
    body = prep.api.build_body(prep.prompts[0])
    if "max_tokens" in body:  # a short answer is enough to prove the request is accepted
        body["max_tokens"] = max(4, int(body.get("min_tokens") or 0))
    client = make_client(*cfg.client_args())
    try:
        for attempt in range(3):
            ex = await client.request(json.dumps(body).encode(), "evalscope-perf-test-connection")
            rec = finalize(ex, prep.api, 0, 0, True)
            if cfg.debug:
                _show(url, body, ex)
            if rec.success:
                return
            if ex.status not in _RETRYABLE or attempt == 2:
                raise ServiceUnreachableError(
                    f"the test request to {url} failed: {rec.error}",
                    "check --model, --api and --url (and --api-key); --no-test-connection skips this check",
                )
            await asyncio.sleep(0.5 * (attempt + 1))
    finally:
        await client.aclose()


def _show(url: str, body: dict[str, object], ex: Exchange) -> None:
    """--debug: the test request and what came back, to check the format before the load.

    Every line is masked before it is cut: the raw reply may quote the credential we sent.
    """
    import sys

    def say(text: str, limit: int) -> None:
        print(redact_message(text)[:limit], file=sys.stderr)

    say(f"[debug] POST {url}", 2000)
    say(f"[debug] body: {json.dumps(body, ensure_ascii=False)}", 2000)
    say(f"[debug] status {ex.status} {ex.content_type} error={ex.error}", 2000)
    for t, event in ex.events[:8]:
        say(f"[debug] +{(t - ex.t_start) * 1000:8.2f} ms {event.decode(errors='replace')}", 330)
    if ex.body:
        say(f"[debug] body: {ex.body.decode(errors='replace')}", 1015)
