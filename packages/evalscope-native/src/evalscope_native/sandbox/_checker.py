"""The checker of a checked run (stdlib only; runs in the sandbox, see ``_wire.py``).

The launcher forks. The child is the **candidate process** (``_candidate.serve``): it runs the
model's program and answers requests by value. The parent is the **checker**: it never runs
candidate code. It reads the trusted set-up code, the tests and the nonce from a descriptor the
candidate process closed before any of its code ran, binds the candidate's names to ``Remote``
proxies, and runs the tests; every call of a proxy is a request, every answer is decoded by
``from_wire`` into plain values (or further proxies). So the comparisons of the tests run on plain
values in a process the candidate cannot reach -- as root each side has its own fresh uid, otherwise
the checker is non-dumpable (no ptrace, no /proc/<pid>/mem or fd of it) -- and only the checker
holds the result descriptor and knows the nonce.
"""

from __future__ import annotations

import builtins
import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from evalscope_native.sandbox._candidate import serve
    from evalscope_native.sandbox._wire import (
        PeerGone,
        ProtocolBroken,
        ValueRejected,
        flush_streams,
        from_wire,
        print_exception,
        recv,
        send,
        to_wire,
    )

#: iterator items fetched per request (first batch; it doubles up to _BATCH_MAX)
_BATCH_MIN, _BATCH_MAX = 16, 4096
#: standard modules a candidate may name that the checker will not import for it
_NO_IMPORT = frozenset({"__main__", "antigravity", "this"})


class CandidateError(Exception):
    """The candidate raised an exception that is not one of Python's own (its class stays behind)."""


class CandidateExit(BaseException):
    """The candidate raised SystemExit, KeyboardInterrupt or another non-Exception: the run fails
    even if a test catches it (as the whole program would have stopped)."""


class LoadFailed(BaseException):
    """The candidate's program raised before it was ready (the candidate printed the traceback)."""


