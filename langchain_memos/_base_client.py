"""Everything the sync and async clients share that does no I/O.

The description of one request (:class:`APIRequest`), the ``httpx.Request`` built from it, and
the flows: generators that say what to do next (send this, read that, sleep this long) and get
back what came of it, as httpx writes its auth flows. A flow holds the logic once; the clients'
drivers (``_drivers.py``) only do each step, one with blocking calls, one with ``await``.
Settings live in ``_config.py``, parsing and error mapping in ``_response.py``, the retry
policy in ``_retry.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import httpx

from langchain_memos._config import merge_headers
from langchain_memos._exceptions import APIError
from langchain_memos._response import is_event_stream, parse_response, wrap_transport_error
from langchain_memos._retry import RetryState
from langchain_memos._validation import check_json_value, check_unicode

if TYPE_CHECKING:
    from langchain_memos._config import ClientConfig
    from langchain_memos.types import ChatResult

__all__ = [
    "APIRequest",
    "Flow",
    "Read",
    "Send",
    "Sleep",
    "Step",
    "Transmit",
    "Work",
    "build_httpx_request",
    "drop_none",
    "send_flow",
    "stream_flow",
]

logger = logging.getLogger("langchain_memos")

T = TypeVar("T")


@dataclass(frozen=True)
class APIRequest(Generic[T]):
    """One call to the MemOS API, fully validated and ready to send.

    ``response_type`` is what the envelope's ``data`` is parsed into. ``write`` marks calls that
    are not idempotent, which are retried only when the service provably did not process them.
    """

    method: str
    path: str
    response_type: Any
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes]]] | None = None
    write: bool = False
    enveloped: bool = True
    finish: Callable[[Any], T] | None = None
    timeout: httpx.Timeout | None = None  # this call's own, else the client's

    def __post_init__(self) -> None:
        # Every request is built here, before any I/O: the one place all of what is sent passes.
        check_json_value("", self.body)
        check_json_value("", self.params)
        for _, (name, _content) in self.files or ():
            check_unicode("a file name", name)

    def encode(self) -> bytes | None:
        if self.body is None:
            return None
        return _JSON_ENCODER.encode(self.body).encode()


_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def drop_none(**fields: Any) -> dict[str, Any]:
    """A request body without its unset fields, so the service's own defaults apply."""
    return {key: value for key, value in fields.items() if value is not None}


def _log_response(request: APIRequest[Any], status: int, started: float, now: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %d in %.1f ms", request.method, request.path, status, (now - started) * 1e3
        )


@lru_cache(maxsize=256)
def _parsed_url(text: str) -> httpx.URL:
    # httpx parses a str URL on every request (~10 us); a parsed one it only copies.
    return httpx.URL(text)


_JSON_CONTENT = httpx.Headers({"Content-Type": "application/json"})
_JSON_CONTENT_TYPE = {"Content-Type": "application/json"}  # merged into a plain dict of headers


def build_httpx_request(
    http: httpx.Client | httpx.AsyncClient,
    config: ClientConfig,
    request: APIRequest[Any],
    *,
    preconfigured: bool = False,
) -> httpx.Request:
    """``preconfigured``: ``http`` already carries ``config.headers`` and ``config.timeout``."""
    url = _parsed_url(config.base_url + request.path)
    timeout = request.timeout or (httpx.USE_CLIENT_DEFAULT if preconfigured else config.timeout)
    if request.files is not None:
        return http.build_request(
            request.method,
            url,
            params=request.params,
            files=request.files,
            headers=None if preconfigured else config.headers,
            timeout=timeout,
        )
    content = request.encode()
    if preconfigured:
        return http.build_request(
            request.method,
            url,
            params=request.params,
            content=content,
            headers=_JSON_CONTENT if content is not None else None,
            timeout=timeout,
        )
    headers = config.headers
    if content is not None:
        headers = merge_headers(headers, _JSON_CONTENT_TYPE)
    return http.build_request(
        request.method,
        url,
        params=request.params,
        content=content,
        headers=headers,
        timeout=timeout,
    )


# ---- flows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``request`` once; the answer is the ``httpx.Response``, or the transport error."""

    request: APIRequest[Any]
    stream: bool = False


@dataclass(frozen=True, slots=True)
class Read:
    """Read the rest of a streamed ``response``, then close it."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``request`` through the client, retries and all; the answer is its parsed data."""

    request: APIRequest[Any]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before the next step."""

    seconds: float


Work: TypeAlias = Transmit | Read | Send
"""The steps a client's ``perform`` does; the drivers themselves do the sleeps."""
Step: TypeAlias = Work | Sleep
Flow: TypeAlias = Generator[Step, Any, T]
"""What a flow yields (a step), is sent back (what came of it) and returns (its result)."""


def send_flow(config: ClientConfig, request: APIRequest[T]) -> Flow[T]:
    """Send ``request`` until its answer parses or the retry policy gives up; its data."""
    return _attempts(config, request, stream=False)


def stream_flow(
    config: ClientConfig, request: APIRequest[ChatResult]
) -> Flow[ChatResult | httpx.Response]:
    """Like :func:`send_flow`, but an event-stream answer is returned as the open response.

    The caller reads that one line by line; retries end once it has started. Any other answer,
    an error or plain JSON, is read and parsed as :func:`send_flow` parses it.
    """
    return _attempts(config, request, stream=True)


def _attempts(config: ClientConfig, request: APIRequest[Any], *, stream: bool) -> Flow[Any]:
    retries = RetryState(config, request)
    while True:
        started = time.perf_counter()
        try:
            response: httpx.Response = yield Transmit(request, stream)
        except httpx.TransportError as exc:
            error = wrap_transport_error(exc, request, config)
            delay = retries.next_delay(error, cause=exc)
            if delay is None:
                raise error from exc
        else:
            _log_response(request, response.status_code, started, time.perf_counter())
            if stream and is_event_stream(response):
                return response
            if stream:
                yield Read(response)
            try:
                return parse_response(request, response)
            except APIError as exc:
                delay = retries.next_delay(exc, headers=response.headers)
                if delay is None:
                    raise
        yield Sleep(delay)
