"""`--model scripted`: a scripted model that the run serves itself, so a first evaluation needs nothing.

Why: the quickstart must run on a fresh machine with no model service and no weights to download,
yet exercise the real path a user's service takes (HTTP, the OpenAI protocol, retries, scoring). The
model is a reply table (`model_args.table`, a JSON file of `{"contains": ..., "reply": ...}` entries;
by default `scripted_demo.json`, which answers the first five GSM8K and ARC questions of each subset);
the run starts the scripted OpenAI-compatible server on 127.0.0.1 with it and evaluates that server as
any service, then stops it. Pointing at a real model is the same command with `--model NAME --api-url URL`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.contracts import GenerateRequest, ModelOutput
from evalscope.errors import ConfigError, DataFormatError

__all__ = ["DEMO_TABLE", "ScriptedModel"]

#: The reply table the quickstart evaluates.
DEMO_TABLE = Path(__file__).with_name("scripted_demo.json")


class ScriptedModel:
    def __init__(self, config: TaskConfig) -> None:
        from evalscope.testing import ScriptedServer

        from evalscope_native.models.openai_api import OpenAIModel

        if config.api_url:
            raise ConfigError(
                "--model scripted is served by the run itself and takes no --api-url.",
                hint="drop --api-url, or name the service's model: --model NAME --api-url URL",
            )
        path = Path(str(config.model_args.get("table") or DEMO_TABLE)).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the scripted model's reply table {path}: {exc.strerror or exc}",
                hint='model_args.table names a JSON file: {"entries": [{"contains": "...", "reply": "..."}]}',
            ) from None
        try:
            table = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        table["model"] = "scripted"
        self._digest = hashlib.sha256(json.dumps(table, sort_keys=True).encode()).hexdigest()[:16]
        try:
            self._server = ScriptedServer(table)
        except ValueError as exc:
            raise DataFormatError(str(path), str(exc)) from None
        self._server.__enter__()
        service = config.model_copy(update={"api_url": self._server.base_url, "model": "scripted"})
        self._inner = OpenAIModel(service)

    def identity(self) -> dict[str, Any]:
        return {"kind": "scripted", "table": self._digest}

    async def generate(self, request: GenerateRequest) -> ModelOutput:
        return await self._inner.generate(request)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._server.__exit__(None, None, None)
