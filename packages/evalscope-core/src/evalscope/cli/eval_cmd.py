"""`evalscope eval`: EvalScope 1.x's flags, mapped onto one `TaskConfig`.

Flags override values from `--config`; only flags the user actually gave are applied, so a config
file's settings are never clobbered by defaults.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

from evalscope.cli.multivalue import expand_multi_value_args
from evalscope.errors import ConfigError, EvalScopeError
from evalscope.run_context import RunInfo


class _EvalCommand(TyperCommand):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_multi_value_args(args, {"--datasets", "--reporters"}))


app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


def parse_mapping(value: str | None, flag: str) -> dict[str, Any] | None:
    """JSON object, or EvalScope's `k=v,k=v` shorthand (values parsed as JSON where they can be)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{flag} is not valid JSON: {exc.msg} at column {exc.colno}: {text!r}",
                hint=f"quote the whole value in single quotes, e.g. {flag} '{{\"key\": 1}}'",
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{flag} must be a JSON object, got {type(data).__name__}.")
        return data
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, eq, raw = part.partition("=")
        if not eq or not key:
            raise ConfigError(
                f"{flag} expects JSON or key=value pairs separated by commas; cannot read {part!r}.",
                hint=f"e.g. {flag} 'temperature=0.5,max_tokens=512' or {flag} '{{\"temperature\": 0.5}}'",
            )
        literal = {"True": True, "False": False, "None": None}  # Python spellings EvalScope users type
        try:
            out[key.strip()] = literal[raw.strip()] if raw.strip() in literal else json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


