"""The check before a run: is anything listening, does it speak the API, does it serve the model?

`GET <api-url>/models` first, with the standard library (no SDK import: a run whose answers all
come from the cache then opens no connection for its check). A refused connection, a
web page or a rejected key shows there in milliseconds; a listing that names the model settles it.
Otherwise one real request of a single token, through the model's own client, decides: a 400 is
inconclusive (some services refuse `max_tokens: 1`), while a 401/403/404, a web page or no
connection stops the run with exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from evalscope.config import GenerationConfig
from evalscope.contracts import ChatMessage, GenerateRequest, ModelError
from evalscope.errors import ServiceUnreachableError, closest

from evalscope_native.models.service_errors import (
    classify_transport_error,
    decode_json_body,
    endpoint,
    http_status_error,
)

__all__ = ["check_service"]

FIX = "check --api-url, --api-key and --model; --no-test-connection skips this check"


async def check_service(model: Any) -> None:
    """`model` is an `OpenAIModel`; raises `ServiceUnreachableError` saying what was tried and seen."""
    listed = await asyncio.to_thread(_listed_models, model)
    if listed is not None and model.model in listed:
        return
    probe = GenerateRequest(
        messages=[ChatMessage(role="user", content="Hi")], config=GenerationConfig(max_tokens=1)
    )
    wire = model._make_wire(min(model.timeout_s, 30.0), min(model.timeout_s, 5.0), 1)
    try:
        await model._generate(wire, probe)
    except ModelError as exc:
        if getattr(exc, "kind", "") == "http_400":
            return
        near = closest(model.model, listed or [])
        served = f" The service lists: {', '.join(listed[:10])}." if listed else ""
        guess = f" Did you mean {near[0]!r}?" if near else ""
        raise ServiceUnreachableError(
            f"the test request for model {model.model!r} failed: {exc}.{guess}{served}", FIX
        ) from None
    finally:
        await wire.aclose()


def _listed_models(model: Any) -> list[str] | None:
    """The model ids `GET /models` lists, or None when the service has no listing."""
    url = endpoint(model.base_url, "/models")
    target = model.base_url.rstrip("/") + "/models"
    if model.query:
        target += "?" + urllib.parse.urlencode(model.query)
    headers = {"Accept": "application/json", "Authorization": f"Bearer {model.api_key}", **model.auth_headers}
    request = urllib.request.Request(target, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=min(model.timeout_s, 10.0)) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            err = http_status_error(exc.code, _message(exc), url, None)
            raise ServiceUnreachableError(f"the model service refused the key: {err}", FIX) from None
        return None  # no listing here (404, 405, ...): the test request decides
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            exc.__cause__ = reason
        err = classify_transport_error(exc, url, model.timeout_s)
        raise ServiceUnreachableError(f"cannot reach the model service: {err}", FIX) from None
    try:
        data = decode_json_body(raw, url)
    except ModelError as exc:
        raise ServiceUnreachableError(f"the model service does not speak the API: {exc}", FIX) from None
    entries = data.get("data")
    if not isinstance(entries, list):
        return None
    return [str(m.get("id")) for m in entries if isinstance(m, dict) and m.get("id")]


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return str(exc.reason)
    err = body.get("error", body) if isinstance(body, dict) else {}
    return str(err.get("message") or exc.reason) if isinstance(err, dict) else str(exc.reason)
