"""One scripted OpenAI-compatible server for tests and benchmarks: a fake model that answers by rule.

Tests need an endpoint that is deterministic, free and fast enough that the *client* is what gets
measured; plugins need the same one, so it lives here, stdlib only (uvloop when importable):

* replies from a table (`entries`, `default_reply`), a Python responder (a scripted judge, a vision
  model, an embedder, a reranker), or synthetic tokens (`tokens`, `token_text`) -- `config.py`;
* streaming with known timing: `ttft`, `itl`, `ttft_per_active`, and per-stream timing records
  (`record_timings`) on the clock a client shares -- `app.py`;
* faults a test can predict: HTTP 500/429, dropped connections (before a byte or mid-stream),
  stalls, credential-echoing errors, broken protocol (`misbehave`), wrong keys and model names --
  `faults.py`, `config.py`;
* counters and clocks at `GET /stats`; run in a subprocess (`ScriptedServer`) or on a thread
  (`InProcessServer`), or on its own: `python -m evalscope.testing --config cfg.json --port 8801`.

Plugins keep their own rules (a judge's verdicts, a vision model's colours) as responders: a
callable for `InProcessServer`, or a `"package.module:factory"` import path in the config's
`responders`, which `ScriptedServer`'s subprocess imports -- the core never imports a plugin.
"""

from evalscope.testing.app import ScriptedApp
from evalscope.testing.config import MISBEHAVIOURS, RESPONDER_ROUTES, ServerConfig
from evalscope.testing.connection import serve
from evalscope.testing.faults import FAULT_KINDS, FaultPlan, fault_for
from evalscope.testing.launch import InProcessServer, ScriptedServer, main
from evalscope.testing.replies import ReplyTable, content_text, image_urls, last_user_text, split_tokens
from evalscope.testing.responders import ChatResponder, EmbedFn, ReplyError, RerankFn, hash_embedding
from evalscope.testing.wire import SSEEncoder, json_response, stream_head

__all__ = [
    "FAULT_KINDS",
    "MISBEHAVIOURS",
    "RESPONDER_ROUTES",
    "ChatResponder",
    "EmbedFn",
    "FaultPlan",
    "InProcessServer",
    "RerankFn",
    "ReplyError",
    "ReplyTable",
    "SSEEncoder",
    "ScriptedApp",
    "ScriptedServer",
    "ServerConfig",
    "content_text",
    "fault_for",
    "hash_embedding",
    "image_urls",
    "json_response",
    "last_user_text",
    "main",
    "serve",
    "split_tokens",
    "stream_head",
]
