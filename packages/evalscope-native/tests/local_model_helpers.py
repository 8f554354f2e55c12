"""A tiny, randomly initialised causal LM saved as a real transformers checkpoint, for local-model tests.

The tokenizer is a byte-level BPE trained with the `tokenizers` library on questions from the real
benchmark data (so any text encodes, with no unknown tokens), wrapped as `PreTrainedTokenizerFast`;
the model is a two-layer Llama seeded with a fixed seed. `save_pretrained` writes exactly the files
a hub download holds (config.json, model.safetensors, tokenizer files, generation_config.json).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]


def training_lines(data_dir: Path, n: int = 300) -> list[str]:
    lines: list[str] = []
    for path in (data_dir / "gsm8k" / "main" / "test.jsonl", data_dir / "arc" / "ARC-Easy" / "test.jsonl"):
        with path.open(encoding="utf-8") as fh:
            for i, raw in enumerate(fh):
                if i >= n:
                    break
                lines.append(json.loads(raw)["question"])
    return lines


def build_tiny_model(
    folder: Path,
    data_dir: Path,
    *,
    chat_template: bool,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab: int = 1000,
    seed: int = 0,
) -> Path:
    """Write a checkpoint folder; the same arguments always give the same weights and tokenizer."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(training_lines(data_dir), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        chat_template=CHAT_TEMPLATE if chat_template else None,
    )
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.1,  # sharper logits than the default 0.02: fewer near-ties in greedy decoding
    )
    model = LlamaForCausalLM(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def hf_cache_layout(checkpoint: Path, cache: Path, repo_id: str, commit: str = "a" * 40) -> Path:
    """Lay `checkpoint` out as the Hugging Face hub cache does (refs/main -> snapshots/<commit>/)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(checkpoint, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
