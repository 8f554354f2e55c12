"""The candidate process of a checked run (stdlib only; runs in the sandbox, see ``_wire.py``).

It runs the model's program, says it is ready (or names the exception its program raised), then
answers the checker's requests -- look up names, call an object, read or set an attribute, take
its truth value, length, ``str``, items, or iterate it -- each with a value (``to_wire``), an
exception report, or nothing at all if it dies. It never sees the tests, the expected values, the
nonce or the result descriptor, so everything it can do, including tampering with this very loop,
only changes the values it sends.
"""

from __future__ import annotations

import builtins
import os
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

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


def serve(code: str, requests: int, replies: int) -> NoReturn:
    """Run ``code``, then answer requests on ``requests`` until the checker closes it."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(code, "<sample>", "exec"), namespace)
    except BaseException as exc:  # noqa: B036 - the program's failure is reported, whatever it is
        print_exception()
        try:
            send(replies, {"load_error": type(exc).__name__})
        except OSError:
            pass
        flush_streams()
        os._exit(1)
    objects: dict[int, Any] = {}  # what handles stand for (kept alive for the checker)

    def handle_of(value: Any) -> int:
        objects[id(value)] = value
        return id(value)

    send(replies, {"ready": True})
    while True:
        try:
            request = recv(requests)
        except (PeerGone, ProtocolBroken):
            break
        send(replies, _answer(request, namespace, objects, handle_of))
    flush_streams()
    os._exit(0)


def _answer(
    request: dict[str, Any],
    namespace: dict[str, Any],
    objects: dict[int, Any],
    handle_of: Callable[[Any], int],
) -> dict[str, Any]:
    op = request["op"]
    try:
        if op == "lookup":
            return {"ok": [_describe(namespace, name, handle_of) for name in request["names"]]}
        target = objects[request["h"]]
        if op == "call":
            return _call(target, request, objects, handle_of)
        if op == "next":
            items: list[Any] = []
            end = False
            for _ in range(request["n"]):
                try:
                    items.append(next(target))
                except StopIteration:
                    end = True
                    break
            return {"ok": to_wire(items, handle_of), "end": end}
        if op == "setattr":
            setattr(target, request["name"], from_wire(request["value"], objects.__getitem__))
            return {"ok": None}
        if op == "getattr":
            result = getattr(target, request["name"])
        elif op in ("getitem", "contains"):
            key = from_wire(request["key"], objects.__getitem__)
            result = target[key] if op == "getitem" else key in target
        else:
            result = _UNARY[op](target)
        return {"ok": to_wire(result, handle_of)}
    except ValueRejected as exc:
        return {"rejected": str(exc)}
    except BaseException as exc:  # noqa: B036 - SystemExit and friends cross as what they are
        return {"raised": _exception_info(exc)}


def _call(
    target: Any, request: dict[str, Any], objects: dict[int, Any], handle_of: Callable[[Any], int]
) -> dict[str, Any]:
    args = from_wire(request["args"], objects.__getitem__)
    kwargs = from_wire(request["kwargs"], objects.__getitem__)
    result = target(*args, **kwargs)
    # In-place changes to a list/dict/set argument go back, as one process would have seen them.
    changed = []
    for index, (arg, sent) in enumerate(zip(args, request["args"], strict=False)):
        if type(arg) in (list, dict, set):
            now = to_wire(arg, handle_of)
            if now != sent:
                changed.append([index, now])
    return {"ok": to_wire(result, handle_of), "changed": changed}


_UNARY: dict[str, Callable[[Any], Any]] = {"bool": bool, "len": len, "str": str, "repr": repr, "iter": iter}


def _describe(namespace: dict[str, Any], name: str, handle_of: Callable[[Any], int]) -> list[Any]:
    if name not in namespace:
        return [name, "missing", None]
    value = namespace[name]
    if type(value) is type(os):  # a module: the checker imports its own copy where it may
        return [name, "module", [str(getattr(value, "__name__", "")), handle_of(value)]]
    return [name, "value", to_wire(value, handle_of)]


def _exception_info(exc: BaseException) -> dict[str, Any]:
    kind = type(exc)
    try:
        message = str(exc)[:2000]
    except BaseException:  # noqa: B036 - a hostile __str__ changes nothing
        message = ""
    try:  # where it was raised (the checker's traceback shows the test's side)
        trace = "".join(traceback.format_tb(exc.__traceback__, limit=-4))[-2000:]
    except BaseException:  # noqa: B036 - as above
        trace = ""
    return {
        "type": kind.__name__,
        "builtin": getattr(builtins, kind.__name__, None) is kind,
        "exception": isinstance(exc, Exception),
        "message": message,
        "trace": trace,
    }
