"""The app in a real browser (headless chromium) over run folders the real engines wrote."""

from __future__ import annotations

import csv
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from app_helpers import XSS, App, Runs

pytestmark = pytest.mark.slow


def _open(page: Any, url: str, view: str) -> None:
    page.goto(url)
    page.wait_for_selector(f"body[data-view='{view}'][data-ready='1']")


def _compare_url(app: App, runs: Runs, **filters: str) -> str:
    params = {"r0": runs.ids["alpha"], "m0": "alpha", "r1": runs.ids["beta"], "m1": "beta", **filters}
    return app.url + "#/compare?" + urlencode(params)


def _visible_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#sample-table .vt-row .vt-cell.mono", "els => els.map(e => e.textContent)"
    )


def test_overview_lists_every_run_and_filters_and_sorts(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url, "overview")
    listed = page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)")
    assert set(runs.ids.values()) <= set(listed)
    # The unreadable files are named, and the rest of that run still shows.
    problems = page.inner_text("#problems")
    assert "reports/alpha/gsm8k.json" in problems and "truncated JSON" in problems
    assert "reports/alpha/notes.json" in problems and "not an EvalScope report" in problems
    # Filter, then sort by run name (descending, then ascending).
    page.fill("#runs-filter", "beta")
    assert page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)") == [runs.ids["beta"]]
    page.fill("#runs-filter", "")
    page.click("th[data-key='id']")
    ids = page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)")
    assert ids == sorted(ids, reverse=True)
    page.click("th[data-key='id']")
    ids = page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)")
    assert ids == sorted(ids)
    # The sort and filter are in the URL: a reload keeps them.
    href = page.evaluate("location.href")
    assert "sort=id" in href and "dir=asc" in href
    page.reload()
    page.wait_for_selector("body[data-view='overview'][data-ready='1']")
    assert page.eval_on_selector_all("a.run-link", "els => els.map(e => e.textContent)") == ids


def test_compare_shows_the_known_pass_fail_flip(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url, "overview")
    page.check(f"input[data-run='{runs.ids['alpha']}']")
    page.check(f"input[data-run='{runs.ids['beta']}']")
    page.click("#compare-selected")
    page.wait_for_selector("body[data-view='compare'][data-ready='1']")
    assert page.inner_text("#sample-count") == "4 of 4"
    # Side by side: alpha 2/4 and beta 2/4 on GSM8K.
    table = page.inner_text("#side-by-side table")
    assert table.count("0.5000") == 2
    page.select_option("#f-outcome", "flip")
    assert sorted(_visible_ids(page)) == ["main/1", "main/2"]
    page.select_option("#f-ref", label="reference: alpha")
    page.select_option("#f-outcome", "ref_pass_other_fail")
    assert _visible_ids(page) == [runs.flip["alpha_only"]]
    row = page.locator("#sample-table .vt-row").first
    assert row.locator(".badge.pass").count() == 1 and row.locator(".badge.fail").count() == 1
    page.select_option("#f-ref", label="reference: beta")
    assert _visible_ids(page) == [runs.flip["beta_only"]]
    page.select_option("#f-outcome", "all")
    page.fill("#f-re", "eggs")  # text filter over questions and answers
    assert _visible_ids(page) == ["main/0"]
    page.fill("#f-re", "([")  # an invalid regex is reported, not thrown
    assert "Invalid regular expression" in page.inner_text("#re-error")
    # Deep link: the state survives a reload.
    page.fill("#f-re", "robe|flipping")
    url = page.evaluate("location.href")  # page.url may lag behind history.replaceState
    page.goto("about:blank")
    _open(page, url, "compare")
    assert page.input_value("#f-re") == "robe|flipping"
    assert sorted(_visible_ids(page)) == ["main/1", "main/2"]


def test_drilldown_shows_the_exact_prediction_and_model_output_stays_inert(
    page: Any, app: App, runs: Runs
) -> None:
    _open(page, _compare_url(app, runs), "compare")
    page.locator("#sample-table .vt-row", has_text="main/0").click()
    page.wait_for_selector("body[data-view='sample'][data-ready='1']")
    review = {r["id"]: r for r in runs.review("beta", "beta", "gsm8k")}["main/0"]
    beta = page.locator(".sample-card[data-source='1']")
    assert beta.locator("pre.prediction").inner_text() == review["prediction"]
    assert XSS in review["prediction"]
    assert beta.locator("pre.extracted").inner_text() == review["extracted"]
    assert beta.locator("pre.target").inner_text() == review["target"]
    # The payload is shown as text; nothing of it ran or became an element.
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    # The next sample of the filtered list is one click away.
    page.click("#sample-next")
    page.wait_for_selector("body[data-view='sample'][data-ready='1']")
    assert "main/1" in page.inner_text("h1")
    assert page.evaluate("window.__pwned") is None


