"""Take the screenshots of docs/app.md: every view of `evalscope app` over runs the real engines write.

    .venv/bin/python scripts/app_screenshots.py            # writes docs/app/*.png

The run folders are the ones the app's tests use (`packages/evalscope-app/tests/app_helpers.py`:
two scripted models on GSM8K, a judged SimpleQA run, HumanEval in the sandbox, an arena, a
collection, a perf sweep), served by a real `evalscope app` and shot with the system chromium.
Each PNG is cut to its first screen and reduced to a 64-colour palette, so the files stay small.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages" / "evalscope-app" / "tests"))

from app_helpers import CHROMIUM, DATA_DIR, make_runs, start_app, stop_app  # noqa: E402

OUT = ROOT / "docs" / "app"


def _save(png: bytes, path: Path) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def main() -> int:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("EVALSCOPE_DATA_DIR", str(DATA_DIR))
    with tempfile.TemporaryDirectory(prefix="app-shots-") as tmp:
        os.environ["EVALSCOPE_CACHE_DIR"] = str(Path(tmp) / "cache")
        runs = make_runs(Path(tmp) / "outputs")
        app = start_app("--outputs", str(runs.root))
        pair = {"r0": runs.ids["alpha"], "m0": "alpha", "r1": runs.ids["beta"], "m1": "beta"}
        judged = {
            "r0": runs.ids["judged"],
            "m0": "quizzer",
            "bench": "simple_qa",
            "subset": "default",
            "id": "default/2",
        }
        arena = {"run": runs.ids["arena"], "model": "Arena", "bench": "general_arena", "battle": "1"}
        views = {
            "overview": "#/",
            "run": "#/run?" + urlencode({"id": runs.ids["alpha"]}),
            "compare": "#/compare?" + urlencode(pair),
            "compare-flips": "#/compare?" + urlencode({**pair, "outcome": "flip"}) + "&scroll=samples",
            "sample": "#/sample?" + urlencode({**pair, "bench": "gsm8k", "subset": "main", "id": "main/0"}),
            "judge": "#/sample?" + urlencode(judged),
            "arena": "#/arena?" + urlencode(arena),
            "collection": "#/run?" + urlencode({"id": runs.ids["collection"]}) + "&scroll=collection",
            "perf": "#/perf?" + urlencode({"id": runs.ids["perf"]}),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM))
                page = browser.new_page(viewport={"width": 1200, "height": 760})
                for name, route in views.items():
                    target, _, scroll = route.partition("&scroll=")
                    page.goto(app.url + target)
                    page.wait_for_selector("body[data-ready='1']")
                    if scroll:
                        page.locator(f"#{scroll}").scroll_into_view_if_needed()
                        page.evaluate(f"document.getElementById('{scroll}').scrollIntoView()")
                    _save(page.screenshot(), OUT / f"{name}.png")
                browser.close()
        finally:
            stop_app(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
