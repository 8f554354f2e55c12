"""`evalscope app --export report.html`: every view of the chosen runs in one HTML file.

The file holds the front end the server uses and, in JSON blocks, exactly what the server would
answer: the overview, each run's detail, each review file's index columns and (unless
`--no-samples`) every full record for the drill-down, one block per review file parsed only when
opened. It needs no server, no CDN and no network: it opens from `file://` and its
Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalscope_app.catalog import Catalog
from evalscope_app.page import export_page

__all__ = ["build_export", "write_export"]


def build_export(catalog: Catalog, lang: str = "en", samples: bool = True) -> tuple[str, dict[str, int]]:
    """The HTML text and counts (runs, review files, records) for the runs `catalog` lists."""
    overview = catalog.runs()
    overview["root"] = Path(overview["root"]).name or overview["root"]  # no local path in a shared file
    details: dict[str, Any] = {}
    columns: dict[str, dict[str, dict[str, Any]]] = {}
    record_ids: dict[str, dict[str, dict[str, str]]] = {}
    blocks: dict[str, Any] = {}
    n_records = 0
    for summary in overview["runs"]:
        run_id = summary["id"]
        detail = catalog.run(run_id)
        if detail is None:
            continue
        details[run_id] = detail
        for source in summary["sources"]:
            if not source.get("reviews"):
                continue
            model, bench = source["model"], source["bench"]
            payload = catalog.samples(run_id, model, bench)
            if payload is None:
                continue
            cols = json.loads(payload)
            columns.setdefault(run_id, {}).setdefault(model, {})[bench] = cols
            if samples:
                records = catalog.records(run_id, model, bench, range(cols["n"])) or []
                key = str(len(blocks))
                blocks[key] = records
                record_ids.setdefault(run_id, {}).setdefault(model, {})[bench] = f"records-{key}"
                n_records += len(records)
    data = {"runs": overview, "details": details, "samples": columns, "records": record_ids}
    boot = {"lang": lang, "mode": "export", "samples_included": samples}
    html = export_page(boot, data, blocks)
    stats = {"runs": len(details), "review_files": sum(len(b) for m in columns.values() for b in m.values()),
             "records": n_records}  # fmt: skip
    return html, stats


def write_export(path: Path, html: str) -> None:
    """Written whole or not at all (temp file + rename)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
