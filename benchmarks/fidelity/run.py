"""Fidelity: score the same scripted replies with EvalScope 1.14.1 and with us; compare per sample.

    .venv/bin/python benchmarks/fidelity/run.py                          # every entry both engines have
    .venv/bin/python benchmarks/fidelity/run.py --benchmarks gsm8k arc --limit 20
    .venv/bin/python benchmarks/fidelity/run.py --baseline-venv /tmp/evalscope-baseline

Steps: (1) plan our samples (`build_plan`: records, targets, our prompt) and script one reply per
question, formats in turn (`replies.py`); (2) start ONE scripted OpenAI-compatible server whose
table maps each question text to its reply, longest question first; (3) run `evalscope eval` of
the baseline venv (created with `pip install evalscope==1.14.1` if missing; needs PyPI once) on a
hub-style copy of the same records (`layout.py`), and our `run_task`, both against that server;
(4) pair samples by question text and compare every metric. A benchmark with fewer samples than
reply formats is run again in further rounds, formats shifted, until every format was used once.

Prints the table (benchmark, samples, equal, different, prompts equal) and writes
`results/differences.json` (git-ignored): every differing sample with the reply, both extractions
and scores, and where the prompts differ. Exit status 1 when anything differs or a run failed.
Not part of the pytest suite; `tests/test_fidelity_harness.py` checks the parts offline.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # `fidelity` and `_common` importable when run as a script

from _common import data_dir as default_data_dir  # noqa: E402
from _common import table  # noqa: E402

from fidelity import baseline, layout  # noqa: E402
from fidelity.entries import Entry, by_name  # noqa: E402
from fidelity.matching import Planned, Row, compare, pair, read_ours, read_theirs  # noqa: E402
from fidelity.replies import Reply, family_of, format_count, make_reply  # noqa: E402

NO_REPLY = "NO SCRIPTED REPLY: the prompt held no known question text"


@dataclass
class Bench:
    """One entry made ready: both engines' dataset args, our planned samples, rows compared so far."""

    entry: Entry
    our_args: dict[str, Any]
    their_args: dict[str, Any]
    items: list[tuple[int, str, str, str, Any, list[str] | None, str]]  # index, subset, key, family, …
    rounds: int
    rows: list[Row] = field(default_factory=list)
    error: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def _source(entry: Entry, data_root: Path) -> Path:
    return REPO / entry.data if "/" in entry.data else data_root / entry.data_name


def _our_config(name: str, args: dict[str, Any], limit: int, url: str, work_dir: Path) -> dict[str, Any]:
    return {
        "model": "scripted",
        "api_url": url,
        "api_key": "EMPTY",
        "eval_type": "service",
        "datasets": [name],
        "dataset_args": {name: args},
        "limit": limit,
        "offline": True,
        "eval_batch_size": 16,
        "work_dir": str(work_dir),
        "reporters": [],
        "ignore_errors": True,
    }


def prepare(entry: Entry, data_root: Path, limit: int, tmp: Path, max_rounds: int, venv: Path) -> Bench:
    """Lay the data out for both engines, restrict both to the subsets it holds, plan our samples."""
    from evalscope import registry
    from evalscope.config import TaskConfig
    from evalscope_native.engine.plan import build_plan

    source = _source(entry, data_root)
    spec_subsets = list(registry.benchmarks().resolve(entry.name).subsets)
    args = dict(entry.args)
    present = [s for s in spec_subsets if s in layout.data_subsets(source)]
    if "subset_list" not in args and present and len(present) < len(spec_subsets):  # a fixture of a few
        args["subset_list"] = present  # (no overlap at all: subsets come from a field, as MATH-500's levels)
    their_args = {
        **args,
        "dataset_id": str(layout.build_their_folder(entry, source, tmp / "data" / entry.key)),
    }
    if "subset_list" in args:
        their_args["subset_list"] = [entry.their_subsets.get(s, s) for s in args["subset_list"]]
    their_args.update(entry.their_args)
    our_args = {**args, "dataset_id": str(source)}
    module_attr, extra_key = entry.their_texts
    if module_attr:  # texts EvalScope keeps in its code, which our fixture only imitates (BBH's CoT prompts)
        folder = baseline.dump_texts(venv, module_attr, tmp / "their-texts" / entry.key)
        our_args["extra_params"] = {**our_args.get("extra_params", {}), extra_key: str(folder)}
    config = TaskConfig.model_validate(_our_config(entry.name, our_args, limit, "http://127.0.0.1:9/v1", tmp))
    (plan,) = build_plan(config).benchmarks
    items = []
    for item in plan.items:
        s = item.sample
        prompt = next((m.content for m in reversed(item.request.messages) if m.role == "user"), "")
        family = entry.family or family_of(s.target, s.choices)
        items.append((item.index, s.subset, s.input.strip(), family, s.target, s.choices, prompt))
    formats = max((format_count(i[3]) for i in items), default=1)
    rounds = min(max_rounds, max(1, math.ceil(formats / max(1, len(items)))))
    return Bench(entry, our_args, their_args, items, rounds)


