"""The plain-value codec and the message framing of checked runs (stdlib only; runs in the sandbox).

The host sends ``_wire.py``, ``_candidate.py``, ``_checker.py`` and ``_launcher.py`` as ONE text to
``python -I -c``, so these files share one namespace there and never import each other at run
time (their imports of each other are for the type checker only). Host-side tests import this one
as a module.

What crosses between the candidate process and the checker, in both directions, is plain data:
None, bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset, range,
Decimal, Fraction, dict views, and numpy scalars and arrays of numbers (rebuilt by the receiver's
own numpy from dtype, shape and numbers), nested (``to_wire`` / ``from_wire``). An instance of a
subclass of a plain type crosses as its plain value, read with the base type's own methods (a
namedtuple as a tuple, an IntEnum as an int), so whatever the subclass overrides, ``__eq__``
included, stays behind. Any other object stays where it is and crosses as a *handle* (``{"h": n}``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback

TYPE_CHECKING = False  # typing is not imported in the sandbox (start-up time); see runner.launcher_code
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: nesting depth a value may have (deeper, or a value that contains itself, is rejected)
MAX_DEPTH = 100
#: the largest message either side accepts (a longer one is a protocol error: the sample fails)
MAX_MESSAGE = 64 * 1024 * 1024
#: ints with more bits than this cross as hex text (str() of an int is limited to 4300 digits)
_HEX_BITS = 4000


class ValueRejected(Exception):
    """Data that is not a plain value (or names an unknown handle)."""


# --------------------------------------------------------------------------------------------
# The value codec. ``to_wire`` runs on trusted values in the checker and on anything at all in
# the candidate process (which controls its own side anyway); ``from_wire`` is the checker's
# defence and only ever builds the plain types above, or Remote proxies for handles.


def to_wire(value: Any, handle_of: Callable[[Any], int], depth: int = 0) -> Any:
    """A JSON-able description of ``value``; objects that are not plain go through ``handle_of``."""
    if depth > MAX_DEPTH:
        raise ValueRejected(f"a value nested deeper than {MAX_DEPTH} levels (or one that contains itself)")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if kind is int:
        return value if value.bit_length() <= _HEX_BITS else {"i": format(value, "x")}
    deeper = depth + 1
    if kind is list:
        return [to_wire(v, handle_of, deeper) for v in value]
    if kind is tuple:
        return {"t": [to_wire(v, handle_of, deeper) for v in value]}
    if kind is dict:
        return {
            "d": [[to_wire(k, handle_of, deeper), to_wire(v, handle_of, deeper)] for k, v in value.items()]
        }
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "fs": [to_wire(v, handle_of, deeper) for v in value]}
    if kind is bytes or kind is bytearray:
        return {"b" if kind is bytes else "ba": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind is range:
        return {"r": [value.start, value.stop, value.step]}
    decimal, fractions = sys.modules.get("decimal"), sys.modules.get("fractions")  # imported lazily
    if decimal is not None and kind is decimal.Decimal:
        return {"dec": str(value)}
    if fractions is not None and kind is fractions.Fraction:
        return {"fr": [to_wire(value.numerator, handle_of), to_wire(value.denominator, handle_of)]}
    if kind is _ITEMS:
        return {"di": [[to_wire(k, handle_of, deeper), to_wire(v, handle_of, deeper)] for k, v in value]}
    if kind in _VIEWS:
        return {_VIEWS[kind]: [to_wire(v, handle_of, deeper) for v in value]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and issubclass(kind, numpy.generic | numpy.ndarray) and value.dtype.kind in "biufc":
        shape = None if issubclass(kind, numpy.generic) else [int(n) for n in value.shape]
        return {"np": [str(value.dtype.name), shape, to_wire(value.tolist(), handle_of, deeper)]}
    plain = _plain_base(kind, value)
    if plain is not _NOT_PLAIN:
        return to_wire(plain, handle_of, deeper)
    return {"h": handle_of(value)}


_NOT_PLAIN = object()
_ITEMS: type = type({}.items())
_VIEWS = {type({}.keys()): "dk", type({}.values()): "dv", _ITEMS: "di"}


def _plain_base(kind: type, value: Any) -> Any:
    """The plain value inside an instance of a subclass of a plain type, read with the base
    type's own methods (never the subclass's); ``_NOT_PLAIN`` for anything else. (By ``type``,
    not ``isinstance``: an object can claim any ``__class__``.)"""
    if issubclass(kind, int):  # bool cannot be subclassed; IntEnum, IntFlag, ...
        return int.__int__(value)
    if issubclass(kind, float):
        return float.__float__(value)
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, tuple):  # namedtuple, ...
        return tuple(tuple.__iter__(value))
    if issubclass(kind, list):
        return list(list.__iter__(value))
    if issubclass(kind, dict):  # OrderedDict, defaultdict, Counter
        return dict(dict.items(value))
    if issubclass(kind, set):
        return set(set.__iter__(value))
    if issubclass(kind, frozenset):
        return frozenset(frozenset.__iter__(value))
    if issubclass(kind, bytes):
        return bytes.__getitem__(value, slice(None))
    if issubclass(kind, complex):
        return complex(complex.real.__get__(value), complex.imag.__get__(value))
    return _NOT_PLAIN


def from_wire(data: Any, object_of: Callable[[int], Any], depth: int = 0) -> Any:
    """The value ``data`` describes: plain types only, handles through ``object_of``."""
    if depth > MAX_DEPTH:
        raise ValueRejected(f"a value nested deeper than {MAX_DEPTH} levels")
    kind = type(data)
    if data is None or kind is bool or kind is int or kind is float or kind is str:
        return data
    deeper = depth + 1
    if kind is list:
        return [from_wire(v, object_of, deeper) for v in data]
    if kind is not dict or len(data) != 1:
        raise ValueRejected(f"not a plain value: {kind.__name__}")
    ((tag, body),) = data.items()
    try:
        return _TAGS[tag](body, object_of, deeper)
    except ValueRejected:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise ValueRejected(f"malformed {tag!r} value ({type(exc).__name__})") from None


def _items(body: Any, object_of: Callable[[int], Any], depth: int) -> list[Any]:
    if type(body) is not list:
        raise ValueRejected("malformed container")
    return [from_wire(v, object_of, depth) for v in body]


def _pairs(body: Any, object_of: Callable[[int], Any], depth: int) -> dict[Any, Any]:
    pairs = _items(body, object_of, depth)
    if not all(type(p) is list and len(p) == 2 for p in pairs):
        raise ValueRejected("malformed dict")
    return {k: v for k, v in pairs}


def _text(body: Any) -> str:
    if type(body) is not str:
        raise ValueRejected("malformed text")
    return body


def _ints(body: Any, count: int) -> list[int]:
    if type(body) is not list or len(body) != count or not all(type(v) is int for v in body):
        raise ValueRejected("malformed numbers")
    return body


def _handle(body: Any, object_of: Callable[[int], Any], depth: int) -> Any:
    if type(body) is not int:
        raise ValueRejected("malformed handle")
    return object_of(body)


_TAGS: dict[str, Callable[[Any, Callable[[int], Any], int], Any]] = {
    "t": lambda b, o, d: tuple(_items(b, o, d)),
    "s": lambda b, o, d: set(_items(b, o, d)),
    "fs": lambda b, o, d: frozenset(_items(b, o, d)),
    "d": _pairs,
    "b": lambda b, o, d: bytes.fromhex(_text(b)),
    "ba": lambda b, o, d: bytearray.fromhex(_text(b)),
    "i": lambda b, o, d: int(_text(b), 16),
    "c": lambda b, o, d: complex(*[float(_number(v)) for v in _pair(b)]),
    "r": lambda b, o, d: range(*_ints(b, 3)),
    "dec": lambda b, o, d: _decimal(_text(b)),
    "fr": lambda b, o, d: _fraction(*[_exact_int(v) for v in _pair(b)]),
    "dk": lambda b, o, d: dict.fromkeys(_items(b, o, d)).keys(),
    "dv": lambda b, o, d: dict(enumerate(_items(b, o, d))).values(),
    "di": lambda b, o, d: _pairs(b, o, d).items(),
    "np": lambda b, o, d: _numpy(b, o, d),
    "h": _handle,
}


def _decimal(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _fraction(numerator: int, denominator: int) -> Any:
    from fractions import Fraction

    return Fraction(numerator, denominator)


def _numpy(body: Any, object_of: Callable[[int], Any], depth: int) -> Any:
    """A numpy scalar or array of numbers, built by this side's own numpy from plain numbers."""
    if type(body) is not list or len(body) != 3 or type(body[0]) is not str:
        raise ValueRejected("malformed numpy value")
    name, shape, data = body
    try:
        import numpy
    except ImportError:
        raise ValueRejected("a numpy value, and numpy is not installed here") from None
    dtype = numpy.dtype(name)
    value = from_wire(data, object_of, depth)
    if dtype.kind not in "biufc" or dtype.name != name or not _numbers_only(value):
        raise ValueRejected("a numpy value that is not made of numbers")
    if shape is None:
        return dtype.type(value)
    array = numpy.array(value, dtype=dtype)
    if type(shape) is not list or list(array.shape) != shape:
        raise ValueRejected("a numpy array whose shape does not match its data")
    return array


