"""`evalscope plugins`: installed plugins, versions, what each registers, and load errors."""

from __future__ import annotations

import json

import typer

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show installed plugins, their versions, what each registers, and load errors."""
    from evalscope import registry
    from evalscope.cli.command_table import forget_plugin_commands
    from evalscope.plugins import plugin_infos

    forget_plugin_commands()  # `evalscope plugins` is also how to refresh the `--help` command list

    for kind in registry.KINDS:  # building every registry fills in what each plugin registered
        registry.get_registry(kind)
    infos = plugin_infos()
    if as_json:
        typer.echo(json.dumps([vars(i) for i in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="EvalScope plugins")
    for col in ("Plugin", "Distribution", "Version", "Status", "Registers"):
        table.add_column(col, overflow="fold")
    for info in infos:
        registers = ", ".join(f"{len(v)} {k}{'s' if len(v) != 1 else ''}" for k, v in info.registered.items())
        status = "[red]error[/red]" if info.error else "[green]ok[/green]"
        table.add_row(info.name, info.distribution, info.version, status, registers or "-")
    console = Console(width=140)
    console.print(table)
    for info in infos:
        if info.error:
            console.print(f"[red]{info.name}[/red]: {info.error}", markup=True, highlight=False)
