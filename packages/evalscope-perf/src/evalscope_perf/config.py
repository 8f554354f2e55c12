"""`PerfConfig`: every setting of `evalscope perf`, with EvalScope 1.x's names and defaults.

The same model is built from CLI flags, a dict, or a YAML/JSON file (`load_perf_config`). Unknown
keys fail with the closest valid name; `--api` and `--dataset` names are checked here, before any
request is sent.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from evalscope.errors import ConfigError, UnknownNameError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = ["LOCAL_APIS", "PerfConfig", "RunPoint", "load_perf_config"]

#: `--api` values that start a server for the checkpoint `--model` names (local_server.py)
LOCAL_APIS = ("local", "local_vllm")
_KNOWN_ENDPOINTS = ("chat/completions", "completions", "embeddings", "rerank", "responses")
SLA_VARIABLES = ("parallel", "rate")


def _as_list(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


class RunPoint(BaseModel):
    """One run of a sweep: its concurrency, request count and arrival rate (-1: closed loop)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    parallel: int
    number: int
    rate: float = -1.0

    @property
    def label(self) -> str:
        base = f"parallel_{self.parallel}_number_{self.number}"
        return base + (f"_rate_{self.rate:g}" if self.rate > 0 else "")


class PerfConfig(BaseModel):
    """All settings; field names are EvalScope's `Arguments` names (`warmup_num` is read as `warmup`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # model and API
    model: str | None = None
    api: str = "openai"
    url: str = "http://127.0.0.1:8877/v1/chat/completions"
    api_key: str | None = Field(default=None, repr=False)
    headers: dict[str, str] = Field(default_factory=dict)
    tokenizer_path: str | None = None
    # --api local / local_vllm: the server this command starts (EvalScope's --port, --attn-implementation)
    port: int = 8877
    attn_implementation: str | None = None
    local_server_timeout: float = 600.0  # seconds for the server to load the model and answer
    # connection
    connect_timeout: float = 5.0
    read_timeout: float | None = 600.0
    total_timeout: float | None = 6 * 60 * 60
    no_test_connection: bool = False
    http_client: Literal["raw", "aiohttp"] = "raw"
    kernel_timestamps: bool = True  # raw client over plain TCP on Linux: the kernel's receive times
    # load
    number: list[int] = Field(default_factory=lambda: [1000])
    parallel: list[int] = Field(default_factory=lambda: [1])
    rate: list[float] = Field(default_factory=lambda: [-1.0])
    arrival: Literal["poisson", "gamma", "constant"] | None = None  # None: gamma if burstiness != 1
    burstiness: float = 1.0  # vLLM's --burstiness: gamma shape of the arrival gaps (1 = Poisson)
    sweep: int = 0  # GuideLLM's sweep: synchronous, throughput, then this many rates in between
    repeats: int = 1  # each load point this many times; intervals across the repetitions
    max_error_rate: float | None = None  # stop a run (and a sweep) past this share of failures
    stop_on_saturation: bool | None = None  # None: on for the rate runs of --sweep only
    time_slice: float = 1.0  # seconds per slice of the per-time metrics (0: none)
    warmup: float = Field(default=0, validation_alias="warmup_num")
    sleep_interval: float = 5.0
    workers: int = 1
    runner: str = "local"  # `ray`: the --workers shares run on a runner plugin's nodes (evalscope-ray)
    runner_args: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    # dataset and prompt
    dataset: str = "openqa"
    dataset_path: str | None = None
    data_source: Literal["modelscope", "huggingface"] = "modelscope"
    prompt: str | None = None
    min_prompt_length: int = 0
    max_prompt_length: int = 131072
    prefix_length: int = 0
    image_width: int = 224  # --dataset random_vl
    image_height: int = 224
    image_num: int = 1
    tokenize_prompt: bool = False  # send token ids (`prompt: [int, ...]`) to /v1/completions
    # generation
    stream: bool = True
    max_tokens: int | None = 2048
    min_tokens: int | None = None
    temperature: float | None = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = None
    extra_args: dict[str, Any] = Field(default_factory=dict)
    # SLOs: vLLM's per-request goodput (ms) and EvalScope's SLA search
    goodput: dict[str, float] = Field(default_factory=dict)
    goodput_sets: dict[str, dict[str, float]] = Field(default_factory=dict)
    report: bool = True  # perf_report.html: one self-contained page of every run
    sla_auto_tune: bool = False
    sla_variable: str = "parallel"
    sla_params: list[dict[str, str]] | None = None
    sla_num_runs: int = 3
    sla_upper_bound: int = 65536
    sla_lower_bound: int = 1
    sla_fixed_parallel: int | None = None
    sla_number_multiplier: float | None = None
    # output
    name: str | None = None
    # experiment trackers (EvalScope's --visualizer / --wandb-api-key / --swanlab-api-key): reporter names
    # resolved through the core's reporter registry, e.g. evalscope-tracking's wandb, swanlab, mlflow
    visualizer: str | None = None
    wandb_api_key: str | None = None
    swanlab_api_key: str | None = None
    outputs_dir: str = "outputs"
    no_timestamp: bool = False
    live: bool | None = None  # None: on when stdout is a terminal
    debug: bool = False

    @field_validator("number", "parallel", "rate", "stop", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> Any:
        if isinstance(v, list):  # ["k=v", ...] as EvalScope's --headers takes them
            out = {}
            for item in v:
                key, eq, value = str(item).partition("=")
                if not eq or not key.strip():
                    from evalscope.secrets import redact_message

                    raise ValueError(f"--headers expects key=value pairs, got {redact_message(str(item))!r}")
                out[key.strip()] = value.strip()
            return out
        return v

    @field_validator("extra_args", mode="before")
    @classmethod
    def _extra(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                v = json.loads(v) if v.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"--extra-args is not valid JSON: {exc.msg}") from None
        return v or {}

    @field_validator("goodput_sets", mode="before")
    @classmethod
    def _goodput_sets(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                v = json.loads(v) if v.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"--goodput-sets is not valid JSON: {exc.msg}; e.g. "
                    '\'{"strict": {"ttft": 200, "tpot": 20}, "relaxed": {"ttft": 1000}}\''
                ) from None
        return v or {}

    @field_validator("sla_params", mode="before")
    @classmethod
    def _sla_params(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError as exc:
                raise ValueError(f"--sla-params is not valid JSON: {exc.msg}") from None
        if isinstance(v, dict):
            v = [v]
        return None if v is None else [{k: str(val) for k, val in g.items()} for g in v]

    @model_validator(mode="after")
    def _check(self) -> PerfConfig:
        from evalscope_perf import registry

        if not self.model:
            raise ValueError("--model is required (the model name the service expects)")
        self.api = registry.canonical_api(self.api)
        registry.resolve_api(self.api)
        self._check_local_server()
        if self.prompt is None:
            registry.resolve_dataset(self.dataset)
        n = {len(self.number), len(self.parallel), len(self.rate)} - {1}
        if len(n) > 1:
            raise ValueError(
                f"--parallel {self.parallel}, --number {self.number} and --rate {self.rate} must have "
                "the same length (one run per position) or a single value"
            )
        if any(p < 1 for p in self.parallel) or any(x < 1 for x in self.number):
            raise ValueError("--parallel and --number values must be >= 1")
        if any(r == 0 or (r < 0 and r != -1) for r in self.rate):
            raise ValueError("--rate values must be > 0 requests/s, or -1 for a closed loop")
        if self.workers < 1:
            raise ValueError("--workers must be >= 1")
        if self.sla_auto_tune:
            if self.sla_variable not in SLA_VARIABLES:
                raise UnknownNameError("--sla-variable", self.sla_variable, SLA_VARIABLES)
            if not self.sla_params:
                raise ValueError('--sla-auto-tune needs --sla-params, e.g. \'[{"p99_ttft": "<=2s"}]\'')
            if not 1 <= self.sla_lower_bound <= self.sla_upper_bound:
                raise ValueError("--sla-lower-bound and --sla-upper-bound must satisfy 1 <= lower <= upper")
            if self.sla_num_runs < 1:
                raise ValueError("--sla-num-runs must be >= 1")
            from evalscope_perf.sla import parse_criteria

            parse_criteria(self.sla_params)
        from evalscope_perf.metrics import GOODPUT_KEYS

        for key in [*self.goodput, *(k for slos in self.goodput_sets.values() for k in slos)]:
            if key not in GOODPUT_KEYS:
                raise UnknownNameError(
                    "--goodput metric", key, GOODPUT_KEYS, hint="e.g. --goodput ttft:2000 tpot:50 (ms)"
                )
        self._check_load_shape()
        self.url = self._resolve_url()
        return self

    def _check_local_server(self) -> None:
        """`--api local/local_vllm` benchmark the server they start: its URL replaces `--url`."""
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port {self.port} is not a TCP port (0-65535; 0 picks a free one)")
        if self.local_server_timeout <= 0:
            raise ValueError("--local-server-timeout is in seconds, > 0")
        if self.attn_implementation and self.api != "local":
            raise ValueError(
                f"--attn-implementation applies to the transformers server of --api local, not --api {self.api}"
            )
        if self.api in LOCAL_APIS and self.runner != "local":
            raise ValueError(
                f"--api {self.api} serves the checkpoint on 127.0.0.1 of this machine, which --runner "
                f"{self.runner}'s nodes cannot reach: drop --runner (--workers share this machine's server)"
            )
        if self.api in LOCAL_APIS:
            # as EvalScope's; with --port 0 the port is known once the server starts (local_server.py)
            self.url = f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def _check_load_shape(self) -> None:
        """Contradictory or impossible arrival/sweep/stop settings fail here, before any request."""
        open_loop = any(r > 0 for r in self.rate)
        if self.burstiness <= 0:
            raise ValueError("--burstiness must be > 0 (1 = Poisson, < 1 burstier, > 1 steadier)")
        if self.arrival in ("poisson", "constant") and self.burstiness != 1.0:
            raise ValueError(
                f"--arrival {self.arrival} contradicts --burstiness {self.burstiness:g}: burstiness shapes "
                "gamma arrivals; use --arrival gamma, or drop --burstiness"
            )
        if (self.arrival is not None or self.burstiness != 1.0) and not (open_loop or self.sweep):
            raise ValueError(
                "--arrival/--burstiness shape open-loop arrivals: give a --rate R (req/s) or --sweep N; "
                "a closed loop (--rate -1) has no arrival process"
            )
        if self.sweep < 0:
            raise ValueError("--sweep N needs N >= 0 rates between the synchronous and throughput runs")
        if self.sweep:
            if open_loop:
                raise ValueError(
                    f"--sweep picks its own rates; it contradicts --rate {self.rate}: drop one of them"
                )
            if self.sla_auto_tune:
                raise ValueError("--sweep and --sla-auto-tune are two different searches: choose one")
            if self.repeats > 1:
                raise ValueError(
                    "--repeats applies to --parallel/--rate runs, not to --sweep: drop one of them"
                )
            if len(self.number) > 1 or len(self.parallel) > 1:
                raise ValueError(
                    "--sweep takes one --number (requests per run) and one --parallel (the throughput "
                    "run's concurrency)"
                )
        if self.repeats < 1:
            raise ValueError("--repeats must be >= 1")
        if self.max_error_rate is not None and not 0 <= self.max_error_rate < 1:
            raise ValueError("--max-error-rate is a share of failed requests in [0, 1), e.g. 0.05")
        if self.tokenize_prompt and self.dataset in ("random_vl", "flickr8k"):
            raise ValueError(
                f"--tokenize-prompt cannot carry the images of --dataset {self.dataset}: drop it"
            )
        if self.tokenize_prompt and not self.tokenizer_path:
            raise ValueError(
                "--tokenize-prompt needs --tokenizer-path (the model's tokenizer turns prompts into ids)"
            )
        if self.tokenize_prompt and self.api != "openai_completions":
            raise ValueError(
                f"--tokenize-prompt sends token ids to /v1/completions; it contradicts --api {self.api}: "
                "use --api openai_completions"
            )
        if self.time_slice < 0:
            raise ValueError("--time-slice is in seconds (0: no per-time metrics)")

    @property
    def resolved_arrival(self) -> str:
        """The open-loop arrival process: --arrival, else gamma when --burstiness != 1, else Poisson."""
        return self.arrival or ("gamma" if self.burstiness != 1.0 else "poisson")

    def _resolve_url(self) -> str:
        from evalscope_perf import registry

        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            from evalscope.secrets import redact_url

            raise ValueError(
                f"--url {redact_url(self.url)!r} is not an http(s) URL, e.g. http://127.0.0.1:8000/v1"
            )
        path = parts.path.rstrip("/")
        if any(path.endswith("/" + e) for e in _KNOWN_ENDPOINTS):
            return self.url
        endpoint = registry.resolve_api(self.api).endpoint
        return parts._replace(path=f"{path}/{endpoint}").geturl() if endpoint else self.url

    # --- derived ---------------------------------------------------------------------------------

    @property
    def warmup_count(self) -> int:
        """`--warmup` as a request count: >= 1 is a count, 0 < w < 1 a fraction of --number."""
        if self.warmup <= 0:
            return 0
        if self.warmup >= 1:
            return int(self.warmup)
        return max(1, int(self.warmup * max(self.number)))

    def run_points(self) -> list[RunPoint]:
        size = max(len(self.number), len(self.parallel), len(self.rate))

        def at(values: list[Any], i: int) -> Any:
            return values[i] if len(values) > 1 else values[0]

        return [
            RunPoint(parallel=at(self.parallel, i), number=at(self.number, i), rate=at(self.rate, i))
            for i in range(size)
        ]

    @property
    def display_name(self) -> str:
        raw = self.name or Path(str(self.model)).name or "perf"
        return re.sub(r'[<>:"|?*\\/\0]', "_", raw)

    def client_args(self) -> tuple[str, str, dict[str, str], float | None, float | None, float | None, bool]:
        """Arguments of `runner.make_client` for these settings (the URL without its `user:pass@`)."""
        return (
            self.http_client, self.client_url(), self.request_headers(), self.connect_timeout,
            self.read_timeout, self.total_timeout, self.kernel_timestamps,
        )  # fmt: skip

    def client_url(self) -> str:
        """`url` without `user:pass@`: the credentials travel as an `Authorization: Basic` header."""
        parts = urlsplit(self.url)
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()

    def request_headers(self) -> dict[str, str]:
        """Headers of every request: `--api-key` as a Bearer token, else the URL's `user:pass@` as
        Basic auth (what aiohttp, hence EvalScope, does with them), unless `--headers` sets its own."""
        headers = {"Content-Type": "application/json", "User-Agent": "evalscope-perf", **self.headers}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        elif not any(k.lower() == "authorization" for k in self.headers):
            parts = urlsplit(self.url)
            if parts.username is not None or parts.password is not None:
                pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    def trackers(self) -> list[str]:
        """The reporters to send the results to: `--visualizer`, and a tracker whose API key was given."""
        names = [self.visualizer] if self.visualizer else []
        for name, key in (("wandb", self.wandb_api_key), ("swanlab", self.swanlab_api_key)):
            if key and not any(n.rsplit("/", 1)[-1] == name for n in names):
                names.append(name)
        return names

    def secrets(self) -> list[str]:
        """Every secret value these settings carry, for `evalscope.secrets.register_secrets`.

        `--api-key`, the values of auth-like `--headers` (and the credential after `Bearer `/`Basic `),
        the password and `?key=` values of `--url` (raw and percent-decoded) with the Basic credential
        made from them, secret-named keys inside `--extra-args`, and `OPENAI_API_KEY`.
        """
        from evalscope.secrets import environment_secrets, secrets_in_data, url_secrets

        from evalscope_perf.redaction import header_secrets

        found = [k for k in (self.api_key, self.wandb_api_key, self.swanlab_api_key) if k]
        found += header_secrets(self.request_headers())
        for value in url_secrets(self.url):
            found += [value, unquote(value)]
        found += secrets_in_data(self.extra_args)
        found += environment_secrets()
        return [f for f in found if f]

    def redacted(self) -> dict[str, Any]:
        """The settings as written to disk and stored in SQLite: the key, auth-like headers, the
        URL's `user:pass@` and `?key=` and every registered secret value shown as '***'."""
        from evalscope.secrets import MASK, redact_data, redact_url

        from evalscope_perf.redaction import is_secret_header

        data = self.model_dump(mode="json")
        if data.get("api_key"):
            data["api_key"] = MASK
        data["url"] = redact_url(self.url)
        data["headers"] = {k: (MASK if v and is_secret_header(k) else v) for k, v in self.headers.items()}
        redacted: dict[str, Any] = redact_data(data)
        return redacted


def load_perf_config(source: PerfConfig | dict[str, Any] | str | Path) -> PerfConfig:
    """A `PerfConfig` from itself, a dict, or a YAML/JSON file; errors name the bad key and a fix."""
    if isinstance(source, PerfConfig):
        return source
    if isinstance(source, (str, Path)):
        from evalscope.config import read_config_file

        data: dict[str, Any] = read_config_file(Path(source))
    else:
        data = dict(source)
    try:
        return PerfConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, data) from None


def _config_error(exc: ValidationError, data: dict[str, Any]) -> ConfigError:
    from evalscope.errors import closest

    fields = [*PerfConfig.model_fields, "warmup_num"]
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            near = closest(loc, fields)
            lines.append(f"unknown setting {loc!r}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{loc}: {msg}" if loc else msg)
    # an UnknownNameError raised inside a validator keeps its did-you-mean text in the message
    return ConfigError("invalid perf settings: " + "; ".join(lines))
