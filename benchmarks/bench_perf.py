"""`evalscope perf` as a load generator: how fast, and how accurate, is the client itself?

Against the fake model of the core's scripted server (`evalscope.testing`, a separate process on
127.0.0.1), printed side by side in one run:

1. **Transports** — streamed requests/s of a bare closed loop (64 streams, SSE split, one JSON parse
   per response) over our raw asyncio client, aiohttp and httpx: the numbers behind the default.
2. **Client throughput** — the most streamed requests/s one client sustains against a zero-delay
   server (16 tokens a reply, `--parallel` streams, closed loop), counted by the *server* (completed
   streams / time from first arrival to last reply, so start-up and reporting are excluded) and as
   the tool reports it: us, us with `--workers 2`, us with `--http-client aiohttp`, and the public
   EvalScope's `evalscope perf` from `--baseline-venv` (skipped when not given). Goal: >= 2x EvalScope.
3. **TTFT measurement error at 256 concurrent streams** — the server stamps (CLOCK_MONOTONIC, shared
   by all processes) the moment it writes each first token; the client's error is its recorded
   first-token time minus that stamp (loopback transit included, so it is an upper bound). Server
   queueing is not an error: it is what the client should measure. Goal: p99 <= 1 ms.
4. **Sweep wall time** — against a server of known capacity (4 streams at once, 10 ms + 7 x 5 ms a
   reply: 88.9 req/s), our one-command `--sweep 4` (synchronous, throughput, 4 rates in between)
   against what EvalScope needs for the same runs: `--parallel 1 16` (closed loop), then `--open-loop
   --rate r1 .. r4` at the rates our sweep chose. Whole commands, start-up included, and the
   saturation rate each measured.

    .venv/bin/python benchmarks/bench_perf.py
    .venv/bin/python benchmarks/bench_perf.py --baseline-venv /tmp/evalscope-baseline
    .venv/bin/python benchmarks/bench_perf.py --quick     # fewer requests: a smoke test

The baseline venv needs EvalScope's perf extras: `pip install "evalscope[perf]==1.14.1"`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_VENV, Figure, summary, table
from evalscope.testing import ScriptedServer

THROUGHPUT_GOAL = 2.0
TTFT_ERROR_GOAL_MS = 1.0


# --- 1. bare transports ------------------------------------------------------------------------------


def _body(tokens: int) -> bytes:
    msgs = [{"role": "user", "content": "hello there"}]
    return json.dumps({"model": "m", "messages": msgs, "stream": True, "max_tokens": tokens,
                       "stream_options": {"include_usage": True}}).encode()  # fmt: skip


class _Httpx:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        import httpx

        self.url, self.headers = url, headers
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=1024)
        self.client = httpx.AsyncClient(limits=limits, timeout=None, trust_env=False)

    async def request(self, body: bytes, request_id: str = "") -> Any:
        from evalscope.http.exchange import Exchange, SSESplitter

        ex = Exchange(time.perf_counter(), request_id)
        async with self.client.stream("POST", self.url, content=body, headers=self.headers) as r:
            ex.status = r.status_code
            sse = SSESplitter(ex.events)
            async for data in r.aiter_raw():
                sse.feed(data, time.perf_counter())
        ex.t_end = time.perf_counter()
        return ex

    async def aclose(self) -> None:
        await self.client.aclose()


def _transport_rps(kind: str, url: str, n: int, parallel: int, tokens: int) -> float:
    from evalscope_perf.runner import make_client, run_async

    headers = {"Content-Type": "application/json"}
    body = _body(tokens)

    async def go() -> float:
        client = _Httpx(url, headers) if kind == "httpx" else make_client(kind, url, headers, 5.0, None, None)
        left = n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                ex = await client.request(body)
                if ex.status != 200 or ex.error:
                    raise RuntimeError(f"{kind}: {ex.status} {ex.error}")
                json.loads(b"[" + b",".join(e[6:] for _, e in ex.events if e != b"data: [DONE]") + b"]")

        await worker()  # warm: one connection, imports
        left = n
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(parallel)))
        elapsed = time.perf_counter() - start
        await client.aclose()
        return n / elapsed

    return float(run_async(go()))


# --- 2. whole tools, counted by the server ------------------------------------------------------------


def _prompts(path: Path, n: int) -> Path:
    path.write_text("".join(f"question number {i} about the weather\n" for i in range(n)), encoding="utf-8")
    return path


def _ours(
    venv: Path, url: str, prompts: Path, out: Path, parallel: int, number: int, extra: list[str]
) -> list[str]:
    return [str(venv / "bin" / "evalscope"), "perf", "--url", url, "--model", "fake-model", "--dataset",
            "line_by_line", "--dataset-path", str(prompts), "--parallel", str(parallel), "--number", str(number),
            "--max-tokens", "16", "--outputs-dir", str(out), "--no-test-connection", "--no-live",
            "--sleep-interval", "0", *extra]  # fmt: skip


def _baseline(venv: Path, url: str, prompts: Path, out: Path, parallel: int, number: int) -> list[str]:
    return [str(venv / "bin" / "evalscope"), "perf", "--url", url + "/chat/completions", "--model", "fake-model",
            "--api", "openai", "--dataset", "line_by_line", "--dataset-path", str(prompts), "--parallel",
            str(parallel), "--number", str(number), "--max-tokens", "16", "--stream", "--outputs-dir", str(out),
            "--no-test-connection", "--sleep-interval", "0"]  # fmt: skip


def _run_tool(cmd: list[str], server: ScriptedServer, out: Path) -> dict[str, Any]:
    server.reset_stats()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONUNBUFFERED"] = "1"
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {res.returncode}: {res.stderr[-1500:]}")
    stats = server.stats()
    window = (stats["last_reply_perf"] or 0) - (stats["first_request_perf"] or 0)
    (summ,) = list(out.rglob("benchmark_summary.json"))[-1:]
    data = json.loads(summ.read_text())
    reported = data.get("request_throughput", data.get("Req Throughput (req/s)"))
    db = summ.parent / "benchmark_data.db"
    return {"server_rps": stats["ok"] / window if window > 0 else 0.0, "reported_rps": float(reported or 0),
            "ok": stats["ok"], "db": db, "timings": stats.get("timings", {})}  # fmt: skip


# --- 3. TTFT error ------------------------------------------------------------------------------------


def _ttft_errors_ms(result: dict[str, Any], baseline: bool) -> list[float]:
    """Client first-token time minus the server's stamp before it wrote that token, per request."""
    timings = result["timings"]
    con = sqlite3.connect(result["db"])
    errors = []
    try:
        if baseline:
            rows = con.execute("SELECT request, start_time, first_chunk_latency FROM result WHERE success=1")
            for request, start, ttft in rows:
                key = json.loads(request)["messages"][-1]["content"]
                if key in timings:
                    errors.append((start + ttft - timings[key][1]) * 1000)
        else:
            rows = con.execute(
                "SELECT request_id, start_time, ttft FROM requests WHERE success=1 AND warmup=0"
            )
            for rid, start, ttft in rows:
                errors.append((start + ttft - timings[rid][1]) * 1000)
    finally:
        con.close()
    return errors


