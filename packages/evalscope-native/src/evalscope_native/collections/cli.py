"""`evalscope collection`: sample a collection schema into a mixed JSONL file, or show its members.

    evalscope collection sample --schema s.json --count 1000 --seed 42 --out mix.jsonl
    evalscope collection show --schema s.json

Registered by the native plugin (`CommandSpec(name="collection")`) and imported only when invoked;
the samplers are the core's (`evalscope.collections`), the members' samples come from this
engine's benchmarks and local data (`--data-dir`, default `EVALSCOPE_DATA_DIR`). Bad input — an
unreadable schema, a bad weight, an unknown benchmark — exits 2 before anything is written, and the
file is written whole or not at all.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

app = typer.Typer(
    name="collection",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SAMPLERS = ("weighted", "uniform", "stratified")


@app.callback()
def _group() -> None:
    """Weighted collections: mix samples of several benchmarks into one evaluation set."""


@app.command("sample")
def sample(
    schema: Path = typer.Option(
        ..., "--schema", help="Collection schema JSON (EvalScope's CollectionSchema)."
    ),
    count: int = typer.Option(..., "--count", "-n", help="Number of samples in the mix."),
    out: Path = typer.Option(..., "--out", "-o", help="Mixed JSONL file to write."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same schema and data: byte-identical file."),
    sampler: str = typer.Option("weighted", "--sampler", help="weighted | uniform | stratified."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Local datasets root (default: env EVALSCOPE_DATA_DIR)."
    ),
) -> None:
    """Draw COUNT samples from the schema's members into OUT (evaluate it with --datasets data_collection)."""
    from evalscope.collections import (
        CollectionSchema,
        StratifiedSampler,
        UniformSampler,
        WeightedSampler,
        dump_jsonl_data,
    )
    from evalscope.errors import ConfigError, closest

    from evalscope_native.collections.members import NativeMemberLoader

    kinds = {"weighted": WeightedSampler, "uniform": UniformSampler, "stratified": StratifiedSampler}
    if sampler not in kinds:
        near = closest(sampler, SAMPLERS)
        raise ConfigError(
            f"Unknown sampler {sampler!r}." + (f" Did you mean {near[0]!r}?" if near else ""),
            hint=f"--sampler {' | '.join(SAMPLERS)}",
        )
    if data_dir is not None and not data_dir.is_dir():
        raise ConfigError(
            f"--data-dir {data_dir} is not a folder.",
            hint="name the folder holding <benchmark>/<subset>/<split>.jsonl (or set EVALSCOPE_DATA_DIR)",
        )
    collection = CollectionSchema.from_json(schema)
    with _warnings_to_stderr():
        chosen = kinds[sampler](collection, seed=seed, loader=NativeMemberLoader(data_dir))
        records = chosen.sample(count)
    try:
        dump_jsonl_data(records, out)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write {out}: {exc.strerror or exc}.", hint="pass --out with a writable path"
        ) from None
    typer.echo(f"wrote {len(records)} samples to {out} ({sampler} sampler, seed {seed})")
    width = max([len(a.name) for a in chosen.allocation] + [6])
    typer.echo(f"  {'member':<{width}}  {'path':<24} {'available':>9} {'share':>9} {'count':>6}")
    for a in chosen.allocation:
        path = "/".join(a.hierarchy)
        typer.echo(f"  {a.name:<{width}}  {path:<24} {a.available:>9} {a.quota:>9.2f} {a.count:>6}")
    typer.echo(
        f"evaluate: evalscope eval --model ... --datasets data_collection "
        f'--dataset-args \'{{"data_collection": {{"local_path": "{out}"}}}}\''
    )


@app.command("show")
def show(
    schema: Path = typer.Option(..., "--schema", help="Collection schema JSON."),
) -> None:
    """The schema's members, flattened: normalised weight, path, task type, tags and args."""
    from evalscope.collections import CollectionSchema

    infos = CollectionSchema.from_json(schema).flatten()
    width = max([len(i.name) for i in infos] + [6])
    typer.echo(f"  {'member':<{width}}  {'weight':>8}  {'path':<24} {'task_type':<12} tags / args")
    for info in infos:
        extra = ", ".join(info.tags) + (f"  {json.dumps(info.args, ensure_ascii=False)}" if info.args else "")
        typer.echo(
            f"  {info.name:<{width}}  {info.weight:>8.4f}  {'/'.join(info.hierarchy):<24} {info.task_type:<12} {extra}"
        )


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """The samplers' warnings (a member short of its share) shown while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("evalscope").addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger("evalscope").removeHandler(handler)
