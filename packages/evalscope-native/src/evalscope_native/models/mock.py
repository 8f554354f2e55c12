"""`mock_llm`: answers every request with a fixed text, for smoke runs of the whole pipeline."""

from __future__ import annotations

from typing import Any

from evalscope.config import TaskConfig
from evalscope.contracts import GenerateRequest, ModelOutput, Usage


class MockModel:
    def __init__(self, config: TaskConfig) -> None:
        self.response = str(config.model_args.get("response", "Default output"))

    def identity(self) -> dict[str, Any]:
        return {"kind": "mock_llm", "response": self.response}

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        n = request.config.n
        prompt_tokens = sum(len(m.content.split()) for m in request.messages)
        return ModelOutput(
            completions=[self.response] * n,
            usage=Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=len(self.response.split()) * n,
                total_tokens=prompt_tokens + len(self.response.split()) * n,
            ),
            model="mock_llm",
        )

    async def aclose(self) -> None:
        return None
