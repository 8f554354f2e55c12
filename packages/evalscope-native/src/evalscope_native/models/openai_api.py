"""OpenAI-compatible services over the core's HTTP clients; the `openai` SDK only on request.

Why not the SDK by default: importing `openai` costs ~1 s before the first request (most of a
1-sample run), and its request and response models ~1 ms of CPU per request, which on 2 cores is
what bounded samples/s against a fast server. The wire format is plain JSON over HTTP/1.1, so the
engine speaks it with `evalscope.http`: the raw asyncio client (keep-alive pool, no import cost)
when the environment names no proxy for the URL, aiohttp (which honours `HTTP(S)_PROXY` /
`NO_PROXY`) when it does. `model_args.http_client` forces one: `raw`, `aiohttp`, or `httpx` (the
SDK with its own httpx client, a fallback for an unusual proxy or server). `benchmarks/bench_fixed_cost.py`
measures the difference.

The engine retries with its own bounded policy, which honours `Retry-After` and records what finally
failed; the SDK's own retries are off. Errors are mapped onto two kinds: `RetryableModelError` (429,
5xx, 408/409, dropped connections, timeouts) and `ModelError` (everything else: bad request, auth,
unknown model), which fails the sample at once; `service_errors` names what really happened. The API
key lives only in the request headers; `identity()` never includes it.

The key: `--api-key`, else `model_args.api_key`, else `OPENAI_API_KEY` (as the SDK itself would),
else the placeholder `EMPTY` that local servers accept. Credentials in the URL's query (`?key=`,
Google-style) are sent as a query parameter on every request, not glued onto the path.
"""

from __future__ import annotations

import email.utils
import importlib.util
import json
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from evalscope.config import GenerationConfig, TaskConfig
from evalscope.contracts import (
    ChatMessage,
    GenerateRequest,
    ModelError,
    ModelOutput,
    RetryableModelError,
    Usage,
)
from evalscope.errors import ConfigError
from evalscope.secrets import redact_message, register_secrets

from evalscope_native.models.service_errors import (
    classify_transport_error,
    decode_json_body,
    endpoint,
    http_status_error,
    transport_failure,
)
from evalscope_native.models.wire_messages import has_images, wire_messages

_DIRECT = ("max_tokens", "temperature", "top_p", "n", "seed", "stop", "presence_penalty", "frequency_penalty")
_EXTRA = ("top_k", "repetition_penalty")


_TRANSPORTS = ("auto", "raw", "aiohttp", "httpx")


