"""The scripted server's capacity model: `max_active` streams generate at once, the rest queue."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from evalscope.testing import InProcessServer, ServerConfig


def test_max_active_queues_streams_beyond_the_capacity() -> None:
    cfg = {"model": "m", "tokens": 2, "ttft": 0.1, "max_active": 2, "record_timings": True}
    with InProcessServer(cfg) as srv:

        def one(k: int) -> None:
            body = json.dumps(
                {"model": "m", "stream": True, "messages": [{"role": "user", "content": f"q{k}"}]}
            )
            req = urllib.request.Request(
                srv.base_url + "/chat/completions", data=body.encode(), headers={"X-Request-Id": f"r{k}"}
            )
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
            with opener.open(req, timeout=10) as resp:
                resp.read()

        threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        timings = srv.stats()["timings"]
    waits = sorted(first - arrived for arrived, first, _ in timings.values())
    assert len(waits) == 4
    # two start at once (TTFT 0.1 s); two wait for a slot, then their own 0.1 s
    assert all(0.09 <= w < 0.18 for w in waits[:2]) and all(w >= 0.18 for w in waits[2:]), waits


def test_max_active_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match="max_active"):
        ServerConfig.from_dict({"max_active": -1})