def _numbers_only(value: Any) -> bool:
    if type(value) is list:
        return all(_numbers_only(v) for v in value)
    return type(value) in (bool, int, float, complex)


def _pair(body: Any) -> list[Any]:
    if type(body) is not list or len(body) != 2:
        raise ValueRejected("malformed pair")
    return body


def _number(value: Any) -> float | int:
    if type(value) is not float and type(value) is not int:
        raise ValueRejected("malformed number")
    return value


def _exact_int(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is dict and set(value) == {"i"}:
        return int(_text(value["i"]), 16)
    raise ValueRejected("malformed integer")


# --------------------------------------------------------------------------------------------
# Framing: a 4-byte big-endian length, then that many bytes of JSON.


class PeerGone(BaseException):
    """The other process closed its end (it exited, crashed or was killed).

    A BaseException, so that a test's ``except Exception`` cannot swallow it."""


class ProtocolBroken(BaseException):
    """The candidate process sent something that is not a well-formed answer (poisons the run)."""


def send(fd: int, message: Any) -> None:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def recv(fd: int, cap: int = MAX_MESSAGE) -> Any:
    size = int.from_bytes(_read_exactly(fd, 4), "big")
    if size > cap:
        raise ProtocolBroken(f"a message of {size} bytes (the limit is {cap})")
    try:
        return json.loads(_read_exactly(fd, size).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolBroken(f"a message that is not JSON ({type(exc).__name__})") from None


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise PeerGone("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036 - a closed or replaced stream is the sample's problem
            pass


def print_exception() -> None:
    try:
        traceback.print_exc()
    except BaseException:  # noqa: B036 - a hostile __str__ must not change the outcome
        pass