class OpenAIModel:
    def __init__(self, config: TaskConfig) -> None:
        if not config.api_url:
            raise ConfigError(
                "--api-url is required for an API model (eval_type service).",
                hint="e.g. --api-url http://127.0.0.1:8000/v1 --api-key EMPTY",
            )
        if not config.model:
            raise ConfigError("--model is required: the model name the service serves.")
        self.model = config.model
        self.api = str(config.model_args.get("api", "chat"))
        if self.api not in ("chat", "completions"):
            raise ConfigError(f"model_args.api must be 'chat' or 'completions', not {self.api!r}.")
        transport = str(config.model_args.get("http_client", "auto"))
        if transport not in _TRANSPORTS:
            raise ConfigError(
                f"model_args.http_client must be one of {', '.join(_TRANSPORTS)}, not {transport!r}.",
                hint="leave it out: the raw client is used, or aiohttp when a proxy applies to --api-url",
            )
        self.stream = config.stream
        self.timeout_s = config.timeout or 600.0
        without_query, self.query, self.auth_headers = _split_url(config.api_url)
        self.base_url = _base_url(without_query)
        self.api_key = _api_key(config)
        if self.auth_headers and self.api_key != "EMPTY":
            raise ConfigError(
                "--api-url carries user:password and an API key is set too; both would be the request's "
                "Authorization header.",
                hint="keep one: the key (--api-key / OPENAI_API_KEY) or the credentials in the URL",
            )
        if transport == "auto":
            from evalscope.http import proxy_for

            transport = "aiohttp" if proxy_for(self.base_url) else "raw"
        needs = {"aiohttp": "aiohttp", "httpx": "openai"}.get(transport)
        if needs and importlib.util.find_spec(needs) is None:
            raise ConfigError(
                f"the {transport} HTTP client is unavailable ({needs} is not installed).",
                hint=f'pip install "{"openai[aiohttp]" if needs == "aiohttp" else "openai"}", or leave '
                "model_args.http_client out",
            )
        self.transport = transport
        self._concurrency = config.eval_batch_size
        # Built on first use: a run whose answers all come from the cache opens no connection.
        self._wire_obj: _Wire | None = None
        self._endpoints: dict[str, str] = {}
        self._params: tuple[GenerationConfig, dict[str, Any]] | None = None

    @property
    def _wire(self) -> _Wire:
        if self._wire_obj is None:
            self._wire_obj = self._make_wire(self.timeout_s, min(self.timeout_s, 30.0), self._concurrency)
        return self._wire_obj

    def _make_wire(self, seconds: float, connect_s: float, concurrency: int) -> _Wire:
        if self.transport == "httpx":
            return _SdkWire(self, seconds, connect_s, concurrency)
        return _ExchangeWire(self, seconds, connect_s)

    def _endpoint(self, path: str) -> str:
        """The redacted URL of `path` for messages; built once per path (redaction is a regex pass)."""
        url = self._endpoints.get(path)
        if url is None:
            url = self._endpoints[path] = endpoint(self.base_url, path)
        return url

    def _params_of(self, config: GenerationConfig) -> dict[str, Any]:
        """Request parameters of a generation config; every sample of a benchmark shares one config
        object, so its dump (a pydantic pass) is made once, not per request."""
        if self._params is None or self._params[0] is not config:
            self._params = (config, _params(config))
        return self._params[1]

    def identity(self) -> dict[str, Any]:
        # The endpoint URL is left out on purpose: a restarted server on another port, or a load
        # balancer, serves the same model, and its cached answers stay valid.
        return {"kind": "openai_api", "model": self.model, "api": self.api}

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        return await self._generate(self._wire, request)

    async def _generate(self, wire: _Wire, request: GenerateRequest) -> ModelOutput:
        if self.api == "completions":
            if has_images(request.messages):
                raise ModelError(
                    "this request has images, which the completions API cannot carry: use the chat API "
                    """(--model-args '{"api": "chat"}')""",
                    kind="bad_input",
                )
            if request.tools is not None:
                raise ModelError(
                    "a function-calling request (tools) needs the chat API: drop model_args.api "
                    "'completions', or use the benchmark's prompt mode",
                    kind="bad_input",
                )
            body: dict[str, Any] = {"model": self.model, "prompt": _plain_prompt(request.messages)}
            data = await wire.post("/completions", _payload(body, self._params_of(request.config)))
            choices = _choices(data, self._endpoint("/completions"))
            return ModelOutput(
                completions=[c.get("text") or "" for c in choices],
                finish_reasons=[c.get("finish_reason") for c in choices],
                usage=_usage_dict(data.get("usage")),
                model=data.get("model"),
            )
        messages = wire_messages(request.messages)  # images (a multimodal message's parts) as data URLs
        body = {"model": self.model, "messages": messages}
        if request.tools is not None:
            body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
            chunks = await wire.stream("/chat/completions", _payload(body, self._params_of(request.config)))
            return _from_chunks(chunks, self._endpoint("/chat/completions"))
        path = "/chat/completions"
        data = await wire.post(path, _payload(body, self._params_of(request.config)))
        choices = _choices(data, self._endpoint(path))
        _require_content(choices, self._endpoint(path))
        return ModelOutput(
            completions=[(c.get("message") or {}).get("content") or "" for c in choices],
            reasoning=[(c.get("message") or {}).get("reasoning_content") for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
            tool_calls=_tool_calls(choices),
        )

    async def check_connection(self) -> None:
        """Before the run: the service answers the API and serves `--model` (`service_check.py`)."""
        from evalscope_native.models.service_check import check_service

        await check_service(self)

    async def aclose(self) -> None:
        if self._wire_obj is not None:
            await self._wire_obj.aclose()


class _Wire:
    """How request bodies reach the service: `post` returns the JSON reply, `stream` its chunks."""

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def stream(self, path: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class _ExchangeWire(_Wire):
    """The core's raw or aiohttp client, one per endpoint path (each holds its keep-alive pool)."""

    def __init__(self, model: OpenAIModel, seconds: float, connect_s: float) -> None:
        self.model = model
        self.seconds = seconds
        self.connect_s = connect_s
        self.clients: dict[str, Any] = {}
        query = f"?{urlencode(model.query)}" if model.query else ""
        self.url = lambda path: model.base_url + path + query
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {model.api_key}",
            **model.auth_headers,
        }

    def _client(self, path: str) -> Any:
        client = self.clients.get(path)
        if client is None:
            from evalscope.http import AiohttpClient, RawHttpClient

            if self.model.transport == "aiohttp":
                client = AiohttpClient(
                    self.url(path), self.headers, connect_timeout=self.connect_s, total_timeout=self.seconds
                )
            else:
                client = RawHttpClient(
                    self.url(path),
                    self.headers,
                    connect_timeout=self.connect_s,
                    total_timeout=self.seconds,
                    kernel_stamps=False,
                )
            self.clients[path] = client
        return client

    async def _exchange(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        ex = await self._client(path).request(body)
        url = self.model._endpoint(path)
        if ex.error is not None:
            raise transport_failure(ex.failure or "disconnected", url, self.seconds, ex.cause, ex.error)
        if not 200 <= ex.status < 300:
            raise http_status_error(ex.status, _body_message(ex.body), url, _retry_after(ex.retry_after))
        return ex

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        ex = await self._exchange(path, payload)
        url = self.model._endpoint(path)
        if ex.events:  # a server that streams although not asked to: read the events
            return _merge_stream(_sse_chunks(ex.events, url), url)
        return decode_json_body(ex.body, url)

    async def stream(self, path: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        ex = await self._exchange(path, payload)
        url = self.model._endpoint(path)
        if not ex.events:  # a plain JSON answer to a streamed request
            return [decode_json_body(ex.body, url)]
        return _sse_chunks(ex.events, url)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()


class _SdkWire(_Wire):
    """The `openai` SDK with its httpx client (`model_args.http_client: httpx`)."""

    def __init__(self, model: OpenAIModel, seconds: float, connect_s: float, concurrency: int) -> None:
        import openai

        self.model = model
        self.seconds = seconds
        size = max(concurrency, 1) * 2
        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(max_connections=size, max_keepalive_connections=size)
        timeout = openai.Timeout(seconds, connect=connect_s)
        self.client = openai.AsyncOpenAI(
            base_url=model.base_url,
            api_key=model.api_key,
            max_retries=0,
            timeout=timeout,
            default_query=model.query or None,
            default_headers=model.auth_headers or None,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout),
        )

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        raw = await self._call(path, self.client.post(path, body=payload, cast_to=bytes))
        return decode_json_body(raw, self.model._endpoint(path))

    async def stream(self, path: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        async def collect() -> list[dict[str, Any]]:
            rest = {k: v for k, v in payload.items() if k not in ("model", "messages", "stream")}
            stream: Any = await self.client.chat.completions.create(
                model=payload["model"], messages=payload["messages"], stream=True, extra_body=rest
            )
            return [chunk.model_dump() async for chunk in stream]

        chunks: list[dict[str, Any]] = await self._call(path, collect())
        return chunks

    async def _call(self, path: str, call: Any) -> Any:
        import openai

        url = self.model._endpoint(path)
        try:
            return await call
        except openai.APIStatusError as exc:
            headers = exc.response.headers
            ms = headers.get("retry-after-ms")
            after = f"{ms}ms" if ms else headers.get("retry-after")
            raise http_status_error(exc.status_code, _error_message(exc), url, _retry_after(after)) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise classify_transport_error(exc, url, self.seconds) from None

    async def aclose(self) -> None:
        await self.client.close()


def _payload(body: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {
        **body,
        **{k: v for k, v in params.items() if k != "extra_body"},
        **params.get("extra_body", {}),
    }


def _sse_chunks(events: list[tuple[float, bytes]], url: str) -> list[dict[str, Any]]:
    """The JSON objects of an SSE body's `data:` lines, up to `[DONE]`."""
    out: list[dict[str, Any]] = []
    for _, event in events:
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return out
            try:
                chunk = json.loads(data)
            except ValueError:
                raise RetryableModelError(
                    redact_message(f"{url} sent an event that is not JSON: {data[:120]!r}"), kind="bad_json"
                ) from None
            if isinstance(chunk, dict):
                if isinstance(chunk.get("error"), dict):  # vLLM reports a failure mid-stream this way
                    err = chunk["error"]
                    raise http_status_error(int(err.get("code") or 500), str(err.get("message")), url, None)
                out.append(chunk)
    return out


def _from_chunks(chunks: list[dict[str, Any]], url: str) -> ModelOutput:
    """Join streamed deltas per choice index (text, reasoning, finish reason, usage)."""
    if len(chunks) == 1 and any("message" in c for c in chunks[0].get("choices") or []):
        data = chunks[0]  # the service ignored `stream` and answered in one JSON body
        choices = _choices(data, url)
        _require_content(choices, url)
        return ModelOutput(
            completions=[(c.get("message") or {}).get("content") or "" for c in choices],
            reasoning=[(c.get("message") or {}).get("reasoning_content") for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
            tool_calls=_tool_calls(choices),
        )
    texts: dict[int, list[str]] = {}
    thoughts: dict[int, list[str]] = {}
    finish: dict[int, str | None] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}  # choice → tool call index → the call so far
    usage = None
    model = None
    for chunk in chunks:
        model = chunk.get("model") or model
        if chunk.get("usage"):
            usage = _usage_dict(chunk["usage"])
        for c in chunk.get("choices") or []:
            index = int(c.get("index") or 0)
            delta = c.get("delta") or {}
            texts.setdefault(index, [])
            if delta.get("content"):
                texts[index].append(delta["content"])
            if delta.get("reasoning_content"):
                thoughts.setdefault(index, []).append(delta["reasoning_content"])
            for part in delta.get("tool_calls") or []:
                _add_tool_delta(calls.setdefault(index, {}), part)
            if c.get("finish_reason"):
                finish[index] = c["finish_reason"]
    if not finish:
        raise RetryableModelError(
            f"the stream from {url} ended before any choice finished", kind="stream_cut"
        )
    idx = sorted(texts)
    return ModelOutput(
        completions=["".join(texts[i]) for i in idx],
        reasoning=["".join(thoughts.get(i, [])) or None for i in idx],
        finish_reasons=[finish.get(i) for i in idx],
        usage=usage,
        model=model,
        tool_calls=[[c for _, c in sorted(calls.get(i, {}).items())] for i in idx] if calls else [],
    )


def _merge_stream(chunks: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """A streamed answer to a plain request, as the JSON body it stands for."""
    out = _from_chunks(chunks, url)
    return {
        "model": out.model,
        "usage": out.usage.model_dump() if out.usage is not None else None,
        "choices": [
            {
                "index": i,
                "message": {
                    "role": "assistant",
                    "content": text,
                    "reasoning_content": out.reasoning[i],
                    **(
                        {"tool_calls": out.tool_calls[i]}
                        if i < len(out.tool_calls) and out.tool_calls[i]
                        else {}
                    ),
                },
                "text": text,
                "finish_reason": out.finish_reasons[i],
            }
            for i, text in enumerate(out.completions)
        ],
    }


def _body_message(body: bytes) -> str:
    """The `error.message` of an error body, else the body's start (a proxy's page, a plain text)."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return body[:200].decode("utf-8", errors="replace").strip() or "(empty body)"
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str):
        return err
    return json.dumps(data)[:200]


def _choices(data: dict[str, Any], url: str) -> list[dict[str, Any]]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise RetryableModelError(
            f"{url} answered without choices ({'choices: []' if choices == [] else 'no choices field'}); "
            "nothing to score",
            kind="no_choices",
        )
    return sorted((c for c in choices if isinstance(c, dict)), key=lambda c: c.get("index") or 0)


def _require_content(choices: list[dict[str, Any]], url: str) -> None:
    """`content: null` with neither reasoning nor tool calls is a failed answer, not an empty one.

    Scoring it as "" would turn a service fault into a silent 0 (a reasoning model that spent its
    tokens thinking keeps its `reasoning_content` and is scored normally).
    """
    for c in choices:
        message = c.get("message") or {}
        if (
            message.get("content") is None
            and not message.get("reasoning_content")
            and not message.get("tool_calls")
        ):
            raise RetryableModelError(
                f"{url} answered with message.content null (finish_reason {c.get('finish_reason')!r})",
                kind="no_content",
            )


def _tool_calls(choices: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each choice's `message.tool_calls` (OpenAI shape); [] when no choice called a tool."""
    calls = [list((c.get("message") or {}).get("tool_calls") or []) for c in choices]
    return calls if any(calls) else []


def _add_tool_delta(calls: dict[int, dict[str, Any]], part: dict[str, Any]) -> None:
    """Fold one streamed `delta.tool_calls` entry into the call it continues (by `index`): the id,
    type and name come once, the arguments in pieces."""
    call = calls.setdefault(
        int(part.get("index") or 0),
        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
    )
    if part.get("id"):
        call["id"] = part["id"]
    if part.get("type"):
        call["type"] = part["type"]
    function = part.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]


def _usage_dict(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    return Usage(
        prompt_tokens=u.get("prompt_tokens") or 0,
        completion_tokens=u.get("completion_tokens") or 0,
        total_tokens=u.get("total_tokens") or 0,
    )


def _api_key(config: TaskConfig) -> str:
    if config.api_key is not None:
        return config.api_key.get_secret_value()
    from_args = config.model_args.get("api_key")
    if from_args:
        return str(from_args)
    return os.environ.get("OPENAI_API_KEY") or "EMPTY"


def _split_url(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The base URL without query or credentials, the query parameters, and the auth header they imply.

    `http://h/v1?key=K` → (`http://h/v1`, {"key": "K"}, {}): the SDK would glue paths after the query.
    `http://u:p@h/v1` → (`http://h/v1`, {}, {"Authorization": "Basic …"}): the HTTP clients refuse
    credentials in the URL next to the SDK's own Authorization header, so they become that header.
    """
    import base64

    parts = urlsplit(url)
    headers: dict[str, str] = {}
    if parts.username is not None or parts.password is not None:
        from urllib.parse import unquote

        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
        token = base64.b64encode(pair).decode()
        register_secrets([token])  # a server echoing the header must not write the pair into a file
        headers["Authorization"] = f"Basic {token}"
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query="", fragment="")), query, headers


def _base_url(url: str) -> str:
    """Accept EvalScope-style full endpoints too: strip a trailing /chat/completions or /completions."""
    url = url.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def _plain_prompt(messages: list[ChatMessage]) -> str:
    return "\n\n".join(m.content for m in messages)


def _params(cfg: GenerationConfig) -> dict[str, Any]:
    data = cfg.model_dump(exclude_none=True)
    params: dict[str, Any] = {k: data[k] for k in _DIRECT if k in data}
    if cfg.effective_max_tokens() is not None:
        params["max_tokens"] = cfg.effective_max_tokens()
    if params.get("n") == 1:
        params.pop("n")
    if cfg.logprobs is not None:
        params["logprobs"] = cfg.logprobs
        if cfg.top_logprobs is not None:
            params["top_logprobs"] = cfg.top_logprobs
    extra = {k: data[k] for k in _EXTRA if k in data}
    extra.update(cfg.extra_body or {})
    if extra:
        params["extra_body"] = extra
    return params


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(exc, "message", exc))


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from `retry-after-ms` (given as "<n>ms") or `Retry-After` (seconds or an HTTP date)."""
    if not value:
        return None
    if value.endswith("ms"):
        try:
            return max(float(value[:-2]) / 1000.0, 0.0)
        except ValueError:
            return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
