"""`evalscope list`: what the installed plugins provide, filterable by plugin and tag."""

from __future__ import annotations

import json

import typer

from evalscope.errors import UnknownNameError

KINDS = {
    "benchmarks": "benchmark",
    "models": "model",
    "scorers": "scorer",
    "metrics": "metric",
    "backends": "backend",
    "reporters": "reporter",
    "runners": "runner",
    "commands": "command",
}

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def command(
    what: str = typer.Argument(
        "benchmarks",
        help="benchmarks | models | scorers | metrics | backends | reporters | runners | commands",
    ),
    plugin: str | None = typer.Option(None, "--plugin", help="Only what this plugin registers."),
    tag: str | None = typer.Option(None, "--tag", help="Only entries with this tag."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    backend: str | None = typer.Option(
        None, "--backend", help="List the datasets this backend offers (e.g. opencompass)."
    ),
) -> None:
    """List benchmarks, models, scorers, metrics, backends, reporters, runners or commands.

    `metrics` shows the scoring seam whole: the scorers (per sample) and the metrics (aggregates).
    """
    from evalscope import registry
    from evalscope.specs import ScorerSpec

    if backend is not None:
        _list_backend_datasets(backend, as_json)
        return
    kind = KINDS.get(what) or KINDS.get(what + "s")
    if kind is None:
        raise UnknownNameError("list", what, KINDS)
    specs = registry.get_registry(kind).all()
    if kind == "metric":  # one seam, two halves: what judges a sample, and what aggregates samples
        specs = [*registry.scorers().all(), *specs]
    if plugin:
        specs = [s for s in specs if s.plugin == plugin]
    if tag:
        specs = [s for s in specs if tag in s.tags]
    if as_json:
        typer.echo(
            json.dumps(
                [s.model_dump(mode="json") | {"canonical_name": s.canonical_name} for s in specs], indent=2
            )
        )
        return
    if not specs:
        typer.echo(f"No {what} found." + (" (filters: plugin/tag)" if plugin or tag else ""))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(specs)} {what}")
    table.add_column("Name")
    table.add_column("Plugin")
    if kind == "benchmark":
        table.add_column("Subsets", justify="right")
        table.add_column("Samples", justify="right")
        table.add_column("Version")
    if kind in ("metric", "scorer"):
        table.add_column("Kind")
        table.add_column("Values")
    table.add_column("Tags")
    table.add_column("Description", overflow="fold")
    for s in sorted(specs, key=lambda s: s.canonical_name):
        row = [s.canonical_name, s.plugin]
        if kind == "benchmark":
            counts = s.sample_counts
            row += [str(len(s.subsets)), str(sum(counts.values())) if counts else "?", s.version]
        if kind in ("metric", "scorer"):
            is_scorer = isinstance(s, ScorerSpec)
            row += [f"scorer ({s.kind})" if is_scorer else "metric", ", ".join(getattr(s, "values", ()))]
        row += [", ".join(s.tags), (s.description or "").strip().splitlines()[0] if s.description else ""]
        table.add_row(*(escape(cell) for cell in row))  # "[local]" in a description is text, not markup
    Console(width=140).print(table)


def _list_backend_datasets(name: str, as_json: bool) -> None:
    """Ask the backend for its catalogue; backends without one evaluate our registered benchmarks."""
    from evalscope import registry

    spec = registry.backends().resolve(name)
    backend = registry.load_impl(spec)()
    lister = getattr(backend, "list_datasets", None)
    if lister is None:
        rows = [
            {"name": s.canonical_name, "description": (s.description or "").strip().split("\n")[0]}
            for s in registry.benchmarks().all()
        ]
    else:
        rows = list(lister())
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(rows)} datasets of backend {spec.canonical_name}")
    table.add_column("Name")
    table.add_column("Description", overflow="fold")
    for row in sorted(rows, key=lambda r: r["name"]):
        table.add_row(escape(row["name"]), escape(row.get("description", "")))
    Console(width=140).print(table)
