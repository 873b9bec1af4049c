"""How long `serve` keeps a connection that sends no request.

uvicorn closes a keep-alive connection left idle after an answer, but waits without end for a
connection's first request, and for the rest of a request's head once a byte of it came: a few
sockets that connect and send nothing (or a header a minute) held `max_connections` places for
good, and every other client was answered 503. Its HTTP protocol is given a deadline here: a
connection that has not begun a request within :data:`HEAD_SECONDS` (none since the last look,
and none in progress) is closed. A request whose head came is the app's to time (a stalled
body: _asgi.BODY_IDLE_SECONDS).
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
        _seen: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._wait()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _wait(self) -> None:
            self._seen = getattr(self, "cycle", None)
            self._deadline = self.loop.call_later(HEAD_SECONDS, self._look)

        def _look(self) -> None:
            cycle: Any = getattr(self, "cycle", None)
            if cycle is self._seen and (cycle is None or cycle.response_complete):
                self.transport.close()  # no request begun since the last look
            else:
                self._wait()

    HeadDeadline.__name__ = HeadDeadline.__qualname__ = f"HeadDeadline{protocol.__name__}"
    return HeadDeadline
