"""A tiny image-text fixture and a tiny CLIP checkpoint, made locally (no weights can be downloaded).

`write_image_text_set(folder)` draws solid-colour shapes with PIL and writes EvalScope's `custom`
layout (`image_queries.jsonl` + PNGs), two captions per image. `write_tiny_clip(folder, seed)` saves a
randomly initialised transformers `CLIPModel` with a word-level tokenizer (built with `tokenizers`)
and a CLIP image processor: a real checkpoint folder that the rag backend loads like any other, so
the retrieval code path is exercised end to end; its recall is as good as chance, which is the point
of comparing it with an independent computation from the same embeddings.
"""

from __future__ import annotations

import json
from pathlib import Path

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220), "yellow": (240, 220, 40)}
SHAPES = ("square", "circle", "triangle")
_SPECIAL = ["[PAD]", "[UNK]", "<s>", "</s>"]
_WORDS = ["a", "an", "image", "of", "on", "white", "background", "picture", "with", *COLOURS, *SHAPES]


def _draw(colour: tuple[int, int, int], shape: str, size: int = 48) -> object:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    box = (size // 6, size // 6, size - size // 6, size - size // 6)
    if shape == "square":
        draw.rectangle(box, fill=colour)
    elif shape == "circle":
        draw.ellipse(box, fill=colour)
    else:
        draw.polygon([(size // 2, box[1]), (box[0], box[3]), (box[2], box[3])], fill=colour)
    return img


def write_image_text_set(folder: Path) -> Path:
    """12 images (4 colours × 3 shapes), 2 captions each; returns the folder."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    lines = []
    for colour, rgb in COLOURS.items():
        for shape in SHAPES:
            name = f"{colour}_{shape}.png"
            _draw(rgb, shape).save(images / name)  # type: ignore[attr-defined]
            captions = [f"a {colour} {shape}", f"a picture of a {colour} {shape} on a white background"]
            lines.append(json.dumps({"image_path": f"images/{name}", "query": captions}))
    (folder / "image_queries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A random CLIP checkpoint (~200 KB) with tokenizer and image processor; returns the folder."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(_SPECIAL + _WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", vocab["<s>"]), ("</s>", vocab["</s>"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=32,
    )
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 32,
            "pad_token_id": vocab["[PAD]"],
            "bos_token_id": vocab["<s>"],
            "eos_token_id": vocab["</s>"],
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        projection_dim=16,
    )
    folder.mkdir(parents=True, exist_ok=True)
    CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        folder
    )
    return folder
