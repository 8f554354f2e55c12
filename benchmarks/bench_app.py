"""`evalscope app` on a 100,000-sample run: first render, filter and page-change times, JS heap.

    .venv/bin/python benchmarks/bench_app.py                  # 4 models x 25,000 samples (~1 min)
    .venv/bin/python benchmarks/bench_app.py --samples 20000  # a quicker look
    .venv/bin/python benchmarks/bench_app.py --strict         # exit 1 when a goal is missed

It writes one run folder directly in our schemas (`SampleRecord` lines in `reviews/`, a `Report` from
`build_report` in `reports/`): several models answering the same five benchmarks (GSM8K-, ARC-,
MMLU-, SimpleQA- and HumanEval-shaped samples with templates, few-shot-like prompts, judge attempts
and sandbox runs in the metadata), each model right with its own probability. Then it starts
`evalscope app` on it (a real process, port 0), drives the system chromium headless with Playwright,
and measures inside the page (`performance.now()` until two animation frames after the change, i.e.
painted): the overview's first render, opening the run, opening the compare view of all models
(every review file loaded and aligned), each filter (regex, outcome, benchmark, score range, tag),
page changes, a drill-down, and the JS heap (`Runtime.getHeapUsage` over the DevTools protocol)
before and after a garbage collection. The server's index build is timed in this process too.

Goals (issue 17): first render <= 2 s, a filter or a page change <= 200 ms, JS heap <= 500 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Figure, summary  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BENCHES: dict[str, list[str]] = {
    "gsm8k": ["main"],
    "arc": ["ARC-Easy", "ARC-Challenge"],
    "mmlu": ["anatomy", "astronomy", "college_physics", "econometrics", "virology"],
    "simple_qa": ["default"],
    "humaneval": ["openai_humaneval"],
}
WORDS = ("apple river stone cloud engine market garden silver number planet violin border "
         "candle forest ladder mirror orbit pepper quartz rocket signal timber valley window").split()  # fmt: skip
MCQ_TEMPLATE = ("Answer the following multiple choice question. The entire content of your response should be of "
                "the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D.\n\n")  # fmt: skip


def _u(*parts: Any) -> float:
    """A deterministic uniform number in [0, 1) from the parts (same run, same folder)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _words(seed: int, n: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13 + (seed >> 3)) % len(WORDS)] for i in range(n))


def _record(bench: str, subset: str, i: int, model: str, skill: float) -> Any:
    from evalscope.report import SampleRecord

    right = _u(model, bench, subset, i) < skill
    q = f"Question {bench}-{subset}-{i}: {_words(i, 14)}?"
    meta: dict[str, Any] = {}
    scores = {"acc": 1.0 if right else 0.0}
    target: str | list[str]
    if bench in ("arc", "mmlu"):
        choices = [_words(i + k, 3) for k in range(4)]
        target = "ABCD"[i % 4]
        answer = target if right else "ABCD"[(i + 1) % 4]
        content = MCQ_TEMPLATE + q + "\n\n" + "\n".join(f"{'ABCD'[k]}) {c}" for k, c in enumerate(choices))
        prediction = f"Let me think about {_words(i + 3, 30)}. So the answer is clear.\nANSWER: {answer}"
        extracted = answer
    elif bench == "gsm8k":
        target = str(i % 997)
        answer = target if right else str(i % 997 + 7)
        content = q + "\nPlease reason step by step, and put your final answer within \\boxed{}."
        prediction = f"Step by step: {_words(i + 5, 40)}. The total is \\boxed{{{answer}}}."
        extracted, choices = answer, None
    elif bench == "simple_qa":
        target, choices = f"City{i}", None
        answer = target if right else "Atlantis"
        content = "Answer the question:\n\n" + q
        prediction, extracted = f"It is {answer}.", f"It is {answer}."
        verdict = "A" if right else "B"
        scores = {"is_correct": float(right), "is_incorrect": float(not right), "is_not_attempted": 0.0}
        meta["judge"] = {"attempts": [{"judge": "judge", "repeat": 0, "placement": "original",
                                       "replies": [json.dumps({"reasoning": f"gold {target}", "verdict": verdict})],
                                       "parsed": {"reasoning": f"gold {target}", "verdict": verdict},
                                       "values": scores, "error": None}], "failures": {}, "valid_judges": 1}  # fmt: skip
    else:  # humaneval
        target, choices = f"    return {_words(i, 2).replace(' ', '_')}\n", None
        content = f"Read the following function signature and docstring.\ndef f_{i}(x):\n    '''{_words(i, 20)}'''\n"
        prediction = f"```python\ndef f_{i}(x):\n    return {'x' if right else 'None'}\n```"
        extracted = prediction.strip("`").removeprefix("python\n")
        meta["executions"] = [{"status": "passed" if right else "failed", "exit_code": 0 if right else 1,
                               "detail": "ok" if right else "AssertionError", "stderr": "" if right else "Traceback ...",
                               "wall_s": 0.05, "isolation": "bwrap", "cached": False}]  # fmt: skip
    return SampleRecord(
        benchmark=bench,
        subset=subset,
        index=i,
        id=f"{subset}/{i}",
        cache_key=hashlib.sha256(f"{model}{bench}{i}".encode()).hexdigest(),
        input=[{"role": "user", "content": content}],
        target=target,
        choices=choices,
        prediction=prediction,
        predictions=[prediction],
        reasoning=f"Thinking about {_words(i, 12)}." if model.endswith("d") else None,
        extracted=extracted,
        scores=scores,
        attempts=1,
        metadata=meta,
    )