def test_judge_verdicts_and_sandbox_output_in_the_drilldown(page: Any, app: App, runs: Runs) -> None:
    url = app.url + "#/sample?" + urlencode({"r0": runs.ids["judged"], "m0": "quizzer", "bench": "simple_qa",
                                             "subset": "default", "id": "default/2"})  # fmt: skip
    _open(page, url, "sample")
    card = page.locator(".sample-card").first
    assert "It is Atlantis." in card.locator("pre.prediction").inner_text()
    judge = card.locator(".judge").inner_text()
    record = runs.review("judged", "quizzer", "simple_qa")[2]
    attempt = record["metadata"]["judge"]["attempts"][0]
    assert attempt["parsed"]["verdict"] in judge and attempt["replies"][0] in judge
    assert "is_incorrect" in card.locator("table.scores").inner_text()

    url = app.url + "#/sample?" + urlencode({"r0": runs.ids["code"], "m0": "coder", "bench": "humaneval",
                                             "subset": "openai_humaneval", "id": "HumanEval/1"})  # fmt: skip
    _open(page, url, "sample")
    sandbox = page.locator(".executions").inner_text()
    (execution,) = runs.review("code", "coder", "humaneval")[1]["metadata"]["executions"]
    assert f"exit {execution['exit_code']}" in sandbox and execution["detail"] in sandbox
    assert "model wrote this" in execution["stderr"] and execution["stderr"].strip() in sandbox


def test_run_view_figures_charts_and_collection_by_tag(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url + "#/run?" + urlencode({"id": runs.ids["alpha"]}), "run")
    headline = page.inner_text("#headline")
    assert "gsm8k" in headline and "0.5000 ± 0.2887" in headline
    assert page.locator("svg.chart.bars rect.bar").count() >= 1
    assert "api_key" not in page.inner_text("#config")

    _open(page, app.url + "#/run?" + urlencode({"id": runs.ids["collection"]}), "run")
    tags = page.inner_text("#collection")
    assert "Collection by tag" in tags and "math" in tags and "mcq" in tags and "en" in tags


def test_arena_leaderboard_and_both_orders_of_a_battle(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url + "#/run?" + urlencode({"id": runs.ids["arena"]}), "run")
    page.click("#open-arena")
    page.wait_for_selector("body[data-view='arena'][data-ready='1']")
    board = page.inner_text("#leaderboard")
    assert "alpha\t100.0%" in board and "beta (baseline)\t50.0%" in board
    assert page.locator("#leaderboard svg.chart.intervals circle").count() == 2
    assert page.inner_text("#battle-count") == "4 of 4"
    page.locator("#battle-table .vt-row").first.click()
    page.wait_for_selector("#battle-detail .orders")
    orders = page.locator("#battle-detail .order")
    assert orders.count() == 2
    first, second = orders.nth(0).inner_text(), orders.nth(1).inner_text()
    assert "A · ALPHA" in first.upper() and "A · BETA" in second.upper()
    # alpha's answers carry a higher quality for the scripted judge: it wins in both orders.
    assert "A>>B (alpha ≫)" in first and "B>>A (alpha ≫)" in second
    # Both answers in each order (alpha's first, then second); beta's XSS reply stays text here too.
    assert first.index("A · ALPHA") < first.index("alpha works it out") < first.index("B · BETA")
    assert second.index("B · ALPHA") < second.index("alpha works it out")
    assert "<img src=x onerror" in first and page.evaluate("window.__pwned") is None


def test_perf_view_tables_and_charts(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url, "overview")
    page.click(f"a.run-link:text-is('{runs.ids['perf']}')")
    page.wait_for_selector("body[data-view='perf'][data-ready='1']")
    summary = page.inner_text("#perf-summary")
    assert "parallel_1_number_4" in summary and "parallel_2_number_4" in summary
    assert page.locator("#sweep-charts svg.chart.lines").count() == 4
    assert "50%" in page.inner_text("table.percentiles")


def test_export_of_the_filtered_samples(page: Any, app: App, runs: Runs) -> None:
    _open(page, _compare_url(app, runs, outcome="flip"), "compare")
    with page.expect_download() as got:
        page.click("#export-jsonl")
    lines = [json.loads(x) for x in open(got.value.path(), encoding="utf-8").read().splitlines()]
    assert sorted((x["model"], x["id"]) for x in lines) == [("alpha", "main/1"), ("alpha", "main/2"),
                                                            ("beta", "main/1"), ("beta", "main/2")]  # fmt: skip
    by = {(x["model"], x["id"]): x for x in lines}
    review = {r["id"]: r for r in runs.review("alpha", "alpha", "gsm8k")}
    assert by[("alpha", "main/1")]["prediction"] == review["main/1"]["prediction"]
    with page.expect_download() as got:
        page.click("#export-csv")
    with open(got.value.path(), encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert sorted((r["model"], r["id"]) for r in table) == sorted(by)
    row = next(r for r in table if (r["model"], r["id"]) == ("alpha", "main/1"))
    assert row["prediction"] == review["main/1"]["prediction"] and row["status"] == "ok"
    assert json.loads(row["scores"]) == {"acc": 1.0}


def test_chinese_page(page: Any, app: App, runs: Runs) -> None:
    _open(page, app.url, "overview")
    page.select_option("header select.lang", "zh")
    page.wait_for_selector("body[data-view='overview'][data-ready='1']")
    assert page.inner_text("h1").startswith("运行")
    assert page.get_attribute("html", "lang") == "zh"


def test_secrets_never_reach_the_page(page: Any, app: App, runs: Runs) -> None:
    from app_helpers import SECRET

    for url in (app.url, app.url + "#/run?" + urlencode({"id": runs.ids["judged"]}),
                app.url + "#/perf?" + urlencode({"id": runs.ids["perf"]})):  # fmt: skip
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        html = page.content()
        assert SECRET not in html and not re.search(r"api_key", page.inner_text("main"))
