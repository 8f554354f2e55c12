"""OpenAI-compatible services through the official `openai` SDK (async).

The SDK's own retries are switched off (`max_retries=0`): the engine retries with its own bounded
policy, which honours `Retry-After` and records what finally failed. Errors are mapped onto two
kinds: `RetryableModelError` (429, 5xx, 408/409, dropped connections, timeouts) and
`ModelError` (everything else: bad request, auth, unknown model), which fails the sample at once.
The API key lives only in the client object; `identity()` never includes it.

HTTP transport: aiohttp under the SDK (`openai.DefaultAioHttpClient`, the `openai[aiohttp]` extra),
because with the SDK's httpx client the HTTP layer, not the engine, bounds samples/s: against a
zero-latency server at 64 concurrent requests on 2 cores the SDK reached ~970 requests/s on
aiohttp and 530-670 on httpx, whatever the pool size or number of clients, and a whole run_task
1.5-2x the samples/s (`benchmarks/bench_http_clients.py`, `benchmarks/bench_throughput.py`). The
transport translates aiohttp's errors into httpx ones, which the SDK turns into the usual
`APIConnectionError`/`APITimeoutError`/`APIStatusError` (a refused connection arrives as a timeout:
`service_errors` names what really happened). `model_args.http_client: httpx` selects the SDK's own
httpx client instead, a fallback for an unusual proxy or server.

The key: `--api-key`, else `model_args.api_key`, else `OPENAI_API_KEY` (as the SDK itself would),
else the placeholder `EMPTY` that local servers accept. Credentials in the URL's query (`?key=`,
Google-style) are sent as a query parameter on every request, not glued onto the path.
"""

from __future__ import annotations

import email.utils
import importlib.util
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from evalscope.config import GenerationConfig, TaskConfig
from evalscope.contracts import (
    ChatMessage,
    GenerateRequest,
    ModelOutput,
    RetryableModelError,
    Usage,
)
from evalscope.errors import ConfigError
from evalscope.secrets import register_secrets

from evalscope_native.models.service_errors import (
    classify_transport_error,
    decode_json_body,
    endpoint,
    http_status_error,
)

