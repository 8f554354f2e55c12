"""The HTTP server: the standard library's `ThreadingHTTPServer`, a handful of JSON routes, static files.

Why no web framework: the app serves one user (or a few) on loopback, from memory (`catalog.py`);
what costs time is reading run folders, which a framework does not speed up, and the standard
library starts instantly, adds no dependency and nothing to keep out of `evalscope --help`.

Routes (GET unless said):
    /                          the page (static/index shell, boot settings in a JSON block)
    /static/<name>             the front end: a fixed list of files shipped in the package
    /api/runs                  every run's summary
    /api/run?id=               one run: reports (eval) or perf runs
    /api/samples?run=&model=&bench=           a review file's index columns
    /api/record?run=&model=&bench=&line=      one full record
    POST /api/records          {"items": [[run, model, bench, line], ...]} → full records (export)
    /files/<path under --outputs>             a raw file, as text (secrets masked) or an image

Every response carries a strict Content-Security-Policy (scripts only from this origin, no inline
script, no plugins, no framing), `nosniff` and no-referrer. When bound to loopback, a request whose
`Host` is not a loopback name is refused: a web page cannot reach the app through DNS rebinding.
"""

from __future__ import annotations

import json
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from evalscope_app.catalog import Catalog
from evalscope_app.page import SERVER_CSP, server_page, static_asset
from evalscope_app.safety import redact_text, scrub

__all__ = ["AppServer", "LOOPBACK_NAMES", "is_loopback"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
_TEXT_TYPES = {
    ".json": "application/json",
    ".jsonl": "text/plain",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".yaml": "text/plain",
    ".yml": "text/plain",
    ".md": "text/plain",
    ".csv": "text/plain",
    ".html": "text/plain",
}  # fmt: skip  (an HTML file is shown as its source, never rendered)
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
_MAX_RECORDS = 200_000


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "evalscope-app"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the terminal; errors are answered, not logged

    # ---- plumbing -----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", SERVER_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200) -> None:
        body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json({"error": message}, status)

    def _host_allowed(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return is_loopback(name)

    # ---- routes -------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_allowed():
            return self._error(HTTPStatus.FORBIDDEN, "unknown Host (the app answers loopback names only)")
        parts = urlsplit(self.path)
        raw_path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        catalog = self.server.catalog
        try:
            if raw_path in ("/", "/index.html"):
                return self._send(200, self.server.page, "text/html; charset=utf-8")
            if raw_path.startswith("/static/"):
                asset = static_asset(unquote(raw_path[len("/static/") :]))
                if asset is None:
                    return self._error(HTTPStatus.NOT_FOUND, "no such file")
                return self._send(200, asset[0], asset[1], {"Cache-Control": "no-cache"})
            if raw_path.startswith("/files/"):
                return self._file(unquote(raw_path[len("/files/") :]))
            if raw_path == "/api/runs":
                return self._json(catalog.runs())
            if raw_path == "/api/run":
                detail = catalog.run(query.get("id", ""))
                return self._json(detail) if detail else self._error(HTTPStatus.NOT_FOUND, "no such run")
            if raw_path == "/api/samples":
                body = catalog.samples(query.get("run", ""), query.get("model", ""), query.get("bench", ""))
                return self._json(body) if body else self._error(HTTPStatus.NOT_FOUND, "no such review file")
            if raw_path == "/api/record":
                try:
                    line = int(query.get("line", ""))
                except ValueError:
                    return self._error(HTTPStatus.BAD_REQUEST, "line must be a number")
                got = catalog.records(
                    query.get("run", ""), query.get("model", ""), query.get("bench", ""), [line]
                )
                if not got or got[0] is None:
                    return self._error(HTTPStatus.NOT_FOUND, "no such record")
                return self._json(got[0])
            if raw_path == "/favicon.ico":
                return self._send(204, b"", "image/x-icon")
            return self._error(HTTPStatus.NOT_FOUND, "no such page")
        except (BrokenPipeError, ConnectionResetError):
            return None

    def do_POST(self) -> None:
        if not self._host_allowed():
            return self._error(HTTPStatus.FORBIDDEN, "unknown Host (the app answers loopback names only)")
        # A JSON content type cannot be sent cross-site without a CORS preflight, which we never allow.
        if urlsplit(self.path).path != "/api/records" or not (
            self.headers.get("Content-Type") or ""
        ).startswith("application/json"):
            return self._error(HTTPStatus.NOT_FOUND, "no such endpoint")
        try:
            length = int(self.headers.get("Content-Length") or 0)
            items = json.loads(self.rfile.read(length))["items"]
            if not isinstance(items, list) or len(items) > _MAX_RECORDS:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self._error(HTTPStatus.BAD_REQUEST, 'expected {"items": [[run, model, bench, line], ...]}')
        groups: dict[tuple[str, str, str], list[int]] = {}
        for item in items:
            if isinstance(item, list) and len(item) == 4 and isinstance(item[3], int):
                groups.setdefault((str(item[0]), str(item[1]), str(item[2])), []).append(item[3])
        found: dict[tuple[str, str, str, int], Any] = {}
        for (run, model, bench), lines in groups.items():
            records = self.server.catalog.records(run, model, bench, lines) or [None] * len(lines)
            for line, rec in zip(lines, records, strict=True):
                found[(run, model, bench, line)] = rec
        out = [found.get((str(i[0]), str(i[1]), str(i[2]), i[3])) if isinstance(i, list) and len(i) == 4 else None
               for i in items]  # fmt: skip
        self._json(out)

    def _file(self, rel: str) -> None:
        path = self.server.catalog.file(rel)
        if path is None:
            refused = self.server.catalog.safe.resolve(rel) is None
            return self._error(HTTPStatus.FORBIDDEN if refused else HTTPStatus.NOT_FOUND,
                               "outside --outputs" if refused else "no such file")  # fmt: skip
        suffix = path.suffix.lower()
        headers = {"Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox"}
        if suffix in _IMAGE_TYPES:
            return self._send(200, path.read_bytes(), _IMAGE_TYPES[suffix], headers)
        if suffix not in _TEXT_TYPES:
            return self._error(HTTPStatus.FORBIDDEN, f"{suffix or 'this'} files are not served")
        text = path.read_text(encoding="utf-8", errors="replace")
        if suffix == ".json":
            try:
                text = json.dumps(scrub(json.loads(text)), ensure_ascii=False, indent=2)
            except ValueError:
                text = redact_text(text)
        else:
            text = "".join(redact_text(line) for line in text.splitlines(keepends=True))
        self._send(200, text.encode("utf-8"), f"{_TEXT_TYPES[suffix]}; charset=utf-8", headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    catalog: Catalog
    page: bytes
    loopback_only: bool


class _Server6(_Server):
    address_family = socket.AF_INET6


class AppServer:
    """`evalscope app`'s server: `with AppServer(catalog, "127.0.0.1", 0) as s: s.url` (a free port with 0)."""

    def __init__(self, catalog: Catalog, host: str = "127.0.0.1", port: int = 7860, lang: str = "en") -> None:
        self.catalog = catalog
        self.httpd = (_Server6 if ":" in host else _Server)((host, port), _Handler)
        self.httpd.catalog = catalog
        self.httpd.page = server_page({"lang": lang, "mode": "server"})
        self.httpd.loopback_only = is_loopback(host)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def __enter__(self) -> AppServer:
        self._thread = threading.Thread(target=self.serve_forever, name="evalscope-app", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()
