"""What bounds serve's threads and memory: the connections it holds, and the bodies it reads.

Each connection holds a thread. At most ``limit`` are held: past it, the longest-idle keep-alive
connection is closed to make room, and when every one is busy the new one is answered 503 from the
accepting thread, without a thread of its own. Request bodies over ``SMALL_BODY`` bytes draw on a
shared budget before they are read, so that a few large uploads at once cannot take the memory of
many; a body that finds no room within ``BODY_WAIT_SECONDS`` is answered 503.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

__all__ = ["BODY_WAIT_SECONDS", "SMALL_BODY", "BodyBudget", "Connections", "refuse_busy", "shut"]

SMALL_BODY = 64 * 1024
BODY_WAIT_SECONDS = 10.0


def shut(connection: socket.socket) -> None:
    # Wakes the handler thread blocked reading from it; the thread then closes it.
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def refuse_busy(connection: socket.socket, message: str) -> None:
    """Answer 503 on a connection no thread will serve (the caller closes it)."""
    payload = json.dumps({"code": 50004, "data": None, "message": message}).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        connection.settimeout(1.0)
        connection.sendall(head.encode() + payload)


class Connections:
    """The open connections, idle (waiting for a request) or busy: at most ``limit`` of them, and
    close() can end them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._changed = threading.Condition()
        self._idle: dict[socket.socket, float] = {}  # since when
        self._busy: set[socket.socket] = set()
        self.closing = False

    def admit(self, connection: socket.socket) -> bool:
        """Make room for a new connection; ``False`` when every held one is busy (or closing)."""
        with self._changed:
            if self.closing:
                return False
            while len(self._idle) + len(self._busy) >= self.limit:
                if not self._idle:
                    return False
                oldest = min(self._idle, key=self._idle.__getitem__)
                del self._idle[oldest]
                shut(oldest)
            self._idle[connection] = time.monotonic()
            return True

    def begin(self, connection: socket.socket) -> bool:
        """A request arrived; ``False`` when the server is closing and it must be dropped."""
        with self._changed:
            if self.closing:
                return False
            self._idle.pop(connection, None)
            self._busy.add(connection)
            return True

    def end(self, connection: socket.socket) -> bool:
        """The request was answered; ``False`` when the connection must not wait for another."""
        with self._changed:
            if connection in self._busy:
                self._busy.discard(connection)
                self._idle[connection] = time.monotonic()
            return not self.closing

    def closed(self, connection: socket.socket) -> None:
        with self._changed:
            self._idle.pop(connection, None)
            self._busy.discard(connection)
            self._changed.notify_all()

    def close_all(self, grace: float) -> None:
        """End idle connections now, and wait up to ``grace`` seconds for busy ones to finish."""
        with self._changed:
            self.closing = True
            for connection in self._idle:
                shut(connection)
            self._changed.wait_for(lambda: not self._idle and not self._busy, timeout=grace)


class BodyBudget:
    """Bytes of request bodies that may be held at once."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._changed = threading.Condition()

    def reserve(self, size: int, timeout: float) -> bool:
        """Take ``size`` bytes, waiting up to ``timeout`` seconds; ``False`` if none came."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._free >= size, timeout=timeout):
                return False
            self._free -= size
            return True

    def release(self, size: int) -> None:
        with self._changed:
            self._free += size
            self._changed.notify_all()
