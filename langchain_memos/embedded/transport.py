"""An httpx transport that answers requests with an :class:`EmbeddedEngine`, in process.

The client's whole request path (envelopes, error mapping, retries) runs unchanged; only the
socket is replaced.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import httpx

from langchain_memos._exceptions import ConfigurationError
from langchain_memos.embedded._database import check_path_text
from langchain_memos.embedded.engine import EmbeddedEngine

__all__ = ["EmbeddedTransport", "open_engine"]

MEMORY = ":memory:"
_engines: dict[str, EmbeddedEngine] = {}
_engines_lock = threading.Lock()


def open_engine(path: str | os.PathLike[str]) -> EmbeddedEngine:
    """The process's engine for ``path`` (a database file, or ``":memory:"``), opened once.

    Every client of the process that names the same database shares one engine, so that a
    history, a retriever and a middleware configured alike see the same memories. The file's
    directory must exist: a mistyped path is an error, not a new directory.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(
            f"embedded must be a database path, ':memory:' or an EmbeddedEngine; got {path!r}"
        )
    if str(path) != MEMORY:
        check_path_text(str(path))
    key = MEMORY if str(path) == MEMORY else str(Path(path).expanduser().resolve())
    with _engines_lock:
        engine = _engines.get(key)
        # One closed, or whose file was replaced (a backup restored) or deleted, is opened anew.
        if engine is None or engine.store.closed or engine.store.gone():
            engine = _engines[key] = EmbeddedEngine(key)
        return engine


class EmbeddedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve httpx requests from an engine instead of the network."""

    def __init__(self, engine: EmbeddedEngine) -> None:
        self.engine = engine

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        status, content = self.engine.handle(
            request.method,
            request.url.path,
            body,
            params=dict(request.url.params),
            content_type=request.headers.get("content-type", "application/json"),
        )
        return httpx.Response(
            status, content=content, headers={"content-type": "application/json"}, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # SQLite work is short but blocking; keep it off the event loop.
        return await asyncio.to_thread(self._answer, request, body)