def plan_round(bench: Bench, round_no: int, replies: dict[str, Reply]) -> list[Planned]:
    """This round's reply for each sample: formats shifted by a round's worth of samples."""
    planned = []
    shift = round_no * len(bench.items)
    for position, (index, subset, key, family, target, choices, prompt) in enumerate(bench.items):
        reply = replies.setdefault(key, make_reply(family, target, choices, position + shift))
        planned.append(Planned(index, subset, key, reply, prompt))
    return planned


def run_ours(bench: Bench, limit: int, url: str, work_dir: Path) -> Path:
    from evalscope.run import run_task

    run_task(_our_config(bench.entry.name, bench.our_args, limit, url, work_dir))
    (review,) = work_dir.glob(f"*/reviews/*/{bench.entry.name}.jsonl")
    return review


def _groups(active: list[Bench]) -> list[list[Bench]]:
    """Benchmarks to run together: EvalScope takes one set of dataset args per benchmark and run."""
    groups: list[list[Bench]] = []
    for b in active:
        group = next((g for g in groups if all(x.entry.their_name != b.entry.their_name for x in g)), None)
        if group is None:
            groups.append(group := [])
        group.append(b)
    return groups


def _run_theirs(
    group: list[Bench], url: str, exe: Path, work: Path, tmp: Path, opts: argparse.Namespace
) -> dict[str, Path | Exception]:
    """One EvalScope process for the group; after a failure, one each, so the error names its benchmark."""

    def one(benches: list[Bench], folder: Path) -> Path:
        args = {b.entry.their_name: b.their_args for b in benches}
        return baseline.run_theirs(exe, url, args, opts.limit, folder, tmp, opts.nltk_data)[0]

    try:
        reviews = one(group, work / "+".join(b.entry.key for b in group)[:100])
        return {b.entry.key: reviews for b in group}
    except Exception:
        if len(group) == 1:
            raise
    out: dict[str, Path | Exception] = {}
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futures = {b.entry.key: pool.submit(one, [b], work / "alone" / b.entry.key) for b in group}
        for key, future in futures.items():
            try:
                out[key] = future.result()
            except Exception as exc:
                out[key] = exc
    return out


def run_round(benches: list[Bench], round_no: int, exe: Path, tmp: Path, opts: argparse.Namespace) -> None:
    """One scripted server; every benchmark still needing this round, both engines; rows appended."""
    from evalscope.testing import ScriptedServer

    active = [b for b in benches if b.rounds > round_no and not b.error]
    replies: dict[str, Reply] = {}
    planned = {b.entry.key: plan_round(b, round_no, replies) for b in active}
    by_length = sorted(replies.items(), key=lambda kv: -len(kv[0]))
    config = {
        "model": "scripted",
        "default_reply": NO_REPLY,
        "entries": [{"contains": k, "reply": r.text} for k, r in by_length],
    }
    print(f"round {round_no + 1}: {len(active)} benchmarks, {len(replies)} scripted replies", file=sys.stderr)
    work = tmp / "theirs" / f"r{round_no}"
    groups = _groups(active)
    theirs: dict[str, Path | Exception] = {}
    with ScriptedServer(config) as server, ThreadPoolExecutor(max_workers=len(groups) or 1) as background:
        pending = [background.submit(_run_theirs, g, server.base_url, exe, work, tmp, opts) for g in groups]
        ours: dict[str, Path | Exception] = {}
        for b in active:  # in this process, while EvalScope runs in its own
            start = time.perf_counter()
            try:
                ours[b.entry.key] = run_ours(
                    b, opts.limit, server.base_url, tmp / "ours" / f"r{round_no}" / b.entry.key
                )
            except Exception as exc:  # one broken benchmark must not hide the others' results
                ours[b.entry.key] = exc
            b.seconds["ours_s"] = round(b.seconds.get("ours_s", 0.0) + time.perf_counter() - start, 1)
        for group, future in zip(groups, pending, strict=True):
            try:
                theirs.update(future.result())
            except Exception as exc:
                theirs.update({b.entry.key: exc for b in group})
    for b in active:
        got, mine = theirs[b.entry.key], ours[b.entry.key]
        if isinstance(got, Exception):
            b.error = f"EvalScope run failed: {got}"
        elif isinstance(mine, Exception):
            b.error = f"our run failed: {mine!r}"
        else:
            plan = planned[b.entry.key]
            others = [x.entry.their_name for x in active]
            paired = pair(plan, read_theirs(got, b.entry.their_name, others))
            rows = compare(plan, paired, read_ours(mine), b.entry.metrics, NO_REPLY)
            for row in rows:
                row.round = round_no
            b.rows += rows


