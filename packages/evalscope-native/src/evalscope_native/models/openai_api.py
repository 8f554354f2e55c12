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
`APIConnectionError`/`APITimeoutError`/`APIStatusError` (a dropped connection arrives as a timeout:
`_root_cause` names what really happened). `model_args.http_client: httpx` selects the SDK's own
httpx client instead, a fallback for an unusual proxy or server.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

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
        import openai

        self.model = config.model
        self.api = str(config.model_args.get("api", "chat"))
        if self.api not in ("chat", "completions"):
            raise ConfigError(f"model_args.api must be 'chat' or 'completions', not {self.api!r}.")
        transport = str(config.model_args.get("http_client", "aiohttp"))
        if transport not in ("aiohttp", "httpx"):
            raise ConfigError(f"model_args.http_client must be 'aiohttp' or 'httpx', not {transport!r}.")
        self.stream = config.stream
        seconds = config.timeout or 600.0
        timeout = openai.Timeout(seconds, connect=min(seconds, 30.0))
        self._client = openai.AsyncOpenAI(
            base_url=_base_url(config.api_url),
            api_key=config.api_key.get_secret_value() if config.api_key else "EMPTY",
            max_retries=0,
            timeout=timeout,
            http_client=_http_client(transport, config.eval_batch_size, timeout),
        )

    def identity(self) -> dict[str, Any]:
        # The endpoint URL is left out on purpose: a restarted server on another port, or a load
        # balancer, serves the same model, and its cached answers stay valid.
        return {"kind": "openai_api", "model": self.model, "api": self.api}

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        import openai

        try:
            if self.api == "completions":
                return await self._completions(request)
            return await self._chat(request)
        except openai.APIStatusError as exc:
            status = exc.status_code
            message = f"HTTP {status}: {_error_message(exc)}"
            if status == 429 or status >= 500 or status in (408, 409):
                raise RetryableModelError(message, retry_after=_retry_after(exc.response.headers)) from None
            raise ModelError(message) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise RetryableModelError(f"{type(exc).__name__}: {exc}{_root_cause(exc)}") from None

    async def aclose(self) -> None:
        await self._client.close()

    # --- request kinds -------------------------------------------------------------------------

    async def _chat(self, request: GenerateRequest) -> ModelOutput:
        messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
        params = _params(request.config)
        if self.stream:
            return await self._chat_stream(messages, params, request.config.n)
        data = await self._post("/chat/completions", {"model": self.model, "messages": messages}, params)
        choices = _choices(data)
        return ModelOutput(
            completions=[(c.get("message") or {}).get("content") or "" for c in choices],
            reasoning=[(c.get("message") or {}).get("reasoning_content") for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
        )

    async def _post(self, path: str, body: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
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
        data = await self._client.post(path, body=payload, cast_to=object)
        if not isinstance(data, dict):
            raise RetryableModelError(f"the service answered with {type(data).__name__}, not a JSON object")
        return data

    async def _chat_stream(
        self, messages: list[dict[str, str]], params: dict[str, Any], n: int
    ) -> ModelOutput:
        texts: dict[int, list[str]] = {i: [] for i in range(n)}
        thoughts: dict[int, list[str]] = {i: [] for i in range(n)}
        finish: dict[int, str | None] = {}
        usage = None
        model = None
        stream: Any = await self._client.chat.completions.create(  # type: ignore[call-overload]
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
            raise RetryableModelError("the stream ended before any choice finished")
        idx = sorted(texts)
        return ModelOutput(
            completions=["".join(texts[i]) for i in idx],
            reasoning=["".join(thoughts.get(i, [])) or None for i in idx],
            finish_reasons=[finish.get(i) for i in idx],
            usage=usage,
            model=model,
        )

    async def _completions(self, request: GenerateRequest) -> ModelOutput:
        body = {"model": self.model, "prompt": _plain_prompt(request.messages)}
        data = await self._post("/completions", body, _params(request.config))
        choices = _choices(data)
        return ModelOutput(
            completions=[c.get("text") or "" for c in choices],
            finish_reasons=[c.get("finish_reason") for c in choices],
            usage=_usage_dict(data.get("usage")),
            model=data.get("model"),
        )


def _choices(data: dict[str, Any]) -> list[dict[str, Any]]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise RetryableModelError("the service returned no choices")
    return sorted((c for c in choices if isinstance(c, dict)), key=lambda c: c.get("index") or 0)


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


def _root_cause(exc: BaseException) -> str:
    """What the transport really saw, e.g. ` (ServerDisconnectedError: Server disconnected)`, or "".

    The SDK's messages are generic, and the aiohttp transport reports a dropped connection as a
    timeout, so the innermost cause is what tells a stalled server from a dropped connection.
    """
    root = exc
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    if root is exc:
        return ""
    return f" ({type(root).__name__}: {root})" if str(root) else f" ({type(root).__name__})"


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
