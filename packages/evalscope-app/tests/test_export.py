"""`evalscope app --export`: one HTML file that shows the same scores from file:// with no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from app_helpers import SECRET, XSS, App, Runs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "report.html"
    folders = [str(runs.folder(n)) for n in ("alpha", "beta", "judged", "arena", "perf", "broken")]
    res = subprocess.run([sys.executable, "-m", "evalscope.cli.main", "app", "--export", str(out), *folders],
                         capture_output=True, text=True, env=dict(os.environ, OPENAI_API_KEY=SECRET), timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stderr and "6 runs" in res.stderr
    return out


def _offline_page(browser: Any) -> tuple[Any, Any, list[str]]:
    """A page whose context aborts every request that is not file://; the list collects those requests
    and any page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    requested: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            requested.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: requested.append(f"page error: {e}"))
    return context, page, requested


def test_the_file_is_self_contained(exported: Path) -> None:
    html = exported.read_text(encoding="utf-8")
    code = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", code)  # nothing loaded from anywhere
    assert (
        "<script src=" not in code and "<link " not in code and "@import" not in code and "url(" not in code
    )
    assert SECRET not in html
    # Data blocks cannot be closed from inside: every `<` of the data is \u003c.
    for block in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html, flags=re.S):
        assert "<" not in block
        json.loads(block)
    assert XSS not in html and "\\u003cimg src=x onerror" in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp and "connect-src 'none'" in csp.group(1) and "unsafe-inline" not in csp.group(1)


def test_export_renders_the_same_scores_offline(exported: Path, browser: Any, app: App, runs: Runs) -> None:
    context, page, problems = _offline_page(browser)
    try:
        base = exported.as_uri()
        run_url = "#/run?" + urlencode({"id": runs.ids["alpha"]})
        page.goto(base)
        page.wait_for_selector("body[data-view='overview'][data-ready='1']")
        listed = page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)")
        assert sorted(listed) == sorted(
            runs.ids[n] for n in ("alpha", "beta", "judged", "arena", "perf", "broken")
        )
        assert "truncated JSON" in page.inner_text("#problems")
        page.goto(base + run_url)
        page.wait_for_selector("body[data-view='run'][data-ready='1']")
        offline = page.inner_text("#headline")
        # The same view from the server: identical figures.
        served = context.browser.new_page()
        served.goto(app.url + run_url)
        served.wait_for_selector("body[data-view='run'][data-ready='1']")
        assert served.inner_text("#headline") == offline and "0.5000 ± 0.2887" in offline
        served.close()
        # Compare, drill-down and the XSS payload, all from the file.
        compare = base + "#/compare?" + urlencode({"r0": runs.ids["alpha"], "m0": "alpha", "r1": runs.ids["beta"],
                                                   "m1": "beta", "outcome": "ref_pass_other_fail"})  # fmt: skip
        page.goto(compare)
        page.wait_for_selector("body[data-view='compare'][data-ready='1']")
        assert page.inner_text("#sample-count") == "1 of 4"
        sample = base + "#/sample?" + urlencode({"r0": runs.ids["alpha"], "m0": "alpha", "r1": runs.ids["beta"],
                                                 "m1": "beta", "bench": "gsm8k", "subset": "main", "id": "main/0"})  # fmt: skip
        page.goto(sample)
        page.wait_for_selector("body[data-view='sample'][data-ready='1']")
        assert XSS in page.locator(".sample-card[data-source='1'] pre.prediction").inner_text()
        assert page.evaluate("window.__pwned") is None and page.locator("main img").count() == 0
        # Arena and perf views work from the file too.
        page.goto(base + "#/perf?" + urlencode({"id": runs.ids["perf"]}))
        page.wait_for_selector("body[data-view='perf'][data-ready='1']")
        assert "parallel_2_number_4" in page.inner_text("#perf-summary")
        with page.expect_download() as got:
            page.goto(compare)
            page.wait_for_selector("body[data-view='compare'][data-ready='1']")
            page.click("#export-jsonl")
        rows = [json.loads(x) for x in open(got.value.path(), encoding="utf-8").read().splitlines()]
        assert {r["id"] for r in rows} == {"main/1"}
    finally:
        context.close()
    assert problems == []
