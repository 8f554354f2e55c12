"""`evalscope perf`: EvalScope 1.x's flags, mapped onto one `PerfConfig`.

Only typer is imported at module level, so `evalscope perf --help` stays instant; the load generator
is imported when the command runs. Flags override a `--config` file; only flags the user gave apply.
Several flags take lists (`--parallel 1 8 64 --number 10 80 640`: one run per position).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

_MULTI = {"--parallel", "--number", "-n", "--rate", "--headers", "--stop", "--goodput"}
_NUMBER = re.compile(r"^-\d+(\.\d+)?$")


def _expand(args: list[str]) -> list[str]:
    """`--parallel 1 8 64` → `--parallel 1 --parallel 8 --parallel 64`; also `1,8,64`; `--rate -1` works."""
    out: list[str] = []
    i = 0
    while i < len(args):
        name, eq, inline = args[i].partition("=")
        i += 1
        if name not in _MULTI:
            out.append(args[i - 1])
            continue
        values = [inline] if eq else []
        while not eq and i < len(args) and (not args[i].startswith("-") or _NUMBER.match(args[i])):
            values.append(args[i])
            i += 1
        if not values:
            out.append(name)
        for value in values:
            parts = [value] if name in ("--headers", "--stop") else value.split(",")
            out += [x for part in parts if part for x in (name, part)]
    return out


class _PerfCommand(TyperCommand):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _expand(args))


app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

_O = typer.Option


@app.command(cls=_PerfCommand, context_settings={"help_option_names": ["-h", "--help"]})
def command(
    config: Path | None = _O(
        None, "--config", help="YAML or JSON file with perf settings (flags override it)."
    ),
    url: str | None = _O(None, "--url", help="Service URL; a base URL gets the --api endpoint appended."),
    model: str | None = _O(None, "--model", help="Model name the service expects."),
    api: str | None = _O(
        None,
        "--api",
        help="openai | openai_completions | openai_embedding | rerank | openai_responses | local | "
        "local_vllm (start a server for --model) | pkg.module:Class.",
    ),
    port: int | None = _O(
        None, "--port", help="Port of the --api local/local_vllm server (8877; 0 a free one)."
    ),
    attn_implementation: str | None = _O(
        None, "--attn-implementation", help="--api local: transformers' attn_implementation (sdpa, ...)."
    ),
    local_server_timeout: float | None = _O(
        None, "--local-server-timeout", help="Seconds for the local server to load and answer (600)."
    ),
    api_key: str | None = _O(None, "--api-key", help="Bearer token (never written to disk)."),
    headers: list[str] | None = _O(None, "--headers", help="Extra HTTP headers: --headers k=v k2=v2."),
    parallel: list[int] | None = _O(None, "--parallel", help="Concurrency; a list sweeps (default 1)."),
    number: list[int] | None = _O(
        None, "--number", "-n", help="Requests per run; a list pairs with --parallel."
    ),
    rate: list[float] | None = _O(None, "--rate", help="Poisson arrivals, requests/s; -1 = closed loop."),
    arrival: str | None = _O(
        None, "--arrival", help="Open-loop arrivals: poisson (default) | gamma | constant."
    ),
    burstiness: float | None = _O(
        None, "--burstiness", help="Gamma shape of arrival gaps (vLLM): 1 Poisson, <1 burstier, >1 steadier."
    ),
    sweep: int | None = _O(
        None, "--sweep", help="GuideLLM sweep: synchronous, throughput, then N rates in between."
    ),
    repeats: int | None = _O(
        None, "--repeats", help="Run each load point K times; 95% intervals across them."
    ),
    max_error_rate: float | None = _O(
        None, "--max-error-rate", help="Stop a run (and the rest) past this share of failures, e.g. 0.05."
    ),
    stop_on_saturation: bool | None = _O(
        None,
        "--stop-on-saturation/--no-stop-on-saturation",
        help="Stop an open-loop run the service cannot keep up with (default: in --sweep only).",
    ),
    time_slice: float | None = _O(
        None, "--time-slice", help="Seconds per slice of per-time metrics (1; 0 off)."
    ),
    workers: int | None = _O(None, "--workers", help="Client processes sharing the load (default 1)."),
    runner: str | None = _O(
        None, "--runner", help="local (default) | ray: the --workers shares run on a Ray cluster's nodes."
    ),
    runner_args: str | None = _O(
        None, "--runner-args", help='The runner\'s settings as JSON: {"address": "auto"}.'
    ),
    ray_address: str | None = _O(
        None, "--ray-address", help="Ray cluster: auto | host:6379 | ray://host:10001 (implies --runner ray)."
    ),
    warmup: float | None = _O(None, "--warmup", "--warmup-num", help="Warm-up requests (or a fraction < 1)."),
    dataset: str | None = _O(
        None,
        "--dataset",
        help="openqa | longalpaca | line_by_line | custom | random | random_vl | flickr8k | share_gpt.",
    ),
    dataset_path: str | None = _O(None, "--dataset-path", help="Local dataset file (or folder)."),
    data_source: str | None = _O(
        None, "--data-source", help="Hub for a missing --dataset-path: modelscope | huggingface."
    ),
    tokenizer_path: str | None = _O(
        None, "--tokenizer-path", help="Local tokenizer.json or HF tokenizer folder."
    ),
    prompt: str | None = _O(None, "--prompt", help="Send this prompt (or @file) instead of a dataset."),
    min_prompt_length: int | None = _O(
        None, "--min-prompt-length", help="Tokens (with a tokenizer) or chars."
    ),
    max_prompt_length: int | None = _O(
        None, "--max-prompt-length", help="Tokens (with a tokenizer) or chars."
    ),
    prefix_length: int | None = _O(None, "--prefix-length", help="Shared prefix tokens (--dataset random)."),
    image_width: int | None = _O(None, "--image-width", help="random_vl image width (224)."),
    image_height: int | None = _O(None, "--image-height", help="random_vl image height (224)."),
    image_num: int | None = _O(None, "--image-num", help="random_vl images per prompt (1)."),
    tokenize_prompt: bool | None = _O(
        None, "--tokenize-prompt", help="Send token ids to /v1/completions (needs --tokenizer-path)."
    ),
    stream: bool | None = _O(None, "--stream/--no-stream", help="Stream with SSE (default: on)."),
    max_tokens: int | None = _O(None, "--max-tokens", help="max_tokens of each request (default 2048)."),
    min_tokens: int | None = _O(None, "--min-tokens", help="min_tokens of each request (vLLM)."),
    temperature: float | None = _O(None, "--temperature"),
    top_p: float | None = _O(None, "--top-p"),
    top_k: int | None = _O(None, "--top-k"),
    stop: list[str] | None = _O(None, "--stop", help="Stop sequences."),
    extra_args: str | None = _O(None, "--extra-args", help="JSON merged into every request body."),
    connect_timeout: float | None = _O(None, "--connect-timeout", help="Seconds (default 5)."),
    read_timeout: float | None = _O(None, "--read-timeout", help="Seconds without a byte (default 600)."),
    total_timeout: float | None = _O(None, "--total-timeout", help="Seconds per request (default 6 h)."),
    no_test_connection: bool | None = _O(None, "--no-test-connection", help="Skip the test request."),
    http_client: str | None = _O(None, "--http-client", help="raw (default) | aiohttp (honours proxies)."),
    kernel_timestamps: bool | None = _O(
        None,
        "--kernel-timestamps/--no-kernel-timestamps",
        help="Token times from the kernel (raw, http, Linux).",
    ),
    seed: int | None = _O(None, "--seed", help="Seeds Poisson arrivals and random prompts."),
    goodput: list[str] | None = _O(
        None, "--goodput", help="Per-request SLOs in ms: ttft:2000 tpot:50 e2el:..."
    ),
    goodput_sets: str | None = _O(
        None,
        "--goodput-sets",
        help='Several SLO sets as JSON: \'{"strict": {"ttft": 200}, "loose": {"ttft": 1000}}\'.',
    ),
    sla_auto_tune: bool | None = _O(
        None, "--sla-auto-tune", help="Search the highest load meeting --sla-params."
    ),
    sla_variable: str | None = _O(None, "--sla-variable", help="parallel | rate."),
    sla_params: str | None = _O(None, "--sla-params", help='JSON, e.g. \'[{"p99_ttft": "<=2s"}]\'.'),
    sla_num_runs: int | None = _O(None, "--sla-num-runs", help="Runs averaged per probe (default 3)."),
    sla_upper_bound: int | None = _O(None, "--sla-upper-bound"),
    sla_lower_bound: int | None = _O(None, "--sla-lower-bound"),
    sla_fixed_parallel: int | None = _O(None, "--sla-fixed-parallel", help="Concurrency while tuning rate."),
    sla_number_multiplier: float | None = _O(
        None, "--sla-number-multiplier", help="number = value x this (2)."
    ),
    sleep_interval: float | None = _O(None, "--sleep-interval", help="Seconds between runs (default 5)."),
    name: str | None = _O(None, "--name", help="Run name (folder); default: the model name."),
    visualizer: str | None = _O(
        None, "--visualizer", help="Experiment tracker for the results: wandb | swanlab | mlflow."
    ),
    wandb_api_key: str | None = _O(None, "--wandb-api-key", help="Log the results to W&B with this key."),
    swanlab_api_key: str | None = _O(
        None, "--swanlab-api-key", help="Log the results to SwanLab with this key."
    ),
    outputs_dir: str | None = _O(None, "--outputs-dir", help="Where results go (default ./outputs)."),
    no_timestamp: bool | None = _O(None, "--no-timestamp", help="No timestamp folder level."),
    live: bool | None = _O(None, "--live/--no-live", help="Live view (default: when stdout is a terminal)."),
    report: bool | None = _O(None, "--report/--no-report", help="Write perf_report.html (default: on)."),
    debug: bool | None = _O(None, "--debug", help="Show the test request and its raw reply."),
) -> None:
    """Stress-test a model service: TTFT, TPOT, ITL, latency, throughput, goodput, SLA search."""
    given = {k: v for k, v in locals().items() if v is not None and k != "config"}  # the flags given
    from evalscope.errors import ConfigError

    from evalscope_perf.benchmark import run_perf_benchmark
    from evalscope_perf.config import load_perf_config

    data: dict[str, Any] = {}
    if config is not None:
        from evalscope.config import read_config_file

        data = read_config_file(config)
    if "goodput" in given:
        slos: dict[str, float] = {}
        for item in given["goodput"]:
            key, sep, value = item.partition(":")
            try:
                slos[key.strip()] = float(value)
            except ValueError:
                raise ConfigError(
                    f"--goodput expects KEY:MS pairs, got {item!r}", hint="e.g. --goodput ttft:2000 tpot:50"
                ) from None
            if not sep:
                raise ConfigError(
                    f"--goodput expects KEY:MS pairs, got {item!r}", hint="e.g. --goodput ttft:2000 tpot:50"
                )
        given["goodput"] = slos
    if "runner_args" in given:
        import json

        try:
            given["runner_args"] = json.loads(given["runner_args"])
        except ValueError as exc:
            raise ConfigError(
                f"--runner-args is not JSON: {exc}", hint='e.g. --runner-args \'{"address": "auto"}\''
            ) from None
    if "ray_address" in given:
        given.setdefault("runner", "ray")
        given["runner_args"] = {**given.get("runner_args", {}), "address": given.pop("ray_address")}
    data.update(given)
    cfg = load_perf_config(data)
    try:
        result = run_perf_benchmark(cfg)
    except KeyboardInterrupt:  # a second Ctrl-C: rows already committed stay in benchmark_data.db
        print("\nAborted; results measured so far are in the run's benchmark_data.db.", file=sys.stderr)
        raise typer.Exit(130) from None
    if result.interrupted:
        print(f"Interrupted: partial results saved under {result.output_dir}", file=sys.stderr)
        raise typer.Exit(130)
    if result.runs and all(r.succeeded == 0 for r in result.runs):
        print("Every request failed; see the errors above.", file=sys.stderr)
        raise typer.Exit(1)
    if result.stopped_reason:
        print(f"Stopped: {result.stopped_reason}; results so far under {result.output_dir}", file=sys.stderr)
        raise typer.Exit(1)
