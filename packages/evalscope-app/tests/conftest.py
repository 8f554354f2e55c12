"""Run folders made by the real engines, one `evalscope app` server over them, one headless chromium.

Everything is session-scoped: the engines run once (gsm8k for two scripted models with a known
pass/fail flip and an XSS payload in one reply, a judged SimpleQA run, a HumanEval run through the
sandbox, an arena over the two gsm8k runs, a collection, and an `evalscope perf` sweep), then one
`evalscope app` process serves them and one browser is shared by every test (a new context per test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from app_helpers import CHROMIUM, DATA_DIR, SECRET, App, Runs, make_runs, start_app, stop_app


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    if not (DATA_DIR / "gsm8k").is_dir():
        pytest.fail(f"real benchmark data not found at {DATA_DIR}; set EVALSCOPE_DATA_DIR")
    base = tmp_path_factory.mktemp("app")
    old = {k: os.environ.get(k) for k in ("EVALSCOPE_CACHE_DIR", "EVALSCOPE_DATA_DIR")}
    os.environ["EVALSCOPE_CACHE_DIR"] = str(base / "cache")
    os.environ["EVALSCOPE_DATA_DIR"] = str(DATA_DIR)
    try:
        yield make_runs(base / "outputs")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def app(runs: Runs) -> Iterator[App]:
    server = start_app("--outputs", str(runs.root), env=dict(os.environ, OPENAI_API_KEY=SECRET))
    try:
        yield server
    finally:
        stop_app(server)


class _Chromium:
    """One headless chromium, started on first use and closed when the run leaves this folder.

    Playwright's sync API keeps an event loop running in this thread while it is open, so every
    `asyncio.run` after it fails -- the engines' runs of this folder (`runs` starts them first) and
    the later tests (here, and Ray's and tracking's) that run the engine in this process. A session
    fixture would hold it to the end of the session; `pytest_runtest_teardown` below closes it as soon
    as the next test does not use it (a later test that does starts it again).
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail(f"{CHROMIUM} is missing: run ./scripts/install.sh (it installs Debian's chromium) "
                            "or `apt-get install -y chromium`")  # fmt: skip
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = None


_CHROMIUM = _Chromium()


@pytest.fixture
def browser(runs: Runs) -> Any:
    """The shared chromium (it needs `runs` first: see `_Chromium`)."""
    return _CHROMIUM.get()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)  # the test's own fixtures (its page and context) are torn down first
    finally:
        if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
            _CHROMIUM.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context and page; page errors fail the test (a broken view must not pass quietly)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], f"errors in the page: {errors}"
