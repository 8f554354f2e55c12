"""`evalscope app`: serve the run folders under `--outputs` in a browser, or export them to one HTML file.

    evalscope app --outputs ./outputs [--server-name 127.0.0.1] [--server-port 7860] [--lang en|zh]
    evalscope app --export report.html [RUN_FOLDER ...]

EvalScope's flags. Only typer is imported at module level; the server and the index are imported
when the command runs. An `--outputs` folder that does not exist exits with code 2; one that holds
no run yet is served anyway (the page says so and lists runs as they appear), while an export of
no run exits with code 2, since an empty file helps no one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from evalscope_app.catalog import Catalog

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

LANGS = ("en", "zh")


def _fail(message: str, hint: str | None = None) -> NoReturn:
    from evalscope.errors import UsageError

    raise UsageError(message, hint)


def _say(message: str) -> None:
    print(f"evalscope app: {message}", file=sys.stderr, flush=True)


@app.command()
def command(
    runs: list[Path] | None = typer.Argument(
        None,
        metavar="RUN_FOLDER",
        help="Run folders (or trees of them) to show or export instead of everything under --outputs.",
    ),
    outputs: Path = typer.Option(Path("./outputs"), "--outputs", help="Folder tree holding the run folders."),
    server_name: str = typer.Option(
        "127.0.0.1", "--server-name", help="Address to bind (loopback by default; the app has no login)."
    ),
    server_port: int = typer.Option(7860, "--server-port", help="Port to listen on (0: any free port)."),
    lang: str = typer.Option("en", "--lang", help="Language of the page: en or zh."),
    export: Path | None = typer.Option(
        None, "--export", help="Write one self-contained HTML file (opens from file://, no network) and exit."
    ),
    no_samples: bool = typer.Option(
        False,
        "--no-samples",
        help="Export: leave out the full per-sample records (smaller file, no drill-down).",
    ),
) -> None:
    """See, compare and share results: runs overview, one run, compare, samples, arena, perf."""
    from evalscope_app.catalog import Catalog
    from evalscope_app.safety import register_environment_secrets

    if lang not in LANGS:
        _fail(f"--lang {lang!r}: expected one of {', '.join(LANGS)}.")
    register_environment_secrets()
    folders = [p.expanduser() for p in (runs or [])]
    for folder in folders:
        if not folder.is_dir():
            _fail(
                f"{folder}: no such folder.", hint="pass run folders (outputs/<timestamp>) or --outputs DIR"
            )
    if folders:
        # Ids are paths under the folders' common parent, so even a lone run keeps its folder name.
        root = Path(os.path.commonpath([str(f.resolve().parent) for f in folders]))
        catalog = Catalog(root, only=folders)
    else:
        outputs = outputs.expanduser()
        if not outputs.is_dir():
            _fail(f"--outputs {outputs}: no such folder.",
                  hint="pass the --work-dir of your runs, e.g. --outputs ./outputs")  # fmt: skip
        catalog = Catalog(outputs)
    if export is not None:
        _export(catalog, export, lang, not no_samples)
        return
    _serve(catalog, server_name, server_port, lang)


def _export(catalog: Catalog, path: Path, lang: str, samples: bool) -> None:
    from evalscope_app.export import build_export, write_export

    if not catalog.discover():
        _fail(f"no run folders under {catalog.safe.root}: nothing to export.",
              hint="run `evalscope eval ... --work-dir DIR` first, then --outputs DIR")  # fmt: skip
    html, stats = build_export(catalog, lang=lang, samples=samples)
    write_export(path, html)
    size = len(html.encode("utf-8")) / 1e6
    _say(f"wrote {path} ({stats['runs']} runs, {stats['records']} samples, {size:.1f} MB)")


def _serve(catalog: Catalog, host: str, port: int, lang: str) -> None:
    import threading

    from evalscope_app.server import AppServer, is_loopback

    try:
        server = AppServer(catalog, host, port, lang)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}.",
              hint="pass another --server-port (0 picks a free one)")  # fmt: skip
    if not is_loopback(host):
        _say(f"warning: --server-name {host} makes every result under {catalog.safe.root} readable by anyone "
             "who can reach this machine; the app has no login. Use 127.0.0.1 unless you mean it.")  # fmt: skip
    overview = catalog.runs()  # summaries now, so the first page is quick
    problems = sum(len(r["problems"]) for r in overview["runs"])
    if overview["runs"]:
        _say(f"{len(overview['runs'])} runs under {catalog.safe.root}"
             + (f" ({problems} unreadable files: the page lists them)" if problems else ""))  # fmt: skip
    else:
        _say(f"no runs under {catalog.safe.root} yet; the page says so and lists runs as they appear")
    # Review files are indexed in the background, so opening a run's samples is quick as well.
    threading.Thread(target=catalog.warm, name="evalscope-app-warm", daemon=True).start()
    _say(f"serving at {server.url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        _say("stopped")
    finally:
        server.httpd.server_close()
