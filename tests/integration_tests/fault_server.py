"""A loopback MemOS whose failures are scripted at run time, for the fault-tolerance tests.

Healthy answers come from an :class:`~langchain_memos.embedded.EmbeddedEngine` behind a real
HTTP/1.1 server (keep-alive, so the clients' connection pools are exercised too). Per endpoint,
a test queues faults that the next requests get, one each, in order, and can make a fault
stick until it heals the endpoint::

    with FaultServer() as server:
        server.plan("/search/memory", [Fault.status(503), Fault.status(503)])  # then healthy
        server.always("/add/message", Fault.reset())  # until server.heal("/add/message")
        client = MemOSClient(base_url=server.base_url, max_retries=2, timeout=1)

Every request is recorded as a :class:`Hit` (endpoint, arrival time, JSON body, the fault it
got), so tests can count attempts and check how far apart they came.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from typing_extensions import override

from langchain_memos.embedded import EmbeddedEngine

__all__ = ["API_PREFIX", "Fault", "FaultServer", "Hit", "free_port", "html_page"]

API_PREFIX = "/api/openmem/v1"

# The page a reverse proxy (nginx here) sends when the service behind it is in trouble.
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def html_page(status: int) -> bytes:
    """The HTML error page a proxy answers ``status`` with."""
    return _HTML_PAGE.format(status=status, reason=HTTPStatus(status).phrase).encode()


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Fault:
    """What one request gets. Build one with the class methods.

    ``kind`` is ``"answer"`` (``body``, else the engine's answer), ``"reset"`` (the connection
    is reset, no answer), ``"disconnect"`` (closed cleanly, no answer) or ``"truncate"`` (half of
    the engine's answer, then the connection is closed). ``processed`` says whether the engine
    handles the request at all: a write is stored when it is, even if its answer is then lost.
    """

    kind: str = "answer"
    name: str = "ok"
    http_status: int = 200
    body: bytes | None = None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    processed: bool = False
    declare_length: bool = True

    @classmethod
    def ok(cls) -> Fault:
        """The healthy answer, at once."""
        return cls(processed=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The healthy answer after ``seconds`` (a read timeout when the client waits less)."""
        return cls(name=f"slow {seconds:g} s", delay=seconds, processed=True)

    @classmethod
    def status(cls, http_status: int, *, retry_after: float | None = None) -> Fault:
        """HTTP ``http_status`` with a proxy's HTML error page, and a ``Retry-After`` if given."""
        headers = () if retry_after is None else (("Retry-After", f"{retry_after:g}"),)
        return cls(
            name=f"HTTP {http_status} (HTML)",
            http_status=http_status,
            body=html_page(http_status),
            content_type="text/html",
            headers=headers,
        )

    @classmethod
    def error(
        cls,
        code: int,
        message: str,
        *,
        http_status: int = 200,
        retry_after: float | None = None,
    ) -> Fault:
        """The documented error envelope ``{"code": code, "data": null, "message": ...}``.

        With the default HTTP 200: the service signals errors in the envelope alone, too.
        """
        headers = () if retry_after is None else (("Retry-After", f"{retry_after:g}"),)
        envelope = {"code": code, "data": None, "message": message}
        return cls(
            name=f"code {code} (HTTP {http_status})",
            http_status=http_status,
            body=json.dumps(envelope).encode(),
            headers=headers,
        )

    @classmethod
    def reply(cls, payload: object, *, http_status: int = 200, name: str = "custom reply") -> Fault:
        """Any JSON answer: a success envelope with missing fields, a bare object, ..."""
        return cls(name=name, http_status=http_status, body=json.dumps(payload).encode())

    @classmethod
    def non_json(cls, http_status: int = 200) -> Fault:
        """An HTML page where JSON belongs (a captive portal or a proxy's maintenance page)."""
        return cls(
            name=f"HTML page (HTTP {http_status})",
            http_status=http_status,
            body=html_page(503 if http_status < 400 else http_status),
            content_type="text/html",
        )

    @classmethod
    def reset(cls, *, processed: bool = False) -> Fault:
        """Read the request, then reset the connection (RST) without an answer."""
        return cls(kind="reset", name="connection reset", processed=processed)

    @classmethod
    def disconnect(cls, *, processed: bool = False) -> Fault:
        """Read the request, then close the connection without an answer."""
        return cls(kind="disconnect", name="closed without an answer", processed=processed)

    @classmethod
    def truncated(cls, *, declare_length: bool = True) -> Fault:
        """Half of the healthy answer, then the connection is closed.

        With ``declare_length`` the headers promise the whole body (``Content-Length``); without
        it the body is delimited by the close, so the client receives broken JSON as if complete.
        """
        return cls(
            kind="truncate",
            name="truncated body" if declare_length else "truncated body (no Content-Length)",
            processed=True,
            declare_length=declare_length,
        )


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    endpoint: str  # the path after the API root, e.g. "/search/memory"
    at: float  # time.monotonic() once the request was read
    body: Any  # the parsed JSON body; None when there is none or it is not JSON
    fault: str  # the name of the Fault it got


def _endpoint(path: str) -> str:
    return path.removeprefix(API_PREFIX) or "/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, owner: FaultServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "memos-fault-server"
    timeout = 10  # an idle keep-alive connection gives its thread back after this long
    server: _Server

    @override
    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the hits are the log."""

    @override
    def setup(self) -> None:
        super().setup()
        self.server.owner._opened(self.connection)

    @override
    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._closed(self.connection)

    def do_POST(self) -> None:
        try:
            self._answer()
        except OSError:  # the client gave up (timeout) or the server is closing
            self.close_connection = True

    do_GET = do_POST  # noqa: N815
    do_DELETE = do_POST  # noqa: N815

    def _answer(self) -> None:
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        endpoint = _endpoint(url.path)
        fault = owner._next_fault(endpoint)
        owner._record(Hit(self.command, endpoint, time.monotonic(), _json(body), fault.name))
        if fault.delay and owner._closing.wait(fault.delay):
            self.close_connection = True
            return
        status, payload = fault.http_status, fault.body or b""
        if fault.processed:
            answer = owner.engine.handle(
                self.command,
                API_PREFIX + endpoint,
                body,
                params=dict(parse_qsl(url.query, keep_blank_values=True)),
                content_type=self.headers.get("Content-Type") or "application/json",
            )
            if fault.body is None:
                status, payload = answer
        if fault.kind == "reset":
            self._reset()
        elif fault.kind == "disconnect":
            self.close_connection = True
        elif fault.kind == "truncate":
            self._send(status, payload[: len(payload) // 2], fault, declared=len(payload))
            self.close_connection = True
        else:
            self._send(status, payload, fault, declared=len(payload))

    def _send(self, status: int, payload: bytes, fault: Fault, *, declared: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", fault.content_type)
        if fault.declare_length:
            self.send_header("Content-Length", str(declared))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in fault.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.close_connection = True


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class FaultServer:
    """A MemOS on ``127.0.0.1`` that answers from ``engine`` unless a fault is scheduled.

    Args:
        engine: Serves the healthy answers (default: a fresh in-memory engine).
        port: Where to listen (default: a free port). Give the port of an earlier
            :func:`free_port` to bring a "down" service up where clients already point.
    """

    def __init__(self, engine: EmbeddedEngine | None = None, *, port: int = 0) -> None:
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else EmbeddedEngine(":memory:")
        self._lock = threading.Condition()
        self._plans: dict[str, deque[Fault]] = {}
        self._sticky: dict[str, Fault] = {}
        self._hits: list[Hit] = []
        self._connections: set[socket.socket] = set()
        self.connections_opened = 0
        """Connections clients opened so far: a client reusing its pool opens one."""
        self._closing = threading.Event()
        self._server = _Server(port, self)
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}{API_PREFIX}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="memos-fault-server", daemon=True
        )
        self._thread.start()

    # ---- scripting -----------------------------------------------------------------------

    def plan(self, endpoint: str, faults: Iterable[Fault]) -> None:
        """Queue ``faults`` for the next requests to ``endpoint`` (e.g. ``"/search/memory"``)."""
        with self._lock:
            self._plans.setdefault(endpoint, deque()).extend(faults)

    def always(self, endpoint: str, fault: Fault) -> None:
        """Answer every request to ``endpoint`` with ``fault`` (after any planned ones)."""
        with self._lock:
            self._sticky[endpoint] = fault

    def heal(self, endpoint: str | None = None) -> None:
        """Drop the planned and sticky faults of ``endpoint`` (of every endpoint by default)."""
        with self._lock:
            for table in (self._plans, self._sticky):
                if endpoint is None:
                    table.clear()
                else:
                    table.pop(endpoint, None)

    def _next_fault(self, endpoint: str) -> Fault:
        with self._lock:
            planned = self._plans.get(endpoint)
            if planned:
                return planned.popleft()
            return self._sticky.get(endpoint) or Fault.ok()

    # ---- what was received ---------------------------------------------------------------

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)
            self._lock.notify_all()

    def hits(self, endpoint: str | None = None) -> list[Hit]:
        """The requests received so far (to ``endpoint`` only, if given), oldest first."""
        with self._lock:
            return [hit for hit in self._hits if endpoint is None or hit.endpoint == endpoint]

    def count(self, endpoint: str) -> int:
        """How many requests ``endpoint`` received."""
        return len(self.hits(endpoint))

    def wait_for(self, endpoint: str, count: int, timeout: float) -> bool:
        """Wait until ``endpoint`` received ``count`` requests; ``False`` if ``timeout`` passed."""

        def arrived() -> bool:
            return sum(hit.endpoint == endpoint for hit in self._hits) >= count

        with self._lock:
            return self._lock.wait_for(arrived, timeout)

    # ---- lifecycle -----------------------------------------------------------------------

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            self.connections_opened += 1

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close(self) -> None:
        """Stop listening, end the requests in progress and close every connection."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wakes the handlers waiting for a next request
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