@app.command(cls=_EvalCommand, context_settings={"help_option_names": ["-h", "--help"]})
def command(
    config: Path | None = typer.Option(None, "--config", help="YAML or JSON file with TaskConfig fields."),
    model: str | None = typer.Option(None, "--model", help="Model name (API), hub id or path, or mock_llm."),
    model_id: str | None = typer.Option(None, "--model-id", help="Display name for reports."),
    model_args: str | None = typer.Option(None, "--model-args", help="JSON or k=v,k=v for the model."),
    eval_type: str | None = typer.Option(None, "--eval-type", help="service | checkpoint | mock_llm."),
    api_url: str | None = typer.Option(
        None, "--api-url", help="OpenAI-compatible base URL, e.g. http://host/v1."
    ),
    api_key: str | None = typer.Option(None, "--api-key", help="API key (never written to disk or logs)."),
    datasets: list[str] | None = typer.Option(None, "--datasets", help="Benchmarks: --datasets gsm8k arc."),
    dataset_args: str | None = typer.Option(
        None, "--dataset-args", help='JSON: {"gsm8k": {"few_shot_num": 0}}.'
    ),
    dataset_hub: str | None = typer.Option(None, "--dataset-hub", help="huggingface | modelscope."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Local datasets root (env EVALSCOPE_DATA_DIR)."
    ),
    offline: bool | None = typer.Option(None, "--offline/--online", help="Never use the network."),
    generation_config: str | None = typer.Option(None, "--generation-config", help="JSON or k=v,k=v."),
    limit: float | None = typer.Option(None, "--limit", help="Samples per subset (or a fraction < 1)."),
    eval_batch_size: int | None = typer.Option(None, "--eval-batch-size", help="Concurrent requests."),
    work_dir: Path | None = typer.Option(None, "--work-dir", help="Where run folders are created."),
    use_cache: Path | None = typer.Option(None, "--use-cache", help="Run folder to resume / reuse."),
    rerun_review: bool | None = typer.Option(
        None, "--rerun-review", help="Re-score cached predictions only."
    ),
    seed: int | None = typer.Option(None, "--seed"),
    timeout: float | None = typer.Option(None, "--timeout", help="Per-request timeout (s)."),
    test_connection: bool | None = typer.Option(
        None,
        "--test-connection/--no-test-connection",
        help="Check the service answers before the run (default: on).",
    ),
    stream: bool | None = typer.Option(None, "--stream", help="Stream responses from the API."),
    ignore_errors: bool | None = typer.Option(None, "--ignore-errors", help="Exit 0 even if samples failed."),
    debug: bool | None = typer.Option(None, "--debug", help="Verbose logs."),
    backend: str | None = typer.Option(None, "--backend", "--eval-backend", help="Engine (default: native)."),
    eval_config: str | None = typer.Option(
        None, "--eval-config", help="Backend config: a file path or JSON."
    ),
    runner: str | None = typer.Option(
        None,
        "--runner",
        help="Where the work runs: local (default) or ray (packages/evalscope-ray of this repository).",
    ),
    runner_args: str | None = typer.Option(
        None, "--runner-args", help='The runner\'s settings as JSON or k=v: {"shard_size": 50}.'
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster: auto | host:6379 | ray://host:10001 (implies --runner ray)."
    ),
    reporters: list[str] | None = typer.Option(
        None, "--reporters", help="Reporters to run (default: table)."
    ),
    judge: str | None = typer.Option(
        None, "--judge", help="LLM judge as JSON: strategy, models, contract, repeats, position_swap, ..."
    ),
    judge_strategy: str | None = typer.Option(
        None, "--judge-strategy", help="auto | rule | llm | llm_recall (EvalScope 1.x)."
    ),
    judge_model_args: str | None = typer.Option(
        None,
        "--judge-model-args",
        help="The judge model as JSON: model_id, api_url, api_key, ... (EvalScope 1.x).",
    ),
    judge_worker_num: int | None = typer.Option(
        None, "--judge-worker-num", help="Concurrent judge requests (default: --eval-batch-size)."
    ),
) -> None:
    """Evaluate a model on benchmarks."""
    from evalscope.config import read_config_file, validate_config
    from evalscope.run import run_task

    data: dict[str, Any] = read_config_file(config) if config is not None else {}
    given: dict[str, Any] = {
        "model": model,
        "model_id": model_id,
        "model_args": parse_mapping(model_args, "--model-args"),
        "eval_type": eval_type,
        "api_url": api_url,
        "api_key": api_key,
        "datasets": datasets or None,
        "dataset_args": parse_mapping(dataset_args, "--dataset-args"),
        "dataset_hub": dataset_hub,
        "data_dir": data_dir,
        "offline": offline,
        "generation_config": parse_mapping(generation_config, "--generation-config"),
        "limit": limit,
        "eval_batch_size": eval_batch_size,
        "work_dir": work_dir,
        "use_cache": use_cache,
        "rerun_review": rerun_review,
        "seed": seed,
        "timeout": timeout,
        "test_connection": test_connection,
        "stream": stream,
        "ignore_errors": ignore_errors,
        "debug": debug,
        "backend": backend,
        "runner": runner or ("ray" if ray_address is not None else None),
        "runner_args": parse_mapping(runner_args, "--runner-args"),
        "reporters": reporters or None,
        "judge": parse_mapping(judge, "--judge"),
        "judge_strategy": judge_strategy,
        "judge_model_args": parse_mapping(judge_model_args, "--judge-model-args"),
        "judge_worker_num": judge_worker_num,
    }
    if ray_address is not None:
        given["runner_args"] = {**(given["runner_args"] or {}), "address": ray_address}
    if eval_config is not None:
        given["eval_config"] = (
            parse_mapping(eval_config, "--eval-config")
            if eval_config.strip().startswith("{")
            else eval_config
        )
    for key, value in given.items():
        if value is None:
            continue
        if key in ("dataset_args", "generation_config", "model_args", "judge", "runner_args") and isinstance(
            data.get(key), dict
        ):
            # flags refine the file's settings instead of replacing the whole mapping
            merged = dict(data[key])
            for sub, sub_value in value.items():
                if isinstance(merged.get(sub), dict) and isinstance(sub_value, dict):
                    merged[sub] = {**merged[sub], **sub_value}
                else:
                    merged[sub] = sub_value
            value = merged
        data[key] = value
    task = validate_config(data, source="command line" if config is None else f"{config} + command line")
    started: list[RunInfo] = []

    def announce(run: RunInfo) -> None:
        started.append(run)
        _say(f"run folder: {run.run_dir}")

    try:
        reports = run_task(task, on_start=announce)
    except KeyboardInterrupt:
        if started:
            _say(f"interrupted; the answers received so far are kept in {started[0].run_dir}")
            _say(f"resume with: {resume_command(sys.argv[1:], started[0].run_dir)}")
        else:
            _say("interrupted before the run started; nothing was written")
        raise typer.Exit(130) from None
    except EvalScopeError:
        if started:
            _say(f"the run stopped; what it received is kept in {started[0].run_dir}")
            _say(f"resume with: {resume_command(sys.argv[1:], started[0].run_dir)}")
        raise
    failed = sum(r.num_errors for r in reports.values())
    _remember_prestarts()
    if started:
        _say(f"results in {started[0].run_dir} (reports/, reviews/, predictions/, logs/)")
    if failed and not task.ignore_errors:
        print(f"{failed} sample(s) failed; exit code 1 (pass --ignore-errors to exit 0).", file=sys.stderr)
        raise typer.Exit(1)


def _remember_prestarts() -> None:
    """Fill the cached prestart table for the next run when it is missing or stale (the registry is
    loaded by now, so this costs little; see `evalscope.cli.boot`). Never fails the run."""
    try:
        from evalscope.cli.command_table import prestarts

        prestarts(refresh=True)
    except Exception:  # noqa: BLE001 - an optimisation only
        pass


def _say(text: str) -> None:
    print(f"evalscope: {text}", file=sys.stderr, flush=True)


def resume_command(argv: list[str], run_dir: Path) -> str:
    """The command line that resumes this run: the same flags, `--use-cache <run folder>`, keys masked.

    The user's own `--use-cache` is replaced (it may name another folder); the API key is shown as
    `***` (the terminal may be logged) and must be given again, or set in OPENAI_API_KEY.
    """
    import shlex

    from evalscope.secrets import redact_message

    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--use-cache":
            skip = True
            continue
        if arg.startswith("--use-cache="):
            continue
        out.append(arg)
    words = ["evalscope", *out, "--use-cache", str(run_dir)]
    command = shlex.join(redact_message(w) for w in words)  # masked first, so '***' is quoted for the shell
    if "***" in command:
        command += "   (put your key back where *** stands, or export OPENAI_API_KEY and drop --api-key)"
    return command
