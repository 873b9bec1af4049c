"""How long `serve` keeps a connection that sends no request.

uvicorn closes a keep-alive connection left idle after an answer, but waits without end for a
connection's first request, and for the rest of a request's head once a byte of it came: a few
sockets that connect and send nothing (or a header a minute) held `max_connections` places for
good, and every other client was answered 503. Its HTTP protocol is given a deadline here: a
connection is closed when a whole :data:`HEAD_SECONDS` went by without a request begun, in
progress or answered on it (looked at every :data:`HEAD_SECONDS`: closed 20 to 40 s after its
last request ended, or after it opened; uvicorn's own keep-alive timeout closes most first).
A request whose head came is the app's to time (its body: _asgi.BODY_IDLE_SECONDS).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HEAD_SECONDS", "with_head_deadline"]

HEAD_SECONDS = 20.0


def with_head_deadline(protocol: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``protocol`` (one of uvicorn's HTTP protocols), closing connections that begin no
    request in time. Both of uvicorn's keep the request in progress as ``cycle``."""

    class HeadDeadline(protocol):  # type: ignore[valid-type,misc]
        _deadline: asyncio.TimerHandle | None = None
        _seen: Any = None  # the request in progress or last answered at the last look
        _was_busy = False  # whether it was still in progress then

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._wait()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _wait(self) -> None:
            cycle: Any = getattr(self, "cycle", None)
            self._seen = cycle
            self._was_busy = cycle is not None and not cycle.response_complete
            self._deadline = self.loop.call_later(HEAD_SECONDS, self._look)

        def _look(self) -> None:
            cycle: Any = getattr(self, "cycle", None)
            busy = cycle is not None and not cycle.response_complete
            if cycle is self._seen and not busy and not self._was_busy:
                # No request begun, in progress or answered for a whole period.
                self.transport.close()
            else:
                self._wait()

    HeadDeadline.__name__ = HeadDeadline.__qualname__ = f"HeadDeadline{protocol.__name__}"
    return HeadDeadline