# --- 4. sweep wall time -------------------------------------------------------------------------------

SWEEP_SERVER = {"model": "fake-model", "tokens": "max_tokens", "ttft": 0.01, "itl": 0.005, "max_active": 4}
SWEEP_CAPACITY = 4 / (0.01 + 7 * 0.005)


def _timed(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {res.returncode}: {res.stderr[-1500:]}")
    return time.perf_counter() - t0


def _sweep_wall_times(args: argparse.Namespace, tmp: Path, prompts: Path) -> list[list[str]]:
    n = args.sweep_number
    with ScriptedServer(SWEEP_SERVER) as server:
        out = tmp / "sweep-ours"
        cmd = _ours(args.venv, server.base_url, prompts, out, 16, n, ["--sweep", "4"])
        cmd[cmd.index("--max-tokens") + 1] = "8"
        ours_s = _timed(cmd)
        (summ,) = list(out.rglob("sweep_summary.json"))
        sweep = json.loads(summ.read_text())
        rates = [r["rate"] for r in sweep["runs"] if r["role"] == "rate"]
        rows = [["evalscope-perf --sweep 4", "1", str(len(sweep["runs"])), f"{ours_s:.1f} s",
                 f"{sweep['saturation_rate']:.1f} req/s"]]  # fmt: skip
        if args.baseline_venv is not None and rates:
            bout = tmp / "sweep-base"
            closed = _baseline(args.baseline_venv, server.base_url, prompts, bout, 1, n)
            closed[closed.index("--parallel") + 1 : closed.index("--parallel") + 2] = ["1", "16"]
            closed[closed.index("--number") + 1 : closed.index("--number") + 2] = [str(n), str(n)]
            closed[closed.index("--max-tokens") + 1] = "8"
            opened = _baseline(args.baseline_venv, server.base_url, prompts, bout, 256, n)
            opened[opened.index("--number") + 1 : opened.index("--number") + 2] = [str(n)] * len(rates)
            opened[opened.index("--max-tokens") + 1] = "8"
            opened += ["--open-loop", "--rate", *(f"{r:g}" for r in rates)]
            base_s = _timed(closed) + _timed(opened)
            best = 0.0
            for f in bout.rglob("benchmark_summary.json"):
                data = json.loads(f.read_text())
                if data.get("Concurrency", data.get("Number of concurrency")) == 16:
                    best = float(
                        data.get("Req Throughput (req/s)", data.get("Request throughput (req/s)", 0))
                    )
            rows.append(["EvalScope 1.14.1 perf (closed + open loop)", "2", str(2 + len(rates)),
                         f"{base_s:.1f} s", f"{best:.1f} req/s"])  # fmt: skip
    return rows


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-venv", type=Path, default=None, help="a venv with evalscope[perf]==1.14.1")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--parallel", type=int, default=64, help="streams for the throughput runs")
    ap.add_argument("--number", type=int, default=8000, help="requests per throughput run (ours)")
    ap.add_argument("--baseline-number", type=int, default=3000, help="requests per run of the baseline")
    ap.add_argument("--repeats", type=int, default=3, help="throughput runs per client (median reported)")
    ap.add_argument("--sweep-number", type=int, default=200, help="requests per run of the sweep (section 4)")
    ap.add_argument("--quick", action="store_true", help="fewer requests and repeats")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    if args.quick:
        args.number, args.baseline_number, args.repeats, args.sweep_number = 2000, 800, 1, 80
    if args.baseline_venv is not None and not (args.baseline_venv / "bin" / "evalscope").is_file():
        raise SystemExit(f"--baseline-venv {args.baseline_venv}: no bin/evalscope there")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    figures: list[Figure] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-perf-"))
    prompts = _prompts(tmp / "prompts.txt", max(args.number, args.baseline_number, 1024))

    with ScriptedServer({"model": "fake-model", "tokens": 16}) as server:
        url = server.base_url
        # 1. transports
        rows = []
        n_t = max(500, args.number // 2)
        for kind in ("raw", "aiohttp", "httpx"):
            n_k = n_t if kind != "httpx" else max(300, n_t // 8)
            rps = [_transport_rps(kind, url + "/chat/completions", n_k, 64, 16) for _ in range(args.repeats)]
            rows.append([kind, f"{statistics.median(rps):.0f} req/s", " ".join(f"{x:.0f}" for x in rps)])
        print("\nTransports: bare closed loop, 64 streams x 16 tokens, SSE split + one JSON parse per reply")
        print(table(["transport", "median", "all runs"], rows))

        # 2. whole clients
        clients: dict[str, list[str] | None] = {
            "evalscope-perf (1 process)": [],
            "evalscope-perf --workers 2": ["--workers", "2"],
            "evalscope-perf --http-client aiohttp": ["--http-client", "aiohttp"],
        }
        if args.baseline_venv is not None:
            clients["EvalScope 1.14.1 perf"] = None
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
        for r in range(args.repeats):  # interleaved, so a noisy moment hurts every client alike
            for name, extra in clients.items():
                out = tmp / f"tp-{r}-{len(results[name])}-{abs(hash(name))}"
                if extra is None:
                    assert args.baseline_venv is not None
                    cmd = _baseline(
                        args.baseline_venv, url, prompts, out, args.parallel, args.baseline_number
                    )
                else:
                    cmd = _ours(args.venv, url, prompts, out, args.parallel, args.number, extra)
                results[name].append(_run_tool(cmd, server, out))

        # 3. TTFT error at 256 streams
        server.configure(ttft=0.05, itl=0.02, tokens=8, record_timings=True)
        err: dict[str, list[float]] = {}
        accuracy = {k: v for k, v in clients.items() if v is None or "--workers" not in v}
        accuracy["evalscope-perf --no-kernel-timestamps"] = ["--no-kernel-timestamps"]
        for name, extra in accuracy.items():
            out = tmp / f"acc-{abs(hash(name))}"
            if extra is None:
                assert args.baseline_venv is not None
                cmd = _baseline(args.baseline_venv, url, prompts, out, 256, 1024)
                cmd[cmd.index("--max-tokens") + 1] = "8"
            else:
                cmd = _ours(args.venv, url, prompts, out, 256, 1024, extra)
            err[name] = _ttft_errors_ms(_run_tool(cmd, server, out), baseline=extra is None)

    sweep_rows = _sweep_wall_times(args, tmp, prompts)
    base = results.get("EvalScope 1.14.1 perf")
    base_rps = statistics.median(x["server_rps"] for x in base) if base else None
    rows = []
    for name in [*results, *(k for k in err if k not in results)]:
        runs = results.get(name, [])
        srv = statistics.median(x["server_rps"] for x in runs) if runs else None
        rep = statistics.median(x["reported_rps"] for x in runs) if runs else None
        e = err.get(name)
        rows.append([
            name, f"{srv:.0f} req/s" if srv else "-", " ".join(f"{x['server_rps']:.0f}" for x in runs) or "-",
            f"{rep:.0f} req/s" if rep else "-", f"{srv / base_rps:.1f} x" if base_rps and srv else "-",
            f"{_pct(e, 50):.3f} ms" if e else "-", f"{_pct(e, 99):.3f} ms" if e else "-", f"{max(e):.2f} ms" if e else "-",
        ])  # fmt: skip
    print(f"\nClients: --parallel {args.parallel}, zero-delay server, 16 tokens/stream (throughput); "
          "256 streams, TTFT 50 ms, ITL 20 ms, 8 tokens, 1024 requests (TTFT error)")  # fmt: skip
    print(table(["client", "server-counted", "all runs", "tool-reported", "vs EvalScope",
                 "TTFT err p50", "TTFT err p99", "max"], rows))  # fmt: skip
    if base_rps is None:
        print("(no --baseline-venv: the EvalScope column is skipped)")
    ours = statistics.median(x["server_rps"] for x in results["evalscope-perf (1 process)"])
    figures.append(Figure("perf", "streamed req/s, 1 client process", ours, "req/s"))
    if base_rps:
        ratio = ours / base_rps
        figures.append(
            Figure(
                "perf",
                "vs EvalScope 1.14.1 perf",
                ratio,
                "x",
                f">= {THROUGHPUT_GOAL} x",
                ratio >= THROUGHPUT_GOAL,
            )
        )
    p99 = _pct(err["evalscope-perf (1 process)"], 99)
    figures.append(
        Figure(
            "perf",
            "p99 TTFT error, 256 streams",
            p99,
            "ms",
            f"<= {TTFT_ERROR_GOAL_MS} ms",
            p99 <= TTFT_ERROR_GOAL_MS,
        )
    )
    print(f"\nSweep: capacity {SWEEP_CAPACITY:.1f} req/s (4 streams x 45 ms), {args.sweep_number} requests a run, "
          "4 rates between the synchronous and the throughput run")  # fmt: skip
    print(table(["tool", "commands", "runs", "wall time", "saturation measured"], sweep_rows))
    print("\n" + summary(figures))
    print(f"machine load average {os.getloadavg()[0]:.2f} at the end")
    missed = [f for f in figures if f.ok is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
