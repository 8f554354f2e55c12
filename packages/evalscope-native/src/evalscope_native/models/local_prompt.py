"""Prompts in and text out for local checkpoints: chat template or plain prompt, stop strings.

Shared by the transformers and vLLM engines so both render the same text for the same sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalscope.contracts import ChatMessage


def render_prompt(
    tokenizer: Any, messages: Sequence[ChatMessage], enable_thinking: bool | None
) -> tuple[str, bool]:
    """The prompt text, and whether the tokenizer should add its special tokens (BOS) to it.

    With a chat template the template writes BOS itself, so tokenizing must not add a second one.
    Without one the messages are written as EvalScope 1.x does (`role: content` lines) and the
    tokenizer adds what the model was trained with.
    """
    if getattr(tokenizer, "chat_template", None):
        kwargs: dict[str, Any] = {"add_generation_prompt": True, "tokenize": False}
        if enable_thinking is not None:
            kwargs["enable_thinking"] = enable_thinking
        text = tokenizer.apply_chat_template([m.model_dump() for m in messages], **kwargs)
        return str(text), False
    return "".join(f"{m.role}: {m.content}\n" for m in messages), True


def truncate_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string (the OpenAI API's behaviour); True if one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def stop_string_criteria(tokenizer: Any, stops: Sequence[str], prompt_len: int) -> Any:
    """A transformers `StoppingCriteria` that marks each row done once its new text holds a stop string.

    transformers pads the rows marked done and ends the batch when every row is done (by a stop
    string or EOS), so a batch costs as long as its longest answer, not `max_new_tokens`. Only the
    last few tokens of a row are decoded at each step: a stop string that has just appeared ends
    within the last `len(stop) + 4` tokens. This is only an early exit; `truncate_at_stop` on the
    full text decides what is returned. `done_at[row]` is how many tokens the row had generated
    when it was marked done.
    """
    import torch
    from transformers import StoppingCriteria

    window = max(len(s) for s in stops) + 4

    class _StopStrings(StoppingCriteria):
        def __init__(self) -> None:
            self.done_at: dict[int, int] = {}

        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            generated = input_ids.shape[1] - prompt_len
            tails = input_ids[:, max(prompt_len, input_ids.shape[1] - window) :].tolist()
            for row, tail in enumerate(tails):
                if row not in self.done_at:
                    text = tokenizer.decode(tail, skip_special_tokens=True)
                    if any(s in text for s in stops):
                        self.done_at[row] = generated
            flags = [row in self.done_at for row in range(input_ids.shape[0])]
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return _StopStrings()