_DIRECT = ("max_tokens", "temperature", "top_p", "n", "seed", "stop", "presence_penalty", "frequency_penalty")
_EXTRA = ("top_k", "repetition_penalty")


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
        self._transport = str(config.model_args.get("http_client", "aiohttp"))
        if self._transport not in ("aiohttp", "httpx"):
            raise ConfigError(
                f"model_args.http_client must be 'aiohttp' or 'httpx', not {self._transport!r}."
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
        self._concurrency = config.eval_batch_size
        if self._transport == "aiohttp" and importlib.util.find_spec("aiohttp") is None:
            raise ConfigError(
                "the aiohttp HTTP client is unavailable (the `openai[aiohttp]` extra is not installed).",
                hint='pip install "openai[aiohttp]", or pass --model-args \'{"http_client": "httpx"}\'',
            )
        # Built on first use: a run whose answers all come from the cache never imports the SDK.
        self._client_obj: Any = None

    @property
    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = self._make_client(self.timeout_s, min(self.timeout_s, 30.0), self._concurrency)
        return self._client_obj

    def _make_client(self, seconds: float, connect_s: float, concurrency: int) -> Any:
        import openai

        timeout = openai.Timeout(seconds, connect=connect_s)
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key,
            max_retries=0,
            timeout=timeout,
            default_query=self.query or None,
            default_headers=self.auth_headers or None,
            http_client=_http_client(self._transport, concurrency, timeout),
        )

    def identity(self) -> dict[str, Any]:
        # The endpoint URL is left out on purpose: a restarted server on another port, or a load
        # balancer, serves the same model, and its cached answers stay valid.
        return {"kind": "openai_api", "model": self.model, "api": self.api}

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        return await self._generate(self._client, request)

    async def _generate(self, client: Any, request: GenerateRequest) -> ModelOutput:
        import openai

        path = "/completions" if self.api == "completions" else "/chat/completions"
        try:
            if self.api == "completions":
                return await self._completions(client, request)
            return await self._chat(client, request)
        except openai.APIStatusError as exc:
            raise http_status_error(
                exc.status_code,
                _error_message(exc),
                endpoint(self.base_url, path),
                _retry_after(exc.response.headers),
            ) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise classify_transport_error(exc, endpoint(self.base_url, path), self.timeout_s) from None

    async def check_connection(self) -> None:
        """Before the run: the service answers the API and serves `--model` (`service_check.py`)."""
        from evalscope_native.models.service_check import check_service

        await check_service(self)

    async def aclose(self) -> None:
        if self._client_obj is not None:
            await self._client_obj.close()

    # --- request kinds -------------------------------------------------------------------------

    async def _chat(self, client: Any, request: GenerateRequest) -> ModelOutput:
        messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
        params = _params(request.config)
        if self.stream:
            return await self._chat_stream(client, messages, params, request.config.n)
        path = "/chat/completions"
        data = await self._post(client, path, {"model": self.model, "messages": messages}, params)
        choices = _choices(data, endpoint(self.base_url, path))
        _require_content(choices, endpoint(self.base_url, path))
        return ModelOutput(
            completions=[(c.get("message") or {}).get("content") or "" for c in choices],
            reasoning=[(c.get("message") or {}).get("reasoning_content") for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
        )

    async def _post(
        self, client: Any, path: str, body: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """POST through the SDK (its transport, auth, error types) but keep the JSON as a dict.

        Why not `chat.completions.create`: its request-parameter processing and pydantic response
        models cost ~1 ms of CPU per request, which on 2 cores is what bounded the engine's latency
        ratio and throughput (`benchmarks/bench_latency.py`). The wire format is the same.
        """
        payload = {
            **body,
            **{k: v for k, v in params.items() if k != "extra_body"},
            **params.get("extra_body", {}),
        }
        raw = await client.post(path, body=payload, cast_to=bytes)
        return decode_json_body(raw, endpoint(self.base_url, path))

    async def _chat_stream(
        self, client: Any, messages: list[dict[str, str]], params: dict[str, Any], n: int
    ) -> ModelOutput:
        texts: dict[int, list[str]] = {i: [] for i in range(n)}
        thoughts: dict[int, list[str]] = {i: [] for i in range(n)}
        finish: dict[int, str | None] = {}
        usage = None
        model = None
        stream: Any = await client.chat.completions.create(
            model=self.model, messages=messages, stream=True, stream_options={"include_usage": True}, **params
        )
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage is not None:
                usage = _usage(chunk.usage)
            for c in chunk.choices:
                if c.delta.content:
                    texts.setdefault(c.index, []).append(c.delta.content)
                extra = getattr(c.delta, "reasoning_content", None)
                if extra:
                    thoughts.setdefault(c.index, []).append(extra)
                if c.finish_reason:
                    finish[c.index] = c.finish_reason
        if not finish:
            raise RetryableModelError(
                f"the stream from {endpoint(self.base_url, '/chat/completions')} ended before any choice "
                "finished",
                kind="stream_cut",
            )
        idx = sorted(texts)
        return ModelOutput(
            completions=["".join(texts[i]) for i in idx],
            reasoning=["".join(thoughts.get(i, [])) or None for i in idx],
            finish_reasons=[finish.get(i) for i in idx],
            usage=usage,
            model=model,
        )

    async def _completions(self, client: Any, request: GenerateRequest) -> ModelOutput:
        body = {"model": self.model, "prompt": _plain_prompt(request.messages)}
        data = await self._post(client, "/completions", body, _params(request.config))
        choices = _choices(data, endpoint(self.base_url, "/completions"))
        return ModelOutput(
            completions=[c.get("text") or "" for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
        )


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


def _usage_dict(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    return Usage(
        prompt_tokens=u.get("prompt_tokens") or 0,
        completion_tokens=u.get("completion_tokens") or 0,
        total_tokens=u.get("total_tokens") or 0,
    )


def _http_client(transport: str, concurrency: int, timeout: Any) -> Any:
    """The SDK's HTTP client: aiohttp-backed by default, the SDK's own httpx client on request.

    The pool holds twice the engine's concurrency, so a connection the server dropped can be replaced
    at once while its socket is still closing. Only `openai`'s own names are used (`Timeout` and the
    `Limits` class of its defaults), so this works whichever httpx flavour the SDK is built on.
    """
    import openai

    size = max(concurrency, 1) * 2
    limits = type(openai.DEFAULT_CONNECTION_LIMITS)(max_connections=size, max_keepalive_connections=size)
    if transport == "aiohttp":
        try:
            return openai.DefaultAioHttpClient(limits=limits, timeout=timeout)
        except RuntimeError as exc:  # the SDK raises this when the aiohttp extra is missing
            raise ConfigError(
                f"the aiohttp HTTP client is unavailable ({exc}).",
                hint='pip install "openai[aiohttp]", or pass --model-args \'{"http_client": "httpx"}\'',
            ) from None
    return openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout)


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


def _usage(u: Any) -> Usage | None:
    if u is None:
        return None
    return Usage(
        prompt_tokens=u.prompt_tokens or 0,
        completion_tokens=u.completion_tokens or 0,
        total_tokens=u.total_tokens or 0,
    )


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(exc, "message", exc))


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