class Connection:
    """The checker's end of the channel. Every answer is decoded by ``from_wire``; a broken
    channel or a malformed answer is remembered, so the run fails even if a test swallows it."""

    def __init__(self, requests: int, replies: int) -> None:
        self.requests, self.replies = requests, replies
        self.broken: BaseException | None = None
        self._remotes: dict[int, Remote] = {}

    def wait_ready(self) -> None:
        reply = self._receive()
        if type(reply) is dict and type(reply.get("load_error")) is str:
            raise LoadFailed(reply["load_error"])
        if reply != {"ready": True}:
            raise self._poison(ProtocolBroken("no ready message"))

    def bind(self, namespace: dict[str, Any], names: list[str]) -> None:
        """Bind the candidate's ``names`` in ``namespace`` (a name it lacks is left alone)."""
        if not names:
            return
        reply = self._exchange({"op": "lookup", "names": names})
        if "ok" not in reply:
            raise self._failure(reply)
        described = reply["ok"]  # raw: each entry's payload is decoded below
        if type(described) is not list or len(described) != len(names):
            raise self._poison(ProtocolBroken("a malformed lookup answer"))
        for name, entry in zip(names, described, strict=True):
            if type(entry) is not list or len(entry) != 3 or entry[0] != name:
                raise self._poison(ProtocolBroken("a malformed lookup answer"))
            kind, payload = entry[1], entry[2]
            if kind == "value":
                namespace[name] = self.decode(payload)
            elif kind == "module":
                namespace[name] = self._module(payload)
            elif kind != "missing":
                raise self._poison(ProtocolBroken("a malformed lookup answer"))

    def _module(self, payload: Any) -> Any:
        if type(payload) is not list or len(payload) != 2 or type(payload[0]) is not str:
            raise self._poison(ProtocolBroken("a malformed module"))
        name, handle = payload
        top = name.partition(".")[0]
        if name in sys.modules or (top in sys.stdlib_module_names and top not in _NO_IMPORT):
            import importlib

            try:  # the checker's own copy of a standard module: the candidate's cannot be trusted
                return importlib.import_module(name)
            except ImportError:
                pass
        return self.decode({"h": handle})

    def ask(self, request: dict[str, Any]) -> Any:
        """Send one request; the decoded value of the answer (or the exception it reports)."""
        reply = self._exchange(request)
        if "ok" in reply:
            return self.decode(reply["ok"])
        raise self._failure(reply)

    def call(self, target: Remote, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        sent = [self.encode(a) for a in args]
        request = {"op": "call", "h": target._handle, "args": sent, "kwargs": self.encode(kwargs)}
        reply = self._exchange(request)
        if "ok" not in reply:
            raise self._failure(reply)
        value = self.decode(reply["ok"])
        changed = reply.get("changed")
        if type(changed) is not list:
            raise self._poison(ProtocolBroken("a malformed call answer"))
        for entry in changed:  # the candidate changed a list/dict/set argument in place
            if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not int:
                raise self._poison(ProtocolBroken("a malformed argument change"))
            if 0 <= entry[0] < len(args):
                _assign(args[entry[0]], self.decode(entry[1]))
        return value

    def next_items(self, target: Remote, count: int) -> tuple[list[Any], bool]:
        reply = self._exchange({"op": "next", "h": target._handle, "n": count})
        if "ok" not in reply:
            raise self._failure(reply)
        items, end = self.decode(reply["ok"]), reply.get("end")
        if type(items) is not list or type(end) is not bool or len(items) > count:
            raise self._poison(ProtocolBroken("a malformed iteration answer"))
        return items, end

    def encode(self, value: Any) -> Any:
        try:
            return to_wire(value, self._handle_of)
        except ValueRejected as exc:
            raise TypeError(f"the test's value cannot be sent to the candidate: {exc}") from None

    def decode(self, data: Any) -> Any:
        try:
            return from_wire(data, self._remote)
        except ValueRejected as exc:
            raise self._poison(
                ProtocolBroken(f"the candidate's answer is not a plain value: {exc}")
            ) from None

    def _handle_of(self, value: Any) -> int:
        if isinstance(value, Remote) and value._conn is self:
            return value._handle
        raise TypeError(
            f"a {type(value).__name__} cannot be passed to the candidate: only plain values (and the "
            "candidate's own objects) cross to its process"
        )

    def _remote(self, handle: int) -> Remote:
        remote = self._remotes.get(handle)
        if remote is None:
            remote = self._remotes[handle] = Remote(self, handle)
        return remote

    def _exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.broken is not None:
            raise self.broken
        try:
            send(self.requests, request)
        except OSError:
            raise self._poison(PeerGone("the candidate process is gone")) from None
        reply = self._receive()
        if type(reply) is not dict:
            raise self._poison(ProtocolBroken("an answer that is not an object"))
        return reply

    def _receive(self) -> Any:
        if self.broken is not None:
            raise self.broken
        try:
            return recv(self.replies)
        except (PeerGone, ProtocolBroken) as exc:
            raise self._poison(exc) from None
        except OSError:
            raise self._poison(PeerGone("the candidate process is gone")) from None

    def _failure(self, reply: dict[str, Any]) -> BaseException:
        info = reply.get("raised")
        if type(info) is not dict:
            why = reply.get("rejected")
            return self._poison(ProtocolBroken(f"the candidate's value cannot cross: {why}"))
        name, message = info.get("type"), info.get("message")
        if type(name) is not str or type(message) is not str:
            return self._poison(ProtocolBroken("a malformed exception"))
        cls = getattr(builtins, name, None) if info.get("builtin") is True else None
        exc: BaseException | None = None
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:  # Python's own exception class, so a test's `except ValueError:` works as in one process
                exc = cls(message)
            except Exception:  # a class with another signature (UnicodeDecodeError...)
                exc = None
        if exc is None and info.get("exception") is True:
            exc = CandidateError(f"{name}: {message}" if message else name)
        if exc is None:
            exc = self._poison(CandidateExit(f"the candidate raised {name}"))
        trace = info.get("trace")
        if type(trace) is str and trace:
            exc.add_note("raised in the candidate's process:\n" + trace.rstrip())
        return exc

    def _poison(self, exc: BaseException) -> BaseException:
        if self.broken is None:
            self.broken = exc
        return exc


def _assign(target: Any, value: Any) -> None:
    """Make the checker's argument ``target`` hold ``value`` (same type, changed in place)."""
    if type(target) is list and type(value) is list:
        target[:] = value
    elif type(target) is dict and type(value) is dict:
        target.clear()
        target.update(value)
    elif type(target) is set and type(value) is set:
        target.clear()
        target.update(value)


class Remote:
    """An object that stays in the candidate process. It equals only itself and has no
    arithmetic or ordering; everything else a test may do with it is a request answered by value."""

    __slots__ = ("_conn", "_handle")

    def __init__(self, conn: Connection, handle: int) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_handle", handle)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.call(self, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._conn.ask({"op": "getattr", "h": self._handle, "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        encoded = self._conn.encode(value)
        self._conn.ask({"op": "setattr", "h": self._handle, "name": name, "value": encoded})

    def _typed(self, op: str, kind: type) -> Any:
        value = self._conn.ask({"op": op, "h": self._handle})
        if type(value) is not kind:
            raise TypeError(
                f"the candidate's {op}() answered a {type(value).__name__}, not a {kind.__name__}"
            )
        return value

    def __bool__(self) -> bool:
        return bool(self._typed("bool", bool))

    def __len__(self) -> int:
        size = self._typed("len", int)
        if size < 0:
            raise ValueError("__len__() should return >= 0")
        return int(size)

    def __str__(self) -> str:
        return str(self._typed("str", str))

    def __repr__(self) -> str:
        return str(self._typed("repr", str))

    def __iter__(self) -> RemoteIterator:
        source = self._conn.ask({"op": "iter", "h": self._handle})
        if not isinstance(source, Remote):
            raise TypeError("the candidate's iter() answered a value, not an iterator")
        return RemoteIterator(source)

    def __next__(self) -> Any:
        items, _ = self._conn.next_items(self, 1)
        if not items:
            raise StopIteration
        return items[0]

    def __getitem__(self, key: Any) -> Any:
        return self._conn.ask({"op": "getitem", "h": self._handle, "key": self._conn.encode(key)})

    def __contains__(self, item: Any) -> bool:
        found = self._conn.ask({"op": "contains", "h": self._handle, "key": self._conn.encode(item)})
        if type(found) is not bool:
            raise TypeError("the candidate's `in` answered a non-bool")
        return bool(found)

    def __copy__(self) -> Remote:
        return self

    def __deepcopy__(self, memo: Any) -> Remote:
        return self


class RemoteIterator:
    """Iterates a candidate iterator, fetching items in growing batches (few round trips)."""

    def __init__(self, source: Remote) -> None:
        self._source, self._end, self._batch = source, False, _BATCH_MIN
        self._buffer: list[Any] = []

    def __iter__(self) -> RemoteIterator:
        return self

    def __next__(self) -> Any:
        if not self._buffer:
            if self._end:
                raise StopIteration
            items, self._end = self._source._conn.next_items(self._source, self._batch)
            self._batch = min(2 * self._batch, _BATCH_MAX)
            self._buffer = items[::-1]
            if not self._buffer:
                raise StopIteration
        return self._buffer.pop()


def check_tests(conn: Connection, secret: dict[str, Any]) -> str | None:
    """Run the set-up code and the tests; None when they ran to the end, else why not."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        conn.wait_ready()
        conn.bind(namespace, secret["lookup"])  # names the trusted code uses but never defines
        exec(compile(secret["setup"], "<setup>", "exec"), namespace)
        conn.bind(namespace, secret["remote"])  # the candidate's, even where the set-up defines them
        exec(compile(secret["tests"], "<tests>", "exec"), namespace)
    except LoadFailed as exc:
        return str(exc)  # the candidate printed its traceback
    except BaseException as exc:  # noqa: B036 - every way the tests can end is reported
        if not isinstance(conn.broken, PeerGone):  # a vanished candidate: its fate says more
            print_exception()
        return type(conn.broken or exc).__name__
    if conn.broken is not None:  # a test swallowed the failure of the channel: still a failure
        return type(conn.broken).__name__
    return None


def checked_main(
    config: dict[str, Any], result_fd: int, secret_fd: int, become: Callable[..., None]
) -> NoReturn:
    """Fork the candidate process, then judge as the checker; reports on ``result_fd`` as the
    single-process launcher does (``S``, then the nonce or ``X:<name>``), plus ``C:<how>`` when
    the candidate process died (``C:signal:<n>`` or ``C:exit:<n>``)."""
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    if config.get("uid") is None:
        # One uid for both processes: a non-dumpable checker cannot be traced, nor its memory or
        # descriptors opened through /proc. Set before the fork, so no candidate code ever runs
        # while the checker is dumpable. (As root each side gets its own uid, which does the same.)
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
            raise SystemExit("sandbox launcher: could not make the checker non-dumpable")
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (result_fd, secret_fd, requests_w, replies_r):
                os.close(fd)
            become(config, config.get("uid"))
            code = config.pop("code")
        except BaseException:  # noqa: B036 - a set-up failure must never run the program
            os._exit(71)
        serve(code, requests_r, replies_w)
    os.close(requests_r)
    os.close(replies_w)
    config.pop("code", None)
    secret = json.loads(_read_all(secret_fd).decode("utf-8"))
    os.close(secret_fd)
    become(config, config.get("checker_uid"))
    nonce = secret.pop("nonce").encode("ascii")
    os.write(result_fd, b"S\n")
    conn = Connection(requests_w, replies_r)
    failure = check_tests(conn, secret)
    os.close(requests_w)  # the candidate's serve loop ends
    if isinstance(conn.broken, PeerGone):
        os.write(result_fd, _fate(pid).encode("ascii") + b"\n")
    else:
        _wait_briefly(pid)  # let it flush what it printed
    flush_streams()
    if failure is None:
        os.write(result_fd, nonce + b"\n")
        os._exit(0)
    os.write(result_fd, f"X:{failure}\n".encode())
    os._exit(1)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _fate(pid: int) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"C:signal:{os.WTERMSIG(status)}"
    return f"C:exit:{os.waitstatus_to_exitcode(status)}"


def _wait_briefly(pid: int, seconds: float = 1.0) -> None:
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return
    try:
        select.select([fd], [], [], seconds)
    finally:
        os.close(fd)
