"""The embedded engine as an ASGI application: who may call it, how much they may send, routing.

:func:`~langchain_memos.embedded.server.serve` runs it on uvicorn; any ASGI server can run it.
The engine's SQLite work runs on the engine's own threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from langchain_memos.embedded._engine_thread import EngineThreads
from langchain_memos.embedded.engine import API_ROOT, EmbeddedEngine

__all__ = ["MemOSApp", "RefusalError", "is_loopback_host"]

logger = logging.getLogger("langchain_memos.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The engine's own methods; anything else (OPTIONS, HEAD, ...) is answered 501.
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# A refused request whose unread body is at most this large keeps its connection (the server
# drops the body as it arrives); a larger one is not worth reading, and the connection closes.
_DRAIN_BYTES = 1024 * 1024
# Bodies over this size (or of unknown size) are read a few at a time, so that many concurrent
# uploads cannot hold many copies of the body limit in memory at once.
_LARGE_BODY_BYTES = 1024 * 1024
_LARGE_BODIES_AT_ONCE = 2
# A large body that finds no room within this long is answered 503 (retryable), so that slow
# uploads cannot keep others waiting without end.
LARGE_BODY_WAIT_SECONDS = 10.0
# A body is given up (408, connection closed) once it has taken BODY_IDLE_SECONDS more than
# its bytes so far take at BODY_BYTES_PER_SECOND: an upload that stalls, or trickles a byte at a
# time, must not hold its turn and its connection without end; a slow one that moves goes on.
BODY_IDLE_SECONDS = 30.0
BODY_BYTES_PER_SECOND = 16 * 1024
# One that runs the calls and a spare for when a call is slow (see _engine_thread.py): one slow
# request does not hold up every other.
ENGINE_THREADS = 2
_JSON = (b"content-type", b"application/json; charset=utf-8")
_SERVER = (b"server", b"langchain-memos")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def envelope(code: int, message: str) -> bytes:
    """A MemOS error envelope."""
    return json.dumps({"code": code, "data": None, "message": message}).encode()


class RefusalError(Exception):
    """A request answered with an error before it reaches the engine."""

    def __init__(self, status: int, code: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.close = close


def _host_name(host: str) -> str:
    """The name in a Host header: ``[::1]:8765`` -> ``::1``, ``localhost:8765`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _origin_host(origin: str) -> str | None:
    """The host an Origin header names; None when it names none a URL can have ("http://[bad")."""
    try:
        return urlsplit(origin.strip()).hostname
    except ValueError:
        return None


def _names_this_machine(host: str | None) -> bool:
    # RFC 6761: browsers resolve every *.localhost name to loopback themselves.
    return host is not None and (is_loopback_host(host) or host.endswith(".localhost"))


@dataclass(frozen=True)
class Gate:
    """Who may call the server, and how much they may send."""

    token: bytes | None = field(repr=False)
    max_body_bytes: int
    on_loopback: bool

    def refuse_browsers(self, host: str | None, origin: str | None) -> None:
        """Raise a 403 refusal for what a web page can make a browser send to loopback.

        A page on any site can have the browser POST to http://127.0.0.1:8765 (its answer is
        unreadable, but the write happens), and one whose name it rebinds to 127.0.0.1 reads the
        answers too. Browsers say where such requests come from (Origin) and whom they are for
        (Host); MemOS clients outside browsers send no Origin and address the server by its own
        address.
        """
        if origin is not None and not _names_this_machine(_origin_host(origin)):
            raise RefusalError(403, 40306, f"requests from web pages ({origin}) are refused")
        if self.on_loopback and host is not None and not _names_this_machine(_host_name(host)):
            raise RefusalError(403, 40306, f"this server does not answer for {host}")

    def refuse_unauthorized(self, authorization: str | None) -> None:
        """Raise a 401 refusal unless the request carries the token (when one is required)."""
        if self.token is None:
            # No token: any header is ignored, so clients that always send one (the official SDK
            # sends "Token <key>") work unchanged.
            return
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() not in ("bearer", "token") or not credential.strip():
            raise RefusalError(
                401,
                40100,
                "API key required: send Authorization: Bearer <token> (or Token <token>)",
            )
        # Header values arrive as bytes; latin-1 gives them back exactly as sent.
        given = credential.strip().encode("latin-1")
        if not hmac.compare_digest(given, self.token):
            raise RefusalError(401, 40132, "invalid API key")

    def too_large(self) -> RefusalError:
        return RefusalError(
            413, 40000, f"the request body is larger than {self.max_body_bytes} bytes", close=True
        )


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]

    @classmethod
    def of(cls, scope: Scope) -> _Request:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            # Repeated headers joined as HTTP allows; Content-Length twice is caught by the parser.
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        query = scope.get("query_string", b"").decode("latin-1")
        return cls(scope["method"], scope["path"], query, headers)

    @property
    def length(self) -> int | None:
        """The declared body size; ``None`` for a chunked body, whose size is not known."""
        if "transfer-encoding" in self.headers:
            return None
        value = self.headers.get("content-length", "0").strip()
        return int(value) if value.isdigit() else None


class MemOSApp:
    """The ASGI application that serves an :class:`EmbeddedEngine` under the cloud's paths.

    Every endpoint of the engine answers under ``/api/openmem/v1/...`` and at the bare path, with
    the engine's status and envelope; other paths answer 404 and other methods 501. Requests are
    checked from their headers before any body is read (browsers' Origin/Host, the token, the
    declared size), so a refused upload is never received.
    """

    def __init__(self, engine: EmbeddedEngine, gate: Gate) -> None:
        self.engine = engine
        self.gate = gate
        self._threads = EngineThreads(ENGINE_THREADS)
        self._large_bodies: asyncio.Semaphore | None = None

    def close(self) -> None:
        """Stop the engine's threads (after the requests they are running)."""
        self._threads.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = _Request.of(scope)
        status = await self._answer(request, receive, send)
        if logger.isEnabledFor(logging.INFO):
            # The path only: never headers (Authorization), bodies or the query string.
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %d %.1fms", request.method, request.path, status, elapsed)

    async def _answer(self, request: _Request, receive: Receive, send: Send) -> int:
        try:
            self._check_headers(request)
            if self._large_bodies is None:  # made on the loop that serves
                self._large_bodies = asyncio.Semaphore(_LARGE_BODIES_AT_ONCE)
            large = request.length is None or request.length > _LARGE_BODY_BYTES
            async with self._room(self._large_bodies) if large else contextlib.nullcontext():
                body = await self._read_body(receive)
                if body is None:
                    return 499  # the client went away; nobody reads an answer
                status, payload = await self._call_engine(request, body)
        except RefusalError as refusal:
            await self._refuse(request, refusal, send)
            return refusal.status
        await _send(send, status, payload)
        return status

    def _check_headers(self, request: _Request) -> None:
        """Refuse what can be refused from the headers alone, before reading any body."""
        if request.method not in _METHODS:
            raise RefusalError(501, 50000, f"Unsupported method ({request.method!r})")
        self.gate.refuse_browsers(request.headers.get("host"), request.headers.get("origin"))
        self.gate.refuse_unauthorized(request.headers.get("authorization"))
        if request.length is not None and request.length > self.gate.max_body_bytes:
            raise self.gate.too_large()

    @contextlib.asynccontextmanager
    async def _room(self, bodies: asyncio.Semaphore) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(bodies.acquire(), LARGE_BODY_WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise RefusalError(
                503, 50004, "the server is busy reading other large bodies; retry shortly"
            ) from None
        try:
            yield
        finally:
            bodies.release()

    async def _read_body(self, receive: Receive) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        more = True
        started = time.monotonic()
        while more:
            allowed = BODY_IDLE_SECONDS + size / BODY_BYTES_PER_SECOND
            try:
                message = await asyncio.wait_for(
                    receive(), max(allowed - (time.monotonic() - started), 0)
                )
            except asyncio.TimeoutError:
                raise RefusalError(
                    408,
                    40000,
                    f"the request body came too slowly ({size} bytes in {allowed:.0f} s)",
                    close=True,
                ) from None
            if message["type"] == "http.disconnect":
                return None
            part = message.get("body", b"")
            size += len(part)
            if size > self.gate.max_body_bytes:
                raise self.gate.too_large()
            parts.append(part)
            more = message.get("more_body", False)
        return parts[0] if len(parts) == 1 else b"".join(parts)  # most arrive in one message

    async def _call_engine(self, request: _Request, body: bytes) -> tuple[int, bytes]:
        # Both the cloud's layout and the bare paths; whatever follows API_ROOT names the
        # endpoint, so another prefix ("/x/api/openmem/v1/...") is an unknown endpoint, a 404.
        path = request.path
        at_root = path == API_ROOT or path.startswith(API_ROOT + "/")
        route = path[len(API_ROOT) :] if at_root else path
        call = functools.partial(
            self.engine.handle,
            request.method,
            API_ROOT + route,
            body,
            params=dict(parse_qsl(request.query, keep_blank_values=True)) if request.query else {},
            content_type=request.headers.get("content-type") or "application/json",
        )
        try:
            return await self._threads.run(call)
        except Exception:  # the engine promises never to raise; a bug still gets an answer
            logger.exception("the embedded engine failed on %s %s", request.method, path)
            return 500, envelope(50000, "internal error in the embedded engine")

    async def _refuse(self, request: _Request, refusal: RefusalError, send: Send) -> None:
        headers = [(b"www-authenticate", b"Bearer")] if refusal.status == 401 else []
        # The body is still unread. The server drops a body that arrives after the answer, but a
        # client that waits for "100 Continue" never sends it, and a large one is not worth
        # reading: then the connection cannot carry another request.
        unread = request.length is None or request.length > _DRAIN_BYTES
        waiting = request.headers.get("expect", "").lower() == "100-continue"
        if refusal.close or unread or waiting:
            headers.append((b"connection", b"close"))
        await _send(send, refusal.status, envelope(refusal.code, refusal.message), headers)


async def _send(
    send: Send, status: int, payload: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    length = (b"content-length", str(len(payload)).encode())
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, length, _SERVER, *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
