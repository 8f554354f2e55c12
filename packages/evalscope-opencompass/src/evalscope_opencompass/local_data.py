"""Write OpenCompass's data layout from local copies in the Hugging Face layout EvalScope reads.

OpenCompass reads its datasets from `$COMPASS_DATA_CACHE/data/<dataset>/...` in the layout of its own data
archive, not the hub's. This module writes that layout from the folders the native backend reads
(`$EVALSCOPE_DATA_DIR/<benchmark>/<subset>/<split>.jsonl`, field names of the hub datasets), so one local
copy serves both backends and nothing is downloaded:

    gsm8k/main/test.jsonl           → data/gsm8k/test.jsonl (+ train.jsonl, which OpenCompass's loader opens)
    mmlu/<subject>/{dev,test}.jsonl → data/mmlu/{dev,test}/<subject>_{dev,test}.csv (no header: question, A-D, answer)

    python -m evalscope_opencompass.local_data --source ../shared/data --dest ~/oc-data --datasets gsm8k mmlu
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalscope.errors import DataFormatError, DatasetNotFoundError


def read_jsonl(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise DatasetNotFoundError(
            f"{path} does not exist.", hint="point --source at the folder holding gsm8k/, mmlu/"
        )
    with path.open(encoding="utf-8") as fh:
        n = 0
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                return
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(str(path), f"invalid JSON: {exc.msg}", line=lineno) from None
            n += 1


def write_gsm8k(source: Path, dest: Path, limit: int | None = None) -> Path:
    """`<source>/gsm8k/main/test.jsonl` → `<dest>/data/gsm8k/{test,train}.jsonl` (train: the few-shot pool,
    empty when the source has none: OpenCompass's GSM8K prompt carries its own examples)."""
    out = dest / "data" / "gsm8k"
    out.mkdir(parents=True, exist_ok=True)
    for split in ("test", "train"):
        src = source / "gsm8k" / "main" / f"{split}.jsonl"
        rows = list(read_jsonl(src, limit)) if src.is_file() or split == "test" else []
        with (out / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(
                    json.dumps({"question": row["question"], "answer": row["answer"]}, ensure_ascii=False)
                    + "\n"
                )
    return out


def write_mmlu(source: Path, dest: Path, subjects: list[str], limit: int | None = None) -> Path:
    """`<source>/mmlu/<subject>/{dev,test}.jsonl` → `<dest>/data/mmlu/{dev,test}/<subject>_<split>.csv`.

    `limit` applies to the test split only: the 5 dev rows are MMLU's few-shot examples.
    """
    out = dest / "data" / "mmlu"
    for subject in subjects:
        for split in ("dev", "test"):
            rows = read_jsonl(
                source / "mmlu" / subject / f"{split}.jsonl", limit if split == "test" else None
            )
            (out / split).mkdir(parents=True, exist_ok=True)
            with (out / split / f"{subject}_{split}.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                for row in rows:
                    choices = list(row["choices"])
                    if len(choices) != 4:
                        raise DataFormatError(
                            str(source / "mmlu" / subject), f"a row has {len(choices)} choices, not 4"
                        )
                    writer.writerow([row["question"], *choices, "ABCD"[int(row["answer"])]])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="folder in the hub layout (gsm8k/, mmlu/)")
    parser.add_argument(
        "--dest", type=Path, required=True, help="OpenCompass data folder to write (data/ inside)"
    )
    parser.add_argument("--datasets", nargs="+", default=["gsm8k", "mmlu"], choices=["gsm8k", "mmlu"])
    parser.add_argument(
        "--subjects", nargs="*", default=None, help="MMLU subjects (default: all in --source)"
    )
    parser.add_argument("--limit", type=int, default=None, help="rows per test split")
    args = parser.parse_args(argv)
    if "gsm8k" in args.datasets:
        print(write_gsm8k(args.source, args.dest, args.limit))
    if "mmlu" in args.datasets:
        subjects = args.subjects or sorted(p.name for p in (args.source / "mmlu").iterdir() if p.is_dir())
        print(write_mmlu(args.source, args.dest, subjects, args.limit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