def generate(run_dir: Path, models: list[str], total: int) -> int:
    """Write the run folder: `total` samples split over models and benchmarks; returns the count."""
    from evalscope.report import build_report

    per_model = total // len(models)
    per_bench = per_model // len(BENCHES)
    run_dir.mkdir(parents=True)
    (run_dir / "configs").mkdir()
    (run_dir / "configs" / "task_config.yaml").write_text(
        "model: generated\napi_key: sk-bench-secret-0123456789abcdef\ndatasets: [gsm8k, arc, mmlu, simple_qa, humaneval]\n",
        encoding="utf-8",
    )
    written = 0
    for m, model in enumerate(models):
        skill = 0.85 - 0.1 * m
        for bench, subsets in BENCHES.items():
            records = [_record(bench, subsets[i % len(subsets)], i, model, skill) for i in range(per_bench)]
            reviews = run_dir / "reviews" / model / f"{bench}.jsonl"
            reviews.parent.mkdir(parents=True, exist_ok=True)
            reviews.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
            metrics = ["is_correct", "is_incorrect", "is_not_attempted"] if bench == "simple_qa" else ["acc"]
            report = build_report(records, name=f"native/{bench}", dataset_name=bench, model_name=model,
                                  metrics=metrics, subset_order=subsets, pretty_name=bench.upper())  # fmt: skip
            path = run_dir / "reports" / model / f"{bench}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
            written += len(records)
    return written


_NAV = """(hash) => new Promise((resolve) => {
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (document.body.dataset.ready === "1") {
      obs.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    }
  });
  obs.observe(document.body, { attributes: true });
  location.hash = hash;
})"""

# Each returns [ms until painted (two animation frames after the change), ms of the synchronous work
# alone (filtering and drawing the rows: the handler runs inside dispatchEvent / click), text shown].
_INPUT = """async ([sel, value, event]) => {
  const el = document.querySelector(sel);
  const t0 = performance.now();
  el.value = value;
  el.dispatchEvent(new Event(event));
  const sync = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, sync, document.getElementById("sample-count").textContent];
}"""

_CLICK = """async (sel) => {
  const t0 = performance.now();
  document.querySelector(sel).click();
  const sync = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, sync, document.getElementById("page-info").textContent];
}"""


