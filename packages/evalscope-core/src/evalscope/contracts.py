"""The data that flows through a run: samples in, model outputs out.

A benchmark turns dataset records into `Sample`s; the engine renders them into `ChatMessage`s,
asks a `Model` for `ModelOutput`s, and the benchmark scores them. These types are the contract
between the core, engines and benchmark plugins, so they stay small and stable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from evalscope.config import GenerationConfig

__all__ = [
    "ChatMessage",
    "ChecksConnection",
    "ContentPart",
    "ImagePart",
    "TextPart",
    "GenerateRequest",
    "Model",
    "ModelError",
    "ModelOutput",
    "RetryableModelError",
    "Sample",
    "Usage",
]


class TextPart(BaseModel):
    """A text part of a multimodal message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    """An image part of a multimodal message.

    `image` is a `data:image/...;base64,` URL, an `http(s)://` URL, or a local file path: a client
    that sends images reads a path when it sends the request (so a missing file fails that one
    sample, not the run); the native engine's cache key covers the file's bytes as well as its path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["image"] = "image"
    image: str
    detail: Literal["auto", "low", "high"] | None = None


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ChatMessage(BaseModel):
    """One chat message. `content` is always the text (for text-only consumers: judges, completions
    prompts, logs); a multimodal message also has `parts`, the text and images in order, which a
    client that supports images sends instead of `content`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    parts: tuple[ContentPart, ...] | None = None
    #: an assistant message's tool calls, in the OpenAI shape (`{"id", "type": "function", "function":
    #: {"name", "arguments"}}`), sent back to the model with the conversation (agent benchmarks)
    tool_calls: tuple[dict[str, Any], ...] | None = None
    #: a `tool` message: the id of the call whose result `content` is
    tool_call_id: str | None = None

    @model_serializer(mode="wrap")
    def _text_messages_unchanged(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A text message serialises as it did before `parts` and the tool fields existed: the cache
        # keys (a hash of the dump) and the review files of every text benchmark stay byte for byte the same.
        data: dict[str, Any] = handler(self)
        for optional in ("parts", "tool_calls", "tool_call_id"):
            if getattr(self, optional) is None:
                data.pop(optional, None)
        return data

    @classmethod
    def multimodal(
        cls, role: Literal["system", "user", "assistant"], parts: list[TextPart | ImagePart]
    ) -> ChatMessage:
        """A message from parts; `content` is its text parts joined with newlines."""
        text = "\n".join(p.text for p in parts if isinstance(p, TextPart))
        return cls(role=role, content=text, parts=tuple(parts))


class Sample(BaseModel):
    """One evaluation item, independent of where its record came from."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id for display: the dataset's own id, else '<subset>/<index>'.")
    input: str
    target: str | list[str]
    choices: list[str] | None = None
    subset: str = "default"
    metadata: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ModelOutput(BaseModel):
    """What a model returned for one request; `completions` has `n` entries."""

    completions: list[str]
    reasoning: list[str | None] = Field(default_factory=list)
    usage: Usage | None = None
    model: str | None = None
    finish_reasons: list[str | None] = Field(default_factory=list)
    turns: list[str] = Field(
        default_factory=list, description="Multi-turn samples: the answer of every turn, in order."
    )
    tool_calls: list[list[dict[str, Any]]] = Field(
        default_factory=list,
        description="Function calling: each completion's tool calls in the OpenAI shape "
        "({'id', 'type': 'function', 'function': {'name', 'arguments'}}); empty when none were made.",
    )


class GenerateRequest(BaseModel):
    """A rendered request. Its content hash (with the model identity) is the cache key."""

    model_config = ConfigDict(frozen=True)

    messages: list[ChatMessage]
    config: GenerationConfig
    tools: list[dict[str, Any]] | None = Field(
        default=None,
        description="Function calling: the OpenAI `tools` list ({'type': 'function', 'function': "
        "{'name', 'description', 'parameters'}}) sent with the request; None sends none.",
    )
    tool_choice: str | dict[str, Any] | None = Field(
        default=None, description="The OpenAI `tool_choice` ('auto', 'none', 'required' or a function)."
    )


@runtime_checkable
class Model(Protocol):
    """A model engines can query. Implementations live in plugins (API clients, local engines)."""

    def identity(self) -> dict[str, Any]:
        """What makes outputs of this model distinct (name, endpoint kind, ...); never a secret."""
        ...

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        """Answer one request. Raise `RetryableModelError` for faults worth retrying."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChecksConnection(Protocol):
    """Optional for a `Model`: prove the service is there and speaks the API, before the run.

    An engine calls `check_connection()` once, before it writes anything, when
    `TaskConfig.test_connection` is on; it raises an `evalscope.errors.EvalScopeError` (exit 2)
    that says what was tried and what came back. Models without a service (local, mock) omit it.
    """

    async def check_connection(self) -> None: ...


class ModelError(Exception):
    """A request failed for good (bad request, auth): recorded on the sample, not retried.

    `kind` names the cause in a word (`refused`, `dns`, `tls`, `timeout`, `http_401`, `not_json`,
    `no_choices`, ...): engines compare kinds to tell one outage repeating from unrelated failures.
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class RetryableModelError(ModelError):
    """A transient failure (429, 5xx, dropped connection, timeout): retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None, kind: str = "error") -> None:
        super().__init__(message, kind)
        self.retry_after = retry_after
