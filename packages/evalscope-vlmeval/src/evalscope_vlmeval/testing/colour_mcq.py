"""A tiny image multiple-choice dataset in VLMEvalKit's TSV format, with real images drawn by PIL.

VLMEvalKit reads `<LMUData>/<name>.tsv`: one row per question with `index`, `question`, the options `A`..`D`,
`answer` (a letter), `category` and `image` (the image file, base64-encoded). A name VLMEvalKit does not
know is evaluated as a custom multiple-choice dataset (MMBench-style prompt, answer letter matched).

Each row shows a square of one colour and asks which colour it is; `answer` may be set to a wrong letter on
purpose (`wrong=`) so a test can predict a score below 1 from a model that sees the colour right.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from evalscope_vlmeval.testing.vision_server import COLOURS

OPTIONS = ("red", "green", "blue", "yellow")


def png_base64(colour: str, size: int = 48) -> str:
    """A `size`×`size` PNG of one colour, base64-encoded."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), COLOURS[colour]).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def write_colour_mcq(
    folder: Path, name: str, colours: list[str], wrong: frozenset[int] = frozenset()
) -> Path:
    """Write `<folder>/<name>.tsv`; row i shows `colours[i]`; rows in `wrong` get a wrong `answer`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.tsv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["index", "question", "A", "B", "C", "D", "answer", "category", "image"])
        for i, colour in enumerate(colours):
            right = "ABCD"[OPTIONS.index(colour)]
            answer = "ABCD"[(OPTIONS.index(colour) + 1) % 4] if i in wrong else right
            category = "warm" if colour in ("red", "yellow") else "cool"
            writer.writerow([i, "What colour is the square?", *OPTIONS, answer, category, png_base64(colour)])
    return path
