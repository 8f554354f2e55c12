"""The HTML page around the front end, for the server and for the exported file.

One front end (`static/app.css`, `static/js/*.js`, plain scripts, no build step) serves both: the
server links the files; the export inlines them, with a `<meta>` Content-Security-Policy that
allows exactly those inline blocks by their sha256 and nothing from the network. Data always travels
in `<script type="application/json">` blocks (never executed) whose `<` characters are written as
`\\u003c`, so no string in the data — a model's `</script>` included — can close the block.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SCRIPTS", "SERVER_CSP", "STYLES", "export_page", "json_block", "server_page", "static_asset"]

STATIC = Path(__file__).resolve().parent / "static"
STYLES = ("app.css",)
#: Load order: helpers first, `main.js` (the router) last.
SCRIPTS = (
    "js/dom.js",
    "js/i18n.js",
    "js/data.js",
    "js/charts.js",
    "js/table.js",
    "js/samples.js",
    "js/view_overview.js",
    "js/view_run.js",
    "js/view_compare.js",
    "js/view_sample.js",
    "js/view_arena.js",
    "js/view_perf.js",
    "js/main.js",
)
SERVER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def static_asset(name: str) -> tuple[bytes, str] | None:
    """A front-end file by its name in the fixed list (nothing else under static/ is reachable)."""
    if name not in STYLES and name not in SCRIPTS:
        return None
    return _read(name), _TYPES[Path(name).suffix]


def json_block(data: Any, element_id: str) -> str:
    """`data` as a non-executed JSON script element that no string inside can break out of."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c")  # `<` only occurs inside JSON strings, where \u003c means the same
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _head(lang: str, extra: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{extra}<title>EvalScope</title>\n</head>\n"
    )


def server_page(boot: dict[str, Any]) -> bytes:
    links = "".join(f'<link rel="stylesheet" href="/static/{s}">\n' for s in STYLES)
    body = (
        '<body>\n<div id="app"></div>\n'
        + json_block(boot, "boot")
        + "\n"
        + "".join(f'<script src="/static/{s}"></script>\n' for s in SCRIPTS)
        + "</body>\n</html>\n"
    )
    return (_head(str(boot.get("lang", "en")), links) + body).encode("utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def export_page(boot: dict[str, Any], data: Any, blocks: dict[str, Any]) -> str:
    """One self-contained HTML file: inline CSS and JS, the data, and a CSP that allows no network.

    `data` (runs, reports, sample indexes) is parsed at start; each entry of `blocks` (full records
    of one review file) sits in its own JSON block, parsed only when a drill-down needs it.
    """
    css = "\n".join(_read(s).decode("utf-8") for s in STYLES)
    # Each file is its own statement list; a newline between them keeps a missing `;` harmless.
    js = "\n;\n".join(_read(s).decode("utf-8") for s in SCRIPTS)
    csp = (
        f"default-src 'none'; script-src {_sha256(js)}; style-src {_sha256(css)}; img-src data:; "
        "connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    head = f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n<style>{css}</style>\n'
    parts = [_head(str(boot.get("lang", "en")), head), '<body>\n<div id="app"></div>\n']
    parts.append(json_block(boot, "boot") + "\n")
    parts.append(json_block(data, "data") + "\n")
    for key, value in blocks.items():
        parts.append(json_block(value, f"records-{key}") + "\n")
    parts.append(f"<script>{js}</script>\n</body>\n</html>\n")
    return "".join(parts)
