"""The app plugin's hooks: only the `app` command, imported when invoked."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import CommandSpec


@hookimpl
def evalscope_register_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="app",
            impl="evalscope_app.cli:app",
            help="See, compare and share results in a browser (or export one HTML file).",
            description="Serve the run folders under --outputs, or write them to one self-contained HTML file.",
        )
    ]
