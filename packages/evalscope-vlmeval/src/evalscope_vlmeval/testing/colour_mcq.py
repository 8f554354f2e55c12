"""A tiny image multiple-choice dataset in VLMEvalKit's TSV format, and a scripted vision model that answers it.

VLMEvalKit reads `<LMUData>/<name>.tsv`: one row per question with `index`, `question`, the options `A`..`D`,
`answer` (a letter), `category` and `image` (the image file, base64-encoded). A name VLMEvalKit does not
know is evaluated as a custom multiple-choice dataset (MMBench-style prompt, answer letter matched).

Each row shows a square of one colour and asks which colour it is; `answer` may be set to a wrong letter on
purpose (`wrong=`) so a test can predict a score below 1 from a model that sees the colour right.

`ColourVisionModel` is a chat responder for the core's scripted server (`evalscope.testing`): a text-only
table ignores image parts, which cannot show that images reach the model, so this one decodes the first
`image_url` part of the last user message (a `data:` URL, as VLMEvalKit sends them), names its dominant
colour and replies with the option letter whose text is that colour (options are read from lines of the
form `A. red`) -- a reply is right only if the right image arrived. Every request is recorded (`requests`).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import threading
from pathlib import Path
from typing import Any

from evalscope.testing import ReplyError, image_urls, last_user_text

__all__ = ["COLOURS", "OPTIONS", "ColourVisionModel", "dominant_colour", "png_base64", "write_colour_mcq"]

#: The colours the model can name, as RGB; a pixel's colour is the nearest of these.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 180, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 30),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
}
OPTIONS = ("red", "green", "blue", "yellow")
_OPTION = re.compile(r"^([A-J])\. (.+?)\s*$", re.MULTILINE)


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


def dominant_colour(image_bytes: bytes) -> str:
    """The named colour nearest to the image's mean pixel."""
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(image_bytes)) as img:
        mean = ImageStat.Stat(img.convert("RGB")).mean
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], mean, strict=True)))


class ColourVisionModel:
    """`InProcessServer({"model": "scripted-vision"}, chat=ColourVisionModel())`: names the square's colour."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # what each request showed: images, text, colour, model
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        try:
            reply, seen = self.answer(messages)
        except Exception as exc:  # a malformed request is the client's bug: say so
            raise ReplyError(400, f"{type(exc).__name__}: {exc}") from None
        with self._lock:
            self.requests.append(seen | {"model": body.get("model")})
        return reply

    @staticmethod
    def answer(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        """The reply to a chat request, and what was seen (for the request log)."""
        text, images = last_user_text(messages), image_urls(messages)
        seen: dict[str, Any] = {"images": len(images), "text": text}
        if not images:
            return "I see no image.", seen
        header, _, payload = images[0].partition(",")
        if not header.startswith("data:image/") or ";base64" not in header:
            return "I cannot open this image.", seen
        colour = dominant_colour(base64.b64decode(payload))
        seen["colour"] = colour
        for letter, option in _OPTION.findall(text):
            if option.strip().lower() == colour:
                return f"The square is {colour}, so the answer is {letter}.", seen
        return f"The square is {colour}, which is not among the options.", seen