def summary(b: Bench) -> dict[str, Any]:
    if b.error:
        return {"benchmark": b.entry.key, "error": b.error}
    diffs = [r for r in b.rows if not r.equal]
    prompt_diffs = [r for r in b.rows if r.theirs and r.ours and not r.prompt_equal]
    return {
        "benchmark": b.entry.key,
        "rounds": b.rounds,
        "samples": len(b.rows),
        "equal": len(b.rows) - len(diffs),
        "different": len(diffs),
        "prompts_equal": sum(r.prompt_equal for r in b.rows),
        "formats_used": len({r.planned.reply.fmt for r in b.rows}),
        "seconds_ours": b.seconds.get("ours_s", 0.0),
        "different_by_format": dict(Counter(r.planned.reply.fmt for r in diffs).most_common()),
        "prompt_differences": [r.to_json() for r in prompt_diffs[:5]],
        "differences": [r.to_json() for r in diffs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--benchmarks", nargs="*", help="entry names (default: every entry both engines have)"
    )
    parser.add_argument("--limit", type=int, default=40, help="samples per subset (default 40)")
    parser.add_argument("--baseline-venv", type=Path, default=HERE / ".venv", help="EvalScope 1.14.1's venv")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="benchmark data (default: EVALSCOPE_DATA_DIR)"
    )
    parser.add_argument("--results", type=Path, default=HERE / "results", help="where differences.json goes")
    parser.add_argument("--jobs", type=int, default=4, help="EvalScope processes at once when run one by one")
    parser.add_argument(
        "--nltk-data", type=Path, default=None, help="NLTK data with punkt_tab (EvalScope's IFEval)"
    )
    parser.add_argument("--max-rounds", type=int, default=10, help="rounds for benchmarks with few samples")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (both engines' outputs)"
    )
    args = parser.parse_args(argv)
    data_root = (args.data_dir or default_data_dir()).resolve()

    from evalscope import registry

    exe = baseline.ensure_venv(args.baseline_venv)
    theirs_known = baseline.their_benchmarks(args.baseline_venv)
    ours_known = {s.name for s in registry.benchmarks().all()}
    entries, skipped = [], {}
    for entry in by_name(args.benchmarks):
        if entry.name not in ours_known:
            skipped[entry.key] = "not in our `evalscope list` yet"
        elif entry.their_name not in theirs_known:
            skipped[entry.key] = f"EvalScope {baseline.VERSION} has no {entry.their_name!r}"
        elif not _source(entry, data_root).is_dir():
            skipped[entry.key] = f"no data at {_source(entry, data_root)}"
        else:
            entries.append(entry)

    tmp = Path(tempfile.mkdtemp(prefix="fidelity-"))
    benches = []
    for entry in entries:
        try:
            benches.append(prepare(entry, data_root, args.limit, tmp, args.max_rounds, args.baseline_venv))
        except Exception as exc:  # e.g. our loader rejects the data: report it as that benchmark's result
            benches.append(Bench(entry, {}, {}, [], 0, error=f"our plan failed: {exc!r}"))
    print(f"work in {tmp}", file=sys.stderr)
    for round_no in range(max((b.rounds for b in benches), default=0)):
        run_round(benches, round_no, exe, tmp, args)

    results = {b.entry.key: summary(b) for b in benches}
    headers = ["benchmark", "samples", "equal", "different", "prompts equal"]
    lines = [
        [n, str(r["samples"]), str(r["equal"]), str(r["different"]), str(r["prompts_equal"])]
        if "error" not in r
        else [n, "-", "-", "-", r["error"].splitlines()[0][:70]]
        for n, r in results.items()
    ]
    print(table(headers, lines))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / "differences.json"
    payload = {
        "evalscope_baseline": baseline.VERSION,
        "command": " ".join(["python", *sys.argv] if argv is None else ["run.py", *argv]),
        "limit": args.limit,
        "skipped": skipped,
        "benchmarks": results,
    }
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"differences: {out}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if any("error" in r or r["different"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
