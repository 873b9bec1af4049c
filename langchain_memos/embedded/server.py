"""The embedded engine served over real HTTP, under the MemOS cloud's path layout.

For clients outside this process: other languages, MCP tools, the official MemOS SDK, cassette
recording. ``python -m langchain_memos serve`` runs it from the command line; :func:`serve` starts
it in a background thread of the current process.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import selectors
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from typing_extensions import override

from langchain_memos._exceptions import ConfigurationError
from langchain_memos.embedded._limits import (
    BODY_WAIT_SECONDS,
    SMALL_BODY,
    BodyBudget,
    Connections,
    refuse_busy,
)
from langchain_memos.embedded.engine import API_ROOT, EmbeddedEngine
from langchain_memos.embedded.transport import open_engine

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_PORT",
    "MAX_BODY_BYTES",
    "TOKEN_ENV",
    "MemOSServer",
    "is_loopback_host",
    "serve",
]

logger = logging.getLogger("langchain_memos.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV = "MEMOS_SERVE_TOKEN"  # noqa: S105 (the variable's name, not a token)
# The cloud accepts knowledge-base files of up to 100 MB; the rest is room for the form around one.
MAX_BODY_BYTES = 110 * 1024 * 1024

# A refused request's body up to this size is read and dropped, so its connection stays usable;
# a larger one is not worth reading, and the connection is closed instead.
_DRAIN_BYTES = 1024 * 1024
# After refusing a body, keep reading (and dropping) it this long before closing: closing a socket
# with unread data sends a reset, which can destroy the answer before the client has read it.
_LINGER_SECONDS = 2.0
# Each connection holds a thread; an idle keep-alive connection gives it back after this long.
_IDLE_SECONDS = 15.0
DEFAULT_MAX_CONNECTIONS = 64
# How long close() lets requests in progress finish.
_CLOSE_GRACE_SECONDS = 5.0
_MAX_TOKEN_LENGTH = 4096
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _envelope(code: int, message: str) -> bytes:
    return json.dumps({"code": code, "data": None, "message": message}).encode()


class _RefusalError(Exception):
    """A request answered with an error before it reaches the engine."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _host_name(host: str) -> str:
    """The name in a Host header: ``[::1]:8765`` -> ``::1``, ``localhost:8765`` -> ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _names_this_machine(host: str | None) -> bool:
    # RFC 6761: browsers resolve every *.localhost name to loopback themselves.
    return host is not None and (is_loopback_host(host) or host.endswith(".localhost"))


@dataclass(frozen=True)
class _Settings:
    engine: EmbeddedEngine
    token: bytes | None = field(repr=False)
    max_body_bytes: int
    on_loopback: bool
    bodies: BodyBudget

    def refuse_browsers(self, host: str | None, origin: str | None) -> None:
        """Raise a 403 refusal for what a web page can make a browser send to loopback.

        A page on any site can have the browser POST to http://127.0.0.1:8765 (its answer is
        unreadable, but the write happens), and one whose name it rebinds to 127.0.0.1 reads the
        answers too. Browsers say where such requests come from (Origin) and whom they are for
        (Host); MemOS clients outside browsers send no Origin and address the server by its own
        address.
        """
        if origin is not None and not _names_this_machine(urlsplit(origin.strip()).hostname):
            raise _RefusalError(403, 40306, f"requests from web pages ({origin}) are refused")
        if self.on_loopback and host is not None and not _names_this_machine(_host_name(host)):
            raise _RefusalError(403, 40306, f"this server does not answer for {host}")

    def refuse_unauthorized(self, authorization: str | None) -> None:
        """Raise a 401 refusal unless the request carries the token (when one is required)."""
        if self.token is None:
            # No token: any header is ignored, so clients that always send one (the official SDK
            # sends "Token <key>") work unchanged.
            return
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() not in ("bearer", "token") or not credential.strip():
            raise _RefusalError(
                401,
                40100,
                "API key required: send Authorization: Bearer <token> (or Token <token>)",
            )
        # http.server decodes header values as latin-1, so this gives back the bytes as sent.
        given = credential.strip().encode("latin-1")
        if not hmac.compare_digest(given, self.token):
            raise _RefusalError(401, 40132, "invalid API key")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    # Rebinding right after a restart needs it; on Windows it would let others share the port.
    allow_reuse_address = os.name != "nt"
    timeout = 0.0  # handle_request() is called only once a connection is waiting: never block

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        settings: _Settings,
        max_connections: int,
    ) -> None:
        self.address_family = family
        self.settings = settings
        self.connections = Connections(max_connections)
        # Before binding: a failed bind calls server_close(), which closes these too.
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, _Handler)

    def run(self) -> None:
        """Accept connections until :meth:`stop`.

        Unlike ``serve_forever``, which polls for its shutdown flag (every 0.5 s by default), it
        sleeps until a connection or :meth:`stop` wakes it, so that it stops at once.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = [key.fileobj for key, _ in selector.select()]
                if self._wake_reader in ready:
                    return
                self.handle_request()

    def stop(self) -> None:
        self._wake_writer.send(b"\0")

    @override
    def process_request(self, request: Any, client_address: Any) -> None:
        # Here, on the accepting thread: a connection turned away never gets a thread.
        if not self.connections.admit(request):
            refuse_busy(request, "the server is busy: every connection it holds is in use; retry")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    @override
    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    @override
    def server_bind(self) -> None:
        # HTTPServer.server_bind also looks up the host's FQDN, a DNS query nothing here needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    @override
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-answer is routine; socketserver would print a traceback.
        logger.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, with Content-Length on every answer
    server_version = "langchain-memos"
    timeout = _IDLE_SECONDS
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (~40 ms on Linux) on every back-to-back keep-alive request.
    disable_nagle_algorithm = True
    server: _HTTPServer
    _linger = False
    _reserved = 0  # bytes of the body budget this request holds

    # ---- connection life cycle -----------------------------------------------------------

    @override
    def parse_request(self) -> bool:
        if not self.server.connections.begin(self.connection):
            self.close_connection = True
            return False
        return super().parse_request()

    @override
    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            if not self.server.connections.end(self.connection):
                self.close_connection = True

    @override
    def finish(self) -> None:
        try:
            super().finish()
            if self._linger:
                self._drain_and_close()
        finally:
            self.server.connections.closed(self.connection)

    def _drain_and_close(self) -> None:
        connection = self.connection
        try:
            connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                connection.settimeout(left)
                if not connection.recv(65536):
                    break
        except OSError:
            pass

    # ---- requests ------------------------------------------------------------------------

    def do_POST(self) -> None:
        started = time.perf_counter()
        status = self._answer()
        if logger.isEnabledFor(logging.INFO):
            # The path only: never headers (Authorization), bodies or the query string.
            logger.info(
                "%s %s %d %.1fms",
                self.command,
                urlsplit(self.path).path,
                status,
                (time.perf_counter() - started) * 1000,
            )

    do_GET = do_POST  # noqa: N815
    do_PUT = do_POST  # noqa: N815
    do_PATCH = do_POST  # noqa: N815
    do_DELETE = do_POST  # noqa: N815

    def _answer(self) -> int:
        try:
            self._check_early()
            body = self._read_body()
        except _RefusalError as refusal:
            self._release()
            self._refuse(refusal)
            return refusal.status
        try:
            return self._answer_with(body)
        finally:
            self._release()

    def _answer_with(self, body: bytes) -> int:
        settings = self.server.settings
        url = urlsplit(self.path)
        # Both the cloud's layout and the bare paths; whatever follows API_ROOT names the
        # endpoint, so another prefix ("/x/api/openmem/v1/...") is an unknown endpoint, a 404.
        route = url.path[len(API_ROOT) :] if url.path.startswith(API_ROOT + "/") else url.path
        try:
            status, payload = settings.engine.handle(
                self.command,
                API_ROOT + route,
                body,
                params=dict(parse_qsl(url.query, keep_blank_values=True)),
                content_type=self.headers.get("Content-Type") or "application/json",
            )
        except Exception:  # the engine promises never to raise; a bug still gets an answer
            logger.exception("the embedded engine failed on %s %s", self.command, url.path)
            status, payload = 500, _envelope(50000, "internal error in the embedded engine")
        self._send(status, payload)
        return status

    def _check_early(self) -> None:
        """Refuse what can be refused from the headers alone, before reading any body."""
        settings = self.server.settings
        settings.refuse_browsers(self.headers.get("Host"), self.headers.get("Origin"))
        settings.refuse_unauthorized(self.headers.get("Authorization"))
        length = self._content_length()
        if length is not None and length > settings.max_body_bytes:
            raise self._too_large()

    def _too_large(self) -> _RefusalError:
        limit = self.server.settings.max_body_bytes
        return _RefusalError(413, 40000, f"the request body is larger than {limit} bytes")

    def _content_length(self) -> int | None:
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return None
        if len(set(values)) > 1 or not _DIGITS.fullmatch(values[0].strip()):
            raise _RefusalError(400, 40000, "invalid Content-Length")
        if self.headers.get("Transfer-Encoding") is not None:
            # Both framings at once is how requests get smuggled past proxies; accept neither.
            raise _RefusalError(400, 40000, "Content-Length and Transfer-Encoding together")
        return int(values[0])

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise _RefusalError(501, 40000, f"unsupported Transfer-Encoding: {encoding}")
            return self._read_chunked()
        length = self._content_length() or 0
        self._reserve(length)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise _RefusalError(400, 40000, "the request body ended early")
        return body

    def _read_chunked(self) -> bytes:
        limit = self.server.settings.max_body_bytes
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip().decode("latin-1")
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                raise _RefusalError(400, 40000, "malformed chunked body")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise self._too_large()
            self._reserve(total - self._reserved)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3).strip():
                raise _RefusalError(400, 40000, "malformed chunked body")
            chunks.append(chunk)
        for _ in range(100):  # trailer fields, ignored
            if self.rfile.readline(65536).strip() == b"":
                break
        else:
            raise _RefusalError(400, 40000, "too many trailer fields")
        return b"".join(chunks)

    def _reserve(self, size: int) -> None:
        """Hold ``size`` more bytes of the body budget, once the body is larger than small."""
        if self._reserved + size <= SMALL_BODY:
            return
        if not self.server.settings.bodies.reserve(size, BODY_WAIT_SECONDS):
            raise _RefusalError(
                503, 50004, "the server is busy reading other large bodies; retry shortly"
            )
        self._reserved += size

    def _release(self) -> None:
        if self._reserved:
            self.server.settings.bodies.release(self._reserved)
            self._reserved = 0

    @override
    def handle_expect_100(self) -> bool:
        # A client that asks first (curl does for large bodies) is refused before it sends them.
        try:
            self._check_early()
        except _RefusalError as refusal:
            self._refuse(refusal, body_sent=False)
            return False
        return super().handle_expect_100()

    # ---- answers -------------------------------------------------------------------------

    def _refuse(self, refusal: _RefusalError, *, body_sent: bool = True) -> None:
        """Answer ``refusal``; ``body_sent``: the client sends the body without waiting for a
        100 Continue (when it waits, refusing means it will not send it at all)."""
        headers = {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else {}
        keep_open = False
        if refusal.status in (401, 403) and body_sent and "Transfer-Encoding" not in self.headers:
            # A small unread body is dropped, so that the connection can serve the next request.
            length = self._content_length_or_none()
            if length is not None and length <= _DRAIN_BYTES:
                keep_open = len(self.rfile.read(length)) == length
            elif length is None:
                keep_open = True
        self._send(refusal.status, _envelope(refusal.code, refusal.message), headers, keep_open)

    def _content_length_or_none(self) -> int | None:
        try:
            return self._content_length()
        except _RefusalError:
            return _DRAIN_BYTES + 1  # unreadable: never drained

    def _send(
        self,
        status: int,
        payload: bytes,
        headers: dict[str, str] | None = None,
        keep_open: bool = True,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if not keep_open:
            # The body (or part of it) is still unread: the connection cannot carry another request.
            self._linger = True
        if not keep_open or self.server.connections.closing:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    @override
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method, ...), as JSON envelopes."""
        text = message or HTTPStatus(code).phrase
        business = 40001 if code == 404 else 50000 if code >= 500 else 40000
        self._send(code, _envelope(business, text), keep_open=False)

    @override
    def version_string(self) -> str:
        return self.server_version  # not the Python version

    @override
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # do_POST logs each request, with its latency and without its query string

    @override
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s: " + format, self.address_string(), *args)


class MemOSServer:
    """A running server (see :func:`serve`); close it with :meth:`close` or a ``with`` block.

    Attributes:
        host: The address it listens on.
        port: The port it listens on (the one picked, when asked for port 0).
        base_url: What clients take as their base URL: ``http://HOST:PORT/api/openmem/v1``.
    """

    def __init__(self, http: _HTTPServer) -> None:
        self._http = http
        self.host, self.port = str(http.server_address[0]), int(http.server_address[1])
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{shown}:{self.port}{API_ROOT}"
        self._closed = False
        self._thread = threading.Thread(
            target=http.run, name=f"memos-server-{self.port}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, end idle connections, let requests in progress finish (up to 5 s)."""
        if self._closed:
            return
        self._closed = True
        self._http.stop()
        self._thread.join()
        self._http.connections.close_all(_CLOSE_GRACE_SECONDS)
        self._http.server_close()

    def __enter__(self) -> MemOSServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemOSServer(base_url={self.base_url!r})"


def _check_token(token: str | None) -> bytes | None:
    if token is None:
        return None
    # Visible ASCII only: anything else cannot travel reliably in an Authorization header.
    if not 0 < len(token) <= _MAX_TOKEN_LENGTH or not all(33 <= ord(c) <= 126 for c in token):
        raise ConfigurationError(
            f"the token must be 1-{_MAX_TOKEN_LENGTH} visible ASCII characters, without spaces"
        )
    return token.encode("ascii")


def _address_family(host: str, port: int) -> socket.AddressFamily:
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.AF_INET6 if version == 6 else socket.AF_INET


def serve(
    engine: EmbeddedEngine | str | os.PathLike[str] = ":memory:",
    host: str = DEFAULT_HOST,
    port: int = 0,
    token: str | None = None,
    *,
    allow_remote: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> MemOSServer:
    """Serve ``engine`` over HTTP from a background thread, and return once it accepts requests.

    Every endpoint of the engine answers under the cloud's layout
    (``http://HOST:PORT/api/openmem/v1/search/memory``) and at the bare path
    (``/search/memory``), with the engine's status and envelope; other paths answer 404.

    Args:
        engine: The engine, or a database path (or ``":memory:"``) opened with
            :func:`~langchain_memos.embedded.open_engine`. Closing the server leaves it open.
        host: The address to listen on; a loopback address unless ``allow_remote``.
        port: The port; 0 (the default) picks a free one, given back as ``port``.
        token: When given, every request must carry ``Authorization: Bearer <token>`` or
            ``Authorization: Token <token>`` (the cloud's scheme, so MemOS clients work with it as
            their API key); others get HTTP 401, code 40100 (none) or 40132 (wrong). Without
            one, any Authorization header is ignored.
        allow_remote: Allow a host other than loopback. The server has no TLS: use it only on a
            network you trust, with a token. On loopback, requests addressed to another name
            (``Host``) are refused with HTTP 403, as a web page rebinding its name to 127.0.0.1
            sends them; so is, anywhere, a request from a web page off this machine (``Origin``).
        max_body_bytes: Larger request bodies are refused with HTTP 413 (default 110 MiB).
            Bodies over 64 KiB share a budget of twice this many bytes: one that finds no room
            within 10 seconds is answered 503 (code 50004, retryable).
        max_connections: Connections held at once (each holds a thread; default 64). Past it the
            longest-idle keep-alive connection is closed; when all are busy, new ones get 503.
            An idle connection is closed after 15 seconds.

    Raises:
        ConfigurationError: A host off loopback without ``allow_remote``, or an unusable token.
        OSError: The address cannot be listened on (the port is taken, ...).

    Example:
        >>> with serve(EmbeddedEngine(":memory:")) as server:
        ...     client = MemOSClient(base_url=server.base_url)
    """
    for name, value, kind in (
        ("host", host, str),
        ("port", port, int),
        ("max_body_bytes", max_body_bytes, int),
        ("max_connections", max_connections, int),
        ("allow_remote", allow_remote, bool),
    ):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigurationError(f"{name} must be {kind.__name__}; got {value!r}")
    if token is not None and not isinstance(token, str):
        raise ConfigurationError(f"token must be a string or None; got {type(token).__name__}")
    secret = _check_token(token)
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"port must be between 0 and 65535; got {port}")
    if max_body_bytes < 0:
        raise ConfigurationError("max_body_bytes must not be negative")
    if max_connections < 1:
        raise ConfigurationError("max_connections must be at least 1")
    if not is_loopback_host(host):
        if not allow_remote:
            raise ConfigurationError(
                f"refusing to serve on {host}, which is not a loopback address: the server has "
                "no TLS, and anyone who can reach it could read and delete every memory. Use "
                "127.0.0.1, or allow_remote=True (--allow-remote) with a token on a network you "
                "trust."
            )
        if secret is None:
            logger.warning(
                "serving on %s without a token: anyone who can reach it has access", host
            )
    bind_host = "127.0.0.1" if host == "localhost" else host.strip("[]")
    if not isinstance(engine, EmbeddedEngine):
        engine = open_engine(engine)
    settings = _Settings(
        engine=engine,
        token=secret,
        max_body_bytes=max_body_bytes,
        on_loopback=is_loopback_host(host),
        bodies=BodyBudget(2 * max_body_bytes),
    )
    family = _address_family(bind_host, port)
    http = _HTTPServer((bind_host, port), family, settings, max_connections)
    return MemOSServer(http)
