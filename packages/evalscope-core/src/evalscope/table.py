"""The terminal table EvalScope users know (Model, Dataset, Metric, Category, Subset, Num, Score).

Drawn by hand in the 'grid' style of the seed README so the core needs no tabulate/pandas. One column
more than EvalScope's: the standard error of each score (`± Stderr`, as lm-evaluation-harness
prints it), so a 0.02 difference between two models is read against its noise.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalscope.report import Report

HEADERS = ("Model", "Dataset", "Metric", "Category", "Subset", "Num", "Score", "± Stderr")


def report_rows(reports: Sequence[Report]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for rep in reports:
        for metric in rep.metrics:
            n_subsets = 0
            for cat in metric.categories:
                for sub in cat.subsets:
                    n_subsets += 1
                    rows.append(
                        (
                            rep.model_name,
                            rep.dataset_name,
                            metric.name,
                            cat.name,
                            sub.name,
                            str(sub.num),
                            _fmt(sub.score),
                            _fmt(sub.stderr),
                        )
                    )
            if n_subsets > 1:
                rows.append(
                    (
                        rep.model_name,
                        rep.dataset_name,
                        metric.name,
                        "-",
                        "OVERALL",
                        str(metric.num),
                        _fmt(metric.score),
                        _fmt(metric.stderr),
                    )
                )
    return rows


def render_table(reports: Sequence[Report]) -> str:
    rows = report_rows(reports)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    numeric = {5, 6, 7}

    def line(ch: str) -> str:
        return "+" + "+".join(ch * (w + 2) for w in widths) + "+"

    def fmt(cells: Sequence[str]) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            out.append(" " + (c.rjust(w) if i in numeric else c.ljust(w)) + " ")
        return "|" + "|".join(out) + "|"

    parts = [line("-"), fmt(HEADERS), line("=")]
    for r in rows:
        parts += [fmt(r), line("-")]
    if not rows:
        parts.append(line("-"))
    return "\n".join(parts)


def _fmt(score: float | None) -> str:
    if score is None:
        return "-"
    return "nan" if score != score else f"{score:.4f}"
