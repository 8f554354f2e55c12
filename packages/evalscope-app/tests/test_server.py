"""The HTTP server as a client sees it: what it refuses, its headers, and that no secret leaves it."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from app_helpers import SECRET, App, Runs

pytestmark = pytest.mark.slow


def _get(app: App, path: str, headers: dict[str, str] | None = None, method: str = "GET",
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """A raw request: the path goes on the wire exactly as written (no client-side normalisation)."""
    u = urlsplit(app.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", (headers or {}).get("Host", f"{u.hostname}:{u.port}"))
        for k, v in (headers or {}).items():
            if k != "Host":
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/files/..%2f..%2f..%2fetc%2fpasswd",
        "/files/../../../etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files//etc/passwd",
        "/files/escape/passwd",  # a symlink inside --outputs pointing at /etc
        "/files/..%5c..%5cetc%5cpasswd",
        "/files/a%00b",
    ],
)
def test_paths_outside_outputs_are_refused(app: App, runs: Runs, path: str) -> None:
    status, _, body = _get(app, path)
    assert status in (403, 404), (path, status)
    assert b"root:" not in body


@pytest.mark.parametrize(
    "path",
    ["/..%2f..%2fetc%2fpasswd", "/static/..%2f..%2fserver.py", "/static/../server.py", "/static/js/../../cli.py",
     "/api/run?id=..%2F..%2Fetc", "/api/run?id=%2Fetc", "/api/samples?run=..&model=..&bench=passwd",
     "/api/record?run=escape&model=x&bench=passwd&line=0"],
)  # fmt: skip
def test_other_routes_do_not_escape_either(app: App, runs: Runs, path: str) -> None:
    status, _, body = _get(app, path)
    assert status in (403, 404), (path, status)
    assert b"root:" not in body and b"import " not in body


def test_files_under_outputs_are_served_as_text_with_secrets_masked(app: App, runs: Runs) -> None:
    rel = runs.ids["alpha"] + "/logs/eval_log.log"
    status, headers, body = _get(app, "/files/" + quote(rel))
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert "sandbox" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
    status, _, body = _get(app, "/files/" + quote(runs.ids["alpha"] + "/configs/task_config.yaml"))
    assert status == 200 and b"model: alpha" in body and SECRET.encode() not in body
    # Binary files other than images are not served at all.
    db = next((runs.root / runs.ids["perf"]).rglob("benchmark_data.db")).relative_to(runs.root).as_posix()
    assert _get(app, "/files/" + quote(db))[0] == 403


def test_page_headers_and_host_check(app: App) -> None:
    status, headers, body = _get(app, "/")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert b'<script src="/static/js/main.js"></script>' in body
    # DNS rebinding: a page of another site resolving to 127.0.0.1 is refused.
    assert _get(app, "/api/runs", {"Host": "attacker.example:80"})[0] == 403
    # The records route wants JSON (a cross-site form cannot send it without a preflight).
    assert _get(app, "/api/records", {"Content-Type": "text/plain"}, "POST", b'{"items": []}')[0] == 404


def _walk_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for k in value] + [s for v in value.values() for s in _walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _walk_strings(v)]
    return [value] if isinstance(value, str) else []


def test_no_api_response_holds_a_key(app: App, runs: Runs) -> None:
    """Every route, every run, every review file, every record: neither the key nor a secret-named key."""
    status, _, body = _get(app, "/api/runs")
    overview = json.loads(body)
    seen = [body]
    items = []
    for run in overview["runs"]:
        _, _, detail = _get(app, "/api/run?" + urlencode({"id": run["id"]}))
        seen.append(detail)
        for src in run["sources"]:
            if not src.get("reviews"):
                continue
            q = urlencode({"run": run["id"], "model": src["model"], "bench": src["bench"]})
            _, _, cols = _get(app, "/api/samples?" + q)
            seen.append(cols)
            items += [[run["id"], src["model"], src["bench"], i] for i in range(json.loads(cols)["n"])]
        for f in json.loads(detail)["files"]:
            seen.append(_get(app, "/files/" + quote(f))[2])
    status, _, records = _get(app, "/api/records", {"Content-Type": "application/json"}, "POST",
                              json.dumps({"items": items}).encode())  # fmt: skip
    assert status == 200 and len(json.loads(records)) == len(items) and None not in json.loads(records)
    seen.append(records)
    for blob in seen:
        assert SECRET.encode() not in blob
        try:
            data = json.loads(blob)
        except ValueError:
            continue
        assert "api_key" not in {s.lower() for s in _walk_strings(data) if isinstance(s, str)}
    # The planted key was in the config, in the judge's settings, in perf's and in OPENAI_API_KEY.
    assert any(r["config"] for r in overview["runs"])
