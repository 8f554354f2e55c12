"""A transport that reads its socket itself to get the *kernel's* receive time of every read.

Why: a single-threaded client stamping bytes in user space is late whenever it is busy (256
requests to write at once, a garbage collection) or not scheduled at all (a shared machine). The
kernel stamps each packet when it arrives (`SO_TIMESTAMPNS`), whatever the process is doing; we
read the stamp with `recvmsg` and hand it to the HTTP parser instead of "now". For TCP the stamp is
that of the last packet the read consumed: the arrival of the last byte read, i.e. of the byte that
completes the newest token in it.

The kernel stamp is wall-clock time (CLOCK_REALTIME); it is moved onto `time.perf_counter()`'s
monotonic clock by the offset between the two read at the same instant, so a clock step between
arrival and read is the only error left, and a stamp outside [request sent, now] falls back to now.

Plain TCP on Linux only: TLS decrypts in user space (https uses the asyncio transport and stamps in
`data_received`).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
from typing import Any

__all__ = ["KERNEL_STAMPS", "StampedSocketTransport"]

#: SO_TIMESTAMPNS (asm-generic value; what x86-64 and arm64 use). Python's socket module lacks it.
SO_TIMESTAMPNS = 35
KERNEL_STAMPS = sys.platform == "linux"
_TIMESPEC = struct.Struct("qq")
_CMSG_SPACE = socket.CMSG_SPACE(_TIMESPEC.size) if KERNEL_STAMPS else 0
_READ = 262144


def enable(sock: socket.socket) -> bool:
    """Ask the kernel to stamp this socket's packets; False where it cannot."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


class StampedSocketTransport:
    """The part of `asyncio.Transport` the HTTP parser uses (write, close, abort), over a raw socket."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: Any) -> None:
        self.loop, self.sock, self.protocol = loop, sock, protocol
        self.fd = sock.fileno()
        self.pending = b""
        self.closed = False
        self.sent_at = 0.0
        loop.add_reader(self.fd, self._readable)
        protocol.connection_made(self)

    def _readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(_READ, _CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        before = time.perf_counter()
        wall = time.time()
        now = time.perf_counter()
        if not data:
            self._lost(None)
            return
        t = now
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(payload)
                # wall clock -> perf_counter, with the offset read between two monotonic reads
                stamped = sec + nsec * 1e-9 - (wall - (before + now) / 2)
                if self.sent_at <= stamped <= now:
                    t = stamped
        self.protocol.feed(data, t)

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self.sent_at = time.perf_counter()
        if self.pending:
            self.pending += data
            return
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as exc:
            self._lost(exc)
            return
        if n < len(data):
            self.pending = data[n:]
            self.loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        try:
            n = self.sock.send(self.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        self.pending = self.pending[n:]
        if not self.pending:
            self.loop.remove_writer(self.fd)

    def close(self) -> None:
        self._lost(None)

    def abort(self) -> None:
        self._lost(None)

    def _lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.fd)
        if self.pending:
            self.loop.remove_writer(self.fd)
        self.sock.close()
        self.protocol.connection_lost(exc)
