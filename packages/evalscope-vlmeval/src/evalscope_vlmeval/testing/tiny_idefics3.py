"""Build a tiny, randomly initialised Idefics3 checkpoint (the architecture of IBM's granite-docling) in a folder.

Run it in the ENGINE's interpreter — it needs the engine's torch and transformers, which our environment does
not have to match:

    .engines/vlmeval/bin/python .../evalscope_vlmeval/testing/tiny_idefics3.py <folder> [<folder> ...] [--seed 0]

Several folders get seeds `seed`, `seed + 1`, ...: different random weights from one ~10 s start. With
`--predict jobs.json` (a list of `{"image": <file>, "text": <prompt>}`) it also prints what each checkpoint
answers to each job, computed with plain transformers the way VLMEvalKit's DOCLING does it (`predict`), so a
test can check that VLMEvalKit ran exactly this checkpoint on exactly these images.

Why Idefics3: of the local VLMs VLMEvalKit 0.0.20 ships (`vlmeval.config.supported_VLM`), its `DOCLING` class
(`granite-docling-258M`) is the one whose code path never asks for CUDA or flash-attention and loads a plain
transformers architecture from a folder; everything else hard-codes `.cuda()` / `device_map="cuda"` /
`flash_attention_2`, a GPU-memory assertion (Qwen2-VL), or remote code. The folder holds what
`AutoProcessor.from_pretrained` and `AutoModelForImageTextToText.from_pretrained` read: `config.json` +
weights, a `tokenizer.json` built with the `tokenizers` library (a word-level vocabulary with Idefics3's special
tokens), the image processor and processor settings, and a chat template. Nothing is downloaded.

Sizes are chosen so that one image is ONE `<image>` token: vision `image_size` 32 / `patch_size` 16 gives 4
patches, the connector's `scale_factor` 2 merges them into 1, and the image processor neither splits images
nor makes them bigger than 32 px. VLMEvalKit's DOCLING asserts that the number of `<image>` tokens equals the
number of images, which holds only then.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Words the model can say (beside the special tokens); the option letters and colours are among them, so a
#: random model can, by chance, answer a question of the colour dataset.
WORDS = (
    "A B C D red green blue yellow the square is answer colour what of a an so which not among options "
    "question please select correct from above image picture see I it this that yes no maybe"
).split()
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>", "<fake_token_around_image>", "<image>", "<global-img>",
           "<end_of_utterance>", "<|im_start|>"]  # fmt: skip
ROLES = ["User", "Assistant", "System", ":"]

# The conversation format SmolVLM / granite-docling use: "<|im_start|>User:<image>text<end_of_utterance>\n
# Assistant:"; the processor expands each <image> into the image's tokens.
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}:"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)


def build(folder: Path, seed: int = 0) -> dict[str, object]:
    """Write the checkpoint into `folder`; returns a summary (vocabulary size, parameter count)."""
    _import_torchvision()
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
        PreTrainedTokenizerFast,
    )

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {tok: i for i, tok in enumerate([*SPECIAL, *ROLES, *WORDS])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="<end_of_utterance>",
        pad_token="<pad>",
        additional_special_tokens=["<fake_token_around_image>", "<image>", "<global-img>", "<|im_start|>"],
    )
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": 32},
        max_image_size={"longest_edge": 32},
    )
    processor = Idefics3Processor(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_len=1, chat_template=CHAT_TEMPLATE
    )
    ids = {tok: vocab[tok] for tok in ("<image>", "<pad>", "<s>", "<end_of_utterance>")}
    if any(tokenizer.convert_tokens_to_ids(tok) != i for tok, i in ids.items()):
        raise RuntimeError(f"the tokenizer renumbered the special tokens {sorted(ids)}")
    config = Idefics3Config(
        image_token_id=ids["<image>"],
        scale_factor=2,
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 16,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "max_position_embeddings": 1024,
            "pad_token_id": ids["<pad>"],
            "bos_token_id": ids["<s>"],
            "eos_token_id": ids["<end_of_utterance>"],
        },
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    summary = {
        "folder": str(folder),
        "seed": seed,
        "vocab_size": len(tokenizer),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (folder / "tiny_checkpoint.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def predict(folder: Path, jobs: list[dict[str, str]], max_new_tokens: int) -> list[str]:
    """Each job's answer, as VLMEvalKit 0.0.20's `DOCLING.generate_inner` computes it for a dataset it has no
    special prompt for: content [image, text.strip()], the processor's chat template with the generation
    prompt, greedy `generate(..., use_cache=False)` of exactly `max_new_tokens` tokens (the test passes
    `min_new_tokens` too), special tokens skipped, `.strip().strip(".")`."""
    _import_torchvision()
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(folder)
    model = AutoModelForImageTextToText.from_pretrained(
        folder, dtype=torch.bfloat16, attn_implementation="eager"
    ).eval()
    answers = []
    for job in jobs:
        image = Image.open(job["image"]).convert("RGB")
        content = [{"type": "image"}, {"type": "text", "text": job["text"].strip()}]
        prompt = processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True
        )
        inputs = processor(text=prompt, images=[image], return_tensors="pt")
        inputs["pixel_values"] = inputs["pixel_values"].to(torch.bfloat16)
        with torch.no_grad():
            out = model.generate(
                **inputs, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, use_cache=False
            )
        text = processor.batch_decode(out[:, inputs["input_ids"].size(1) :], skip_special_tokens=True)[0]
        answers.append(text.strip().strip("."))
    return answers


def _import_torchvision() -> None:
    """transformers' image code imports torchvision: use the engine side's CPU-torch workaround."""
    here = Path(__file__).resolve().parents[1]
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    from engine_compat import import_torchvision  # stdlib-only at import: safe here

    import_torchvision()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="one checkpoint per folder")
    parser.add_argument(
        "--seed", type=int, default=0, help="the first folder's seed; the next get +1, +2, ..."
    )
    parser.add_argument("--predict", type=Path, help='a JSON list of {"image": file, "text": prompt}')
    parser.add_argument("--max-new-tokens", type=int, default=8)
    args = parser.parse_args(argv)
    jobs = json.loads(args.predict.read_text(encoding="utf-8")) if args.predict else []
    for i, folder in enumerate(args.folders):
        summary = build(folder, args.seed + i)
        if jobs:
            summary["predictions"] = predict(folder, jobs, args.max_new_tokens)
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
