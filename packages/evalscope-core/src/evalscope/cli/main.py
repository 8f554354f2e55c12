"""Entry point of the `evalscope` command.

Why a custom group: `evalscope --help` must stay instant, so no subcommand module is imported
until that subcommand runs. Each command is a `_LazyCommand` placeholder carrying only its name
and one-line help (from `command_table`); invoking it imports the real typer/click command.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer import _click
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from evalscope import __version__
from evalscope.cli.command_table import BUILTIN, CommandEntry, plugin_commands


class _LazyCommand(TyperCommand):
    def __init__(self, entry: CommandEntry) -> None:
        super().__init__(name=entry.name, help=entry.help, short_help=entry.help)
        self._entry = entry
        self._loaded: _click.Command | None = None

    def real(self) -> _click.Command:
        if self._loaded is None:
            import importlib

            module_name, _, attr = self._entry.impl.partition(":")
            obj: Any = getattr(importlib.import_module(module_name), attr)
            self._loaded = obj if isinstance(obj, _click.Command) else typer.main.get_command(obj)
            self._loaded.name = self._entry.name
        return self._loaded

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return self.real().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        return self.real().invoke(ctx)


class LazyGroup(TyperGroup):
    _plugin_table: dict[str, CommandEntry] | None = None

    def _table(self, include_plugins: bool) -> dict[str, CommandEntry]:
        table = dict(BUILTIN)
        if include_plugins:
            if LazyGroup._plugin_table is None:
                LazyGroup._plugin_table = plugin_commands()
            table.update({k: v for k, v in LazyGroup._plugin_table.items() if k not in BUILTIN})
        return table

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(self._table(include_plugins=True))

    def get_command(self, ctx: Any, cmd_name: str) -> _click.Command | None:
        entry = self._table(include_plugins=cmd_name not in BUILTIN).get(cmd_name)
        if entry is not None:
            return _LazyCommand(entry)
        from evalscope.distributions import install_hint, provider_of

        dist = provider_of("command", cmd_name)
        if dist is not None:
            raise UsageError(
                f"`evalscope {cmd_name}` is provided by the {dist} plugin, which is not installed.\n"
                f"  hint: {install_hint(dist)}"
            )
        return None


app = typer.Typer(
    cls=LazyGroup,
    name="evalscope",
    help="EvalScope: evaluate large models on benchmarks, with plugins for every engine.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evalscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """EvalScope: evaluate large models on benchmarks, with plugins for every engine."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; `EvalScopeError`s become a message on stderr and their exit code (2 = bad input)."""
    from evalscope.errors import EvalScopeError
    from evalscope.secrets import redact_message

    try:
        app(args=argv, prog_name="evalscope")
    except EvalScopeError as exc:
        # A server's message may echo the key (a 401 quoting the Authorization header): masked here too.
        print(f"Error: {redact_message(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