def _start_app(outputs: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "evalscope"), "app", "--outputs", str(outputs), "--server-port", "0"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        m = re.search(r"serving at (\S+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("evalscope app did not start")


def measure(outputs: Path, run_id: str, models: list[str], repeats: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    proc, url = _start_app(outputs)
    out: dict[str, Any] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--enable-precise-memory-info"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            cdp = page.context.new_cdp_session(page)
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-view='overview'][data-ready='1']")
            out["first_render_wall_ms"] = (time.perf_counter() - t0) * 1000
            out["first_render_ms"] = page.evaluate("window.__esTimings.firstRender")
            out["open_run_ms"] = page.evaluate(_NAV, f"#/run?id={run_id}")
            params = "&".join(f"r{i}={run_id}&m{i}={m}" for i, m in enumerate(models))
            out["open_compare_ms"] = page.evaluate(_NAV, f"#/compare?{params}")
            out["rows"] = page.evaluate("document.getElementById('sample-count').textContent")
            filters = [
                ("regex 'apple.*river'", "#f-re", "apple.*river", "input"),
                ("regex cleared", "#f-re", "", "input"),
                ("outcome: pass/fail flips", "#f-outcome", "flip", "change"),
                ("outcome: reference passes, another fails", "#f-outcome", "ref_pass_other_fail", "change"),
                ("benchmark: mmlu", "#f-bench", "mmlu", "change"),
                ("subset: virology", "#f-subset", "virology", "change"),
                ("all benchmarks again", "#f-bench", "", "change"),
                ("all subsets again", "#f-subset", "", "change"),
                ("min score 0.5", "#f-min", "0.5", "input"),
                ("tag: judged", "#f-tag", "judged", "change"),
                ("tag: all", "#f-tag", "", "change"),
                ("order: largest spread", "#f-order", "spread", "change"),
                ("outcome: all", "#f-outcome", "all", "change"),
                (
                    "regex 'Question gsm8k-main-1[0-9]{3}:'",
                    "#f-re",
                    "Question gsm8k-main-1[0-9]{3}:",
                    "input",
                ),
                ("regex cleared again", "#f-re", "", "input"),
                ("min score cleared", "#f-min", "", "input"),
                ("order: dataset", "#f-order", "", "change"),
            ]
            # The sequence ends where it began, so it runs `repeats` times; each filter's median counts.
            seen: dict[str, list[list[Any]]] = {}
            for _ in range(repeats):
                for name, sel, value, event in filters:
                    seen.setdefault(name, []).append(page.evaluate(_INPUT, [sel, value, event]))
            out["filters"] = [(k, [r[0] for r in v], [r[1] for r in v], v[-1][2]) for k, v in seen.items()]
            pages = [page.evaluate(_CLICK, "#page-next") for _ in range(10)]
            pages += [page.evaluate(_CLICK, "#page-prev") for _ in range(3)]
            out["pages"] = [(x[0], x[1]) for x in pages]
            out["heap_mb"] = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
            t1 = time.perf_counter()
            page.click("#sample-table .vt-row")
            page.wait_for_selector("body[data-view='sample'][data-ready='1']")
            out["drilldown_ms"] = (time.perf_counter() - t1) * 1000
            cdp.send("HeapProfiler.collectGarbage")
            out["heap_after_gc_mb"] = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
            # A fresh page (no browser-side cache) against the server's warm index: the client's own cost.
            t2 = time.perf_counter()
            page.goto(f"{url}#/compare?{params}")
            page.wait_for_selector("body[data-view='compare'][data-ready='1']")
            out["reopen_compare_ms"] = (time.perf_counter() - t2) * 1000
            browser.close()
        rss = Path(f"/proc/{proc.pid}/status").read_text()
        out["server_rss_mb"] = int(re.search(r"VmRSS:\s+(\d+)", rss).group(1)) / 1024  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=100_000, help="samples in the run, over all models")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--keep", type=Path, help="write the run here and keep it (default: a temporary folder)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of the filter sequence (medians count)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-app-"))
    outputs = base / "outputs"
    if outputs.exists():
        shutil.rmtree(outputs)
    models = [f"model-{chr(ord('a') + i)}" for i in range(args.models)]
    run_id = "20261206_120000"
    try:
        t = time.perf_counter()
        n = generate(outputs / run_id, models, args.samples)
        gen_s = time.perf_counter() - t
        size = sum(f.stat().st_size for f in (outputs / run_id / "reviews").rglob("*.jsonl"))
        print(
            f"generated {n:,} samples ({size / 1e6:.0f} MB of reviews, {len(models)} models) in {gen_s:.1f} s"
        )

        from evalscope_app.catalog import Catalog

        t = time.perf_counter()
        Catalog(outputs).warm()
        index_s = time.perf_counter() - t
        print(f"server index of the run (built once, kept until a file changes): {index_s:.2f} s")

        r = measure(outputs, run_id, models, args.repeats)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    med = [
        (k, statistics.median(painted), statistics.median(sync), n) for k, painted, sync, n in r["filters"]
    ]
    filter_ms = [m for _, m, _, _ in med]
    worst = max(max(painted) for _, painted, _, _ in r["filters"])
    page_ms = [ms for ms, _ in r["pages"]]
    print(f"\ncompare view of {len(models)} models: {r['rows']} aligned samples")
    print(f"  {'filter (median of ' + str(args.repeats) + ' runs)':<52} {'painted':>10} {'JS work':>10}")
    for name, painted, sync, count in med:
        print(f"  {name:<52} {painted:7.1f} ms {sync:7.1f} ms  -> {count}")
    page_sync = statistics.median(x for _, x in r["pages"])
    print(f"  page changes (10 next, 3 previous): median {statistics.median(page_ms):.1f} ms, "
          f"max {max(page_ms):.1f} ms (JS work median {page_sync:.1f} ms)")  # fmt: skip
    figures = [
        Figure(
            "app",
            "first render (overview, in-page)",
            r["first_render_ms"] / 1000,
            "s",
            "<= 2 s",
            r["first_render_ms"] <= 2000,
        ),
        Figure("app", "first render (goto -> ready, wall)", r["first_render_wall_ms"] / 1000, "s", "", None),
        Figure("app", "open the run", r["open_run_ms"] / 1000, "s", "", None),
        Figure(
            "app", f"open compare, {n:,} samples, index building", r["open_compare_ms"] / 1000, "s", "", None
        ),
        Figure("app", "open compare, fresh page, index kept", r["reopen_compare_ms"] / 1000, "s", "", None),
        Figure("app", "filter, median", statistics.median(filter_ms), "ms", "", None),
        Figure(
            "app", "filter, slowest (its median)", max(filter_ms), "ms", "<= 200 ms", max(filter_ms) <= 200
        ),
        Figure("app", "filter, slowest single run", worst, "ms", "", None),
        Figure("app", "page change, max", max(page_ms), "ms", "<= 200 ms", max(page_ms) <= 200),
        Figure("app", "drill-down (click -> ready, wall)", r["drilldown_ms"], "ms", "", None),
        Figure("app", "JS heap used", r["heap_mb"], "MB", "<= 500 MB", r["heap_mb"] <= 500),
        Figure("app", "JS heap after GC", r["heap_after_gc_mb"], "MB", "", None),
        Figure("app", "server index build", index_s, "s", "", None),
        Figure("app", "server RSS", r["server_rss_mb"], "MB", "", None),
    ]
    print()
    print(summary(figures))
    missed = [f for f in figures if f.ok is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
