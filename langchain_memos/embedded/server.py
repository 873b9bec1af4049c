"""The embedded engine served over real HTTP, under the MemOS cloud's path layout.

For clients outside this process: other languages, MCP tools, the official MemOS SDK, cassette
recording. ``python -m langchain_memos serve`` runs it from the command line; :func:`serve` starts
it in a background thread of the current process. The HTTP work is uvicorn's (the ``serve``
extra); what the server answers is :class:`~langchain_memos.embedded._asgi.MemOSApp`'s.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import threading
import time
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

from langchain_memos._exceptions import ConfigurationError
from langchain_memos.embedded._asgi import Gate, MemOSApp, is_loopback_host
from langchain_memos.embedded._connections import with_head_deadline
from langchain_memos.embedded.engine import API_ROOT, EmbeddedEngine
from langchain_memos.embedded.transport import open_engine

if TYPE_CHECKING:
    from uvicorn import Server as UvicornServer

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
# Open connections plus requests in progress; beyond it new requests are answered 503.
DEFAULT_MAX_CONNECTIONS = 1000
# An idle keep-alive connection is closed after this long (it holds no thread, only a socket).
IDLE_SECONDS = 15
# How long close() lets requests in progress finish.
_CLOSE_GRACE_SECONDS = 5
_START_SECONDS = 10.0
_MAX_TOKEN_LENGTH = 4096


def _uvicorn() -> ModuleType:
    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError(
            "serving over HTTP needs uvicorn: pip install 'langchain-memos[serve]'"
        ) from None
    return uvicorn


def _http_protocol() -> type[asyncio.Protocol]:
    """The HTTP protocol uvicorn would pick ("auto": httptools when installed, else h11)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return AutoHTTPProtocol


class MemOSServer:
    """A running server (see :func:`serve`); close it with :meth:`close` or a ``with`` block.

    Attributes:
        host: The address it listens on.
        port: The port it listens on (the one picked, when asked for port 0).
        base_url: What clients take as their base URL: ``http://HOST:PORT/api/openmem/v1``.
    """

    def __init__(self, app: MemOSApp, listener: socket.socket, max_connections: int) -> None:
        uvicorn = _uvicorn()
        self._app = app
        address = listener.getsockname()
        self.host, self.port = str(address[0]), int(address[1])
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{shown}:{self.port}{API_ROOT}"
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,  # the app logs each request, without its query string
            server_header=False,
            proxy_headers=False,  # nothing here reads the client's address: no X-Forwarded-For
            ws="none",
            timeout_keep_alive=IDLE_SECONDS,
            http=with_head_deadline(_http_protocol()),
            limit_concurrency=max_connections,
            timeout_graceful_shutdown=_CLOSE_GRACE_SECONDS,
        )
        self._server: UvicornServer = uvicorn.Server(config)
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [listener]},
            name=f"memos-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        if not self._server.started:
            self.close()
            raise OSError(f"the server on {self.base_url} did not start")

    def close(self) -> None:
        """Stop accepting, end idle connections, let requests in progress finish (up to 5 s)."""
        if self._closed:
            return
        self._closed = True
        self._server.should_exit = True
        self._thread.join()
        self._app.close()

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


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.socket(_address_family(host, port), socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # rebinding right after a restart needs it; on Windows it would
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # share the port
        listener.bind((host, port))
        listener.listen(128)
    except BaseException:
        listener.close()
        raise
    return listener


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
            Bodies over 1 MiB are read two at a time; one that waits longer than 10 s for its
            turn is answered 503 (code 50004, retryable).
        max_connections: Open connections plus requests in progress (default 1,000); past it,
            new requests are answered 503. Idle connections hold no thread, and are closed after
            15 s.

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
    _uvicorn()  # before binding or opening anything
    bind_host = "127.0.0.1" if host == "localhost" else host.strip("[]")
    if not isinstance(engine, EmbeddedEngine):
        engine = open_engine(engine)
    listener = _listen(bind_host, port)
    gate = Gate(token=secret, max_body_bytes=max_body_bytes, on_loopback=is_loopback_host(host))
    return MemOSServer(MemOSApp(engine, gate), listener, max_connections)
