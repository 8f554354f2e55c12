"""A scripted OpenAI-compatible *vision* model for tests: it looks at the image it is sent.

The native package's `ScriptedServer` answers from the text of a request and ignores image parts, which
cannot show that images reach the model. This server answers `POST /v1/chat/completions` by decoding the
first `image_url` part of the last user message (a `data:` URL, as VLMEvalKit sends them), naming its
dominant colour, and replying with the option letter whose text is that colour — so a reply is right only if
the right image arrived. The options are read from lines of the form `A. red` in the message text.

It is a real HTTP server (stdlib `ThreadingHTTPServer` on 127.0.0.1, a free port) run on a thread of the
test process; every request is recorded (`requests`) for assertions.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The colours the server can name, as RGB; a pixel's colour is the nearest of these.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 180, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 30),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
}
_OPTION = re.compile(r"^([A-J])\. (.+?)\s*$", re.MULTILINE)


def dominant_colour(image_bytes: bytes) -> str:
    """The named colour nearest to the image's mean pixel."""
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(image_bytes)) as img:
        mean = ImageStat.Stat(img.convert("RGB")).mean
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], mean, strict=True)))


def answer(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The reply to a chat request, and what was seen (for the request log)."""
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content") if users else ""
    parts: list[Any] = (
        content if isinstance(content, list) else [{"type": "text", "text": str(content or "")}]
    )
    text = "\n".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")
    images = [p["image_url"]["url"] for p in parts if isinstance(p, dict) and p.get("type") == "image_url"]
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


class VisionServer:
    """`with VisionServer() as srv: srv.base_url ...` — serves until the block ends."""

    def __init__(self, model: str = "scripted-vision") -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> VisionServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0") or "0"))
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    request = json.loads(body)
                    reply, seen = answer(request.get("messages") or [])
                except Exception as exc:  # a malformed request is the client's bug: say so
                    self._send(400, {"error": {"message": f"{type(exc).__name__}: {exc}"}})
                    return
                with server._lock:
                    server.requests.append(seen | {"model": request.get("model")})
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "model": request.get("model") or server.model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="vision-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
