"""``MemOSClient`` and ``AsyncMemOSClient``: the two thin I/O shells over the MemOS API.

Both take the same configuration and expose the same methods, generated from the endpoint
descriptions in ``_endpoints.py``; they differ only in how they send and how they sleep.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, Union

import httpx
from typing_extensions import Self

from langchain_memos import _endpoints as ep
from langchain_memos._base_client import (
    APIRequest,
    ClientConfig,
    RetryState,
    build_httpx_request,
    log_response,
    parse_response,
    parse_sse_line,
    wrap_transport_error,
)
from langchain_memos._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_RETRIES
from langchain_memos._exceptions import (
    APIError,
    ClosedError,
    ConfigurationError,
    DeadlineExceededError,
    MemOSError,
)
from langchain_memos._validation import check_seconds
from langchain_memos.types import ChatResult, ChatStreamEvent, TaskStatus

if TYPE_CHECKING:
    from langchain_memos.embedded import EmbeddedEngine, EmbeddedTransport

__all__ = ["AsyncMemOSClient", "MemOSClient"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


def _describe_method(method: Callable[..., Any], build: Callable[..., Any], returns: str) -> None:
    """Give a generated method the endpoint's name, docstring and full signature."""
    method.__name__ = build.__name__
    method.__qualname__ = build.__name__
    method.__doc__ = build.__doc__
    signature = inspect.signature(build)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()], return_annotation=returns
    )


def _returns(build: Callable[..., Any]) -> str:
    annotation = str(inspect.signature(build).return_annotation)
    return annotation.removeprefix("APIRequest[").removesuffix("]")


def _sync(build: Callable[P, APIRequest[T]]) -> Callable[Concatenate[MemOSClient, P], T]:
    def method(self: MemOSClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._send(build(*args, **kwargs))

    _describe_method(method, build, _returns(build))
    return method


def _async(
    build: Callable[P, APIRequest[T]],
) -> Callable[Concatenate[AsyncMemOSClient, P], Awaitable[T]]:
    async def method(self: AsyncMemOSClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._send(build(*args, **kwargs))

    _describe_method(method, build, _returns(build))
    return method


def _sync_stream(
    build: Callable[P, APIRequest[ChatResult]],
) -> Callable[Concatenate[MemOSClient, P], Iterator[ChatStreamEvent]]:
    def method(
        self: MemOSClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> Iterator[ChatStreamEvent]:
        return self._stream(ep.as_stream(build(*args, **kwargs)))

    _describe_method(method, build, "Iterator[ChatStreamEvent]")
    method.__name__ = method.__qualname__ = build.__name__ + "_stream"
    method.__doc__ = _STREAM_DOC
    return method


def _async_stream(
    build: Callable[P, APIRequest[ChatResult]],
) -> Callable[Concatenate[AsyncMemOSClient, P], AsyncIterator[ChatStreamEvent]]:
    def method(
        self: AsyncMemOSClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[ChatStreamEvent]:
        return self._stream(ep.as_stream(build(*args, **kwargs)))

    _describe_method(method, build, "AsyncIterator[ChatStreamEvent]")
    method.__name__ = method.__qualname__ = build.__name__ + "_stream"
    method.__doc__ = _STREAM_DOC
    return method


_STREAM_DOC = """Like ``chat``, with the same arguments, but yield the answer as it is generated.

Yields ``ChatStreamEvent`` objects whose ``type`` is ``reasoning`` or ``text``; stops at the
service's ``end`` event. Retries apply until the stream has started, never after.
"""


def _event_stream(response: httpx.Response) -> bool:
    return "event-stream" in response.headers.get("content-type", "")


Embedded = Union[str, "os.PathLike[str]", "EmbeddedEngine", None]


class _BaseMemOSClient:
    _http_client_type: type[httpx.Client | httpx.AsyncClient]
    _owns_http: bool
    _preconfigured: bool  # the pool carries this client's headers and timeout already

    def __init__(self, config: ClientConfig) -> None:
        self._config = config

    def _transport(self, embedded: Embedded, http_client: object) -> EmbeddedTransport | None:
        """The in-process transport when the embedded engine was asked for, else ``None``.

        Also checks that ``http_client`` is of the kind this client drives.
        """
        expected = self._http_client_type
        if http_client is not None and not isinstance(http_client, expected):
            raise ConfigurationError(
                f"http_client must be an httpx.{expected.__name__}; "
                f"got {type(http_client).__name__}"
            )
        if embedded is None and self._config.embedded_path is None:
            return None
        if http_client is not None:
            raise ConfigurationError("the embedded engine and http_client cannot be combined")
        from langchain_memos.embedded import EmbeddedEngine, EmbeddedTransport, open_engine

        if isinstance(embedded, EmbeddedEngine):
            return EmbeddedTransport(embedded)
        return EmbeddedTransport(open_engine(embedded or self._config.embedded_path or ""))

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Self:
        """A copy of this client with some settings changed, sharing its connection pool.

        Unset options keep this client's values; ``extra_headers`` are added to its headers.
        The options are checked as the constructor checks them. The copy costs no new
        connections: it sends through this client's pool. Closing the copy leaves the pool
        open; closing this client closes it for both.

        Example:
            >>> quick = client.with_options(timeout=2.0, max_retries=0)
            >>> found = quick.search_memory("travel plans", user_id="memos_user_123")
        """
        config = self._config.with_options(
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers
        )
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._config = config
        clone._owns_http = False  # the pool is this client's to close
        clone._preconfigured = False  # the pool's own headers and timeout are this client's
        clone._share_pool_of(self)
        return clone

    def _share_pool_of(self, original: Self) -> None:
        """Make this copy of ``original`` send through the same pool (``_http`` already is)."""

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def identity(self) -> str:
        """Which service and project this client works on, safe to log and to store.

        The base URL and a hash of the API key (16 hex digits of a SHA-256), never the key
        itself: two clients with the same identity read and write the same memories. The
        durable outbox records it with each write, so that only a client of the same service and
        project delivers it. A copy from :meth:`with_options` has the same identity.

        Example:
            >>> MemOSClient(api_key="...").identity
            'https://memos.memtensor.cn/api/openmem/v1#af5e63225f7efe00'
        """
        return self._config.identity

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def _check_open(self) -> None:
        """Refuse to send through a closed pool: our error, not httpx's ``RuntimeError``."""
        if self.is_closed:
            raise ClosedError(
                f"this {type(self).__name__} is closed (its close(), the end of its with block, "
                "or its http_client closed by its owner) and sends nothing: make a new one"
            )

    @property
    def is_closed(self) -> bool:
        """Whether this client can no longer send (each client says how it knows)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds a connection pool and cannot be pickled")


class MemOSClient(_BaseMemOSClient):
    """Synchronous client for the MemOS cloud API.

    Configuration precedence: argument > environment (``MEMOS_API_KEY``, ``MEMOS_BASE_URL``,
    ``MEMOS_IS_GLOBAL``) > default (the China endpoint). A key may be given with or without
    its ``Token`` prefix. One pooled ``httpx.Client`` serves every call; close it with
    :meth:`close` or use the client as a context manager. Every endpoint method also takes
    ``timeout=`` for that call alone, and :meth:`with_options` gives a copy with another timeout,
    retry budget or extra headers that sends through the same pool.

    Args:
        api_key: The project's API key. Optional only for a base URL on loopback.
        base_url: The API root, e.g. ``https://memos.memtensor.cn/api/openmem/v1``.
        is_global: Use the global endpoint (``https://api.memt.ai/...``) as the default.
        timeout: Seconds, or an ``httpx.Timeout`` (default 30 s, 5 s to connect).
        max_retries: Retries after the first attempt (default 2); see the README for which
            failures are retried.
        retry_unsafe_writes: Also retry writes after a read timeout or server error, when the
            service may already have stored them (risking a duplicate).
        allow_insecure_http: Allow a plain ``http://`` base URL that is not on loopback.
        default_headers: Extra headers for every request.
        http_client: Your own ``httpx.Client``; it is used as it is and not closed by
            :meth:`close`.
        embedded: Use the offline embedded engine instead of a service: a database path,
            ``":memory:"``, or an ``EmbeddedEngine``. A base URL ``embedded:///path/to/memos.db``
            does the same.

    Example:
        >>> with MemOSClient() as client:
        ...     found = client.search_memory("travel plans", user_id="memos_user_123")
    """

    _http_client_type = httpx.Client

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        is_global: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_unsafe_writes: bool = False,
        allow_insecure_http: bool = False,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        embedded: Embedded = None,
    ) -> None:
        super().__init__(
            ClientConfig.resolve(
                api_key=api_key,
                base_url=base_url,
                is_global=is_global,
                timeout=timeout,
                max_retries=max_retries,
                retry_unsafe_writes=retry_unsafe_writes,
                allow_insecure_http=allow_insecure_http,
                default_headers=default_headers,
                embedded=embedded is not None,
            )
        )
        transport = self._transport(embedded, http_client)
        self._owns_http = self._preconfigured = http_client is None
        self._http = http_client or httpx.Client(
            limits=DEFAULT_CONNECTION_LIMITS,
            headers=self._config.headers,
            timeout=self._config.timeout,
            transport=transport,
        )

    def _send(self, request: APIRequest[T]) -> T:
        return self._retrying(request, lambda response: parse_response(request, response))

    def _retrying(
        self,
        request: APIRequest[Any],
        handle: Callable[[httpx.Response], R],
        *,
        stream: bool = False,
    ) -> R:
        """Send ``request`` until ``handle`` accepts the answer or the retry policy gives up."""
        retries = RetryState(self._config, request)
        while True:
            self._check_open()  # also between retries: closed while this one slept
            started = time.perf_counter()
            try:
                http_request = build_httpx_request(
                    self._http, self._config, request, preconfigured=self._preconfigured
                )
                response = self._http.send(http_request, stream=stream)
            except httpx.TransportError as exc:
                error: MemOSError = wrap_transport_error(exc, request, self._config)
                delay = retries.next_delay(error, cause=exc)
                if delay is None:
                    raise error from exc
            else:
                log_response(request, response.status_code, started, time.perf_counter())
                try:
                    return handle(response)
                except APIError as exc:
                    delay = retries.next_delay(exc, headers=response.headers)
                    if delay is None:
                        raise
            time.sleep(delay)

    def _stream_head(self, request: APIRequest[ChatResult], response: httpx.Response) -> Any:
        if _event_stream(response):
            return response
        try:  # an error, or a plain JSON answer to a stream request
            response.read()
            return parse_response(request, response)
        finally:
            response.close()

    def _stream(self, request: APIRequest[ChatResult]) -> Iterator[ChatStreamEvent]:
        head = self._retrying(
            request, lambda response: self._stream_head(request, response), stream=True
        )
        if isinstance(head, ChatResult):
            yield ChatStreamEvent(type="text", data=head.response)
            return
        try:
            for line in head.iter_lines():
                event = parse_sse_line(line, request.path)
                if event is not None and event.type == "end":
                    return
                if event is not None:
                    yield event
        finally:
            head.close()

    add_message = _sync(ep.add_message)
    search_memory = _sync(ep.search_memory)
    get_memory = _sync(ep.get_memory)
    get_memory_by_id = _sync(ep.get_memory_by_id)
    get_message = _sync(ep.get_message)
    delete_memory = _sync(ep.delete_memory)
    update_memory = _sync(ep.update_memory)
    add_feedback = _sync(ep.add_feedback)
    get_status = _sync(ep.get_status)
    extract_memory = _sync(ep.extract_memory)
    rerank = _sync(ep.rerank)
    chat = _sync(ep.chat)
    chat_stream = _sync_stream(ep.chat)
    create_knowledgebase = _sync(ep.create_knowledgebase)
    delete_knowledgebase = _sync(ep.delete_knowledgebase)
    add_knowledgebase_files = _sync(ep.add_knowledgebase_files)
    upload_knowledgebase_files = _sync(ep.upload_knowledgebase_files)
    get_knowledgebase_files = _sync(ep.get_knowledgebase_files)
    delete_knowledgebase_files = _sync(ep.delete_knowledgebase_files)

    def wait_for_task(
        self, task_id: str, *, timeout: float = 60.0, interval: float = 0.5
    ) -> TaskStatus:
        """Poll ``get/status`` until the task is ``completed`` or ``failed``.

        Raises:
            DeadlineExceededError: the task was still running after ``timeout`` seconds (it
                goes on in MemOS; a later ``get_status`` shows how it ended).
        """
        deadline = time.monotonic() + check_seconds("timeout", timeout, high=86400, allow_zero=True)
        interval = check_seconds("interval", interval, high=60, allow_zero=True)
        while True:
            status = self.get_status(task_id)
            if status.done:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"task {task_id} still {status.status!r} after {timeout} s"
                )
            time.sleep(min(interval, remaining))

    def close(self) -> None:
        """Close the connection pool (unless it was handed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        """Whether this client can no longer send: its connection pool is closed.

        True after :meth:`close` closed the client's own pool, or once the ``http_client`` it
        was given was closed by its owner (:meth:`close` leaves that one open). A copy
        from :meth:`with_options` shares the pool: closing the original closes both, closing
        the copy neither.
        """
        return self._http.is_closed

    def __enter__(self) -> MemOSClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncMemOSClient(_BaseMemOSClient):
    """Asynchronous client for the MemOS cloud API; the same methods as :class:`MemOSClient`.

    Takes the same arguments as :class:`MemOSClient`, with ``http_client`` an
    ``httpx.AsyncClient``. Close it with ``await client.aclose()`` or ``async with``.

    Example:
        >>> async with AsyncMemOSClient() as client:
        ...     found = await client.search_memory("travel plans", user_id="memos_user_123")
    """

    _http_client_type = httpx.AsyncClient

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        is_global: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_unsafe_writes: bool = False,
        allow_insecure_http: bool = False,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        embedded: Embedded = None,
    ) -> None:
        super().__init__(
            ClientConfig.resolve(
                api_key=api_key,
                base_url=base_url,
                is_global=is_global,
                timeout=timeout,
                max_retries=max_retries,
                retry_unsafe_writes=retry_unsafe_writes,
                allow_insecure_http=allow_insecure_http,
                default_headers=default_headers,
                embedded=embedded is not None,
            )
        )
        transport = self._transport(embedded, http_client)
        self._owns_http = self._preconfigured = http_client is None
        # httpx's own pool holds connections of the event loop that opened them; the embedded
        # transport and a caller's http_client are not ours to rebuild.
        self._per_loop = http_client is None and transport is None
        self._http = http_client or httpx.AsyncClient(
            limits=DEFAULT_CONNECTION_LIMITS,
            headers=self._config.headers,
            timeout=self._config.timeout,
            transport=transport,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._first_loop: asyncio.AbstractEventLoop | None = None
        self._loop_guard: AsyncIterator[None] | None = None
        self._closed = False
        self._pool_owner: AsyncMemOSClient = self  # a copy from with_options sends through ours

    def _share_pool_of(self, original: AsyncMemOSClient) -> None:
        # The pool is replaced per event loop: ask the client that keeps it, every time.
        self._pool_owner = original._pool_owner

    async def _http_here(self) -> tuple[httpx.AsyncClient, bool]:
        """The HTTP client to send with from the running loop, and whether the loop changed.

        A script or a tool may call ``asyncio.run`` several times with one client. The pool's
        connections belong to the loop that opened them, so a client that made its own pool
        closes it when that loop shuts down and opens a new one in the next loop.
        """
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return self._http, False
        previous, self._loop = self._loop, loop
        self._first_loop = self._first_loop or loop
        if not self._per_loop or self._closed:
            return self._http, loop is not self._first_loop
        if previous is not None and previous.is_running():
            self._loop = previous
            raise ConfigurationError(
                "this AsyncMemOSClient is in use by an event loop running in another thread; "
                "its connections cannot serve two loops: create one AsyncMemOSClient per loop"
            )
        if previous is not None or self._http.is_closed:
            # A loop closed without finalizing async generators leaves its connections behind;
            # they cannot be closed from here, and are dropped.
            self._http = self._new_http()
        self._loop_guard = self._close_at_loop_end(self._http)
        await anext(self._loop_guard)
        return self._http, False

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            limits=DEFAULT_CONNECTION_LIMITS,
            headers=self._config.headers,
            timeout=self._config.timeout,
        )

    async def _close_at_loop_end(self, http: httpx.AsyncClient) -> AsyncIterator[None]:
        # asyncio.run finalizes the async generators still suspended before it closes the loop:
        # this one's finally then closes the pool on the loop its connections belong to.
        try:
            yield
        finally:
            if self._http is http:
                self._loop = None
            await http.aclose()

    async def _send(self, request: APIRequest[T]) -> T:
        async def handle(response: httpx.Response) -> T:
            return parse_response(request, response)

        return await self._retrying(request, handle)

    async def _retrying(
        self,
        request: APIRequest[Any],
        handle: Callable[[httpx.Response], Awaitable[R]],
        *,
        stream: bool = False,
    ) -> R:
        """Send ``request`` until ``handle`` accepts the answer or the retry policy gives up."""
        retries = RetryState(self._config, request)
        while True:
            self._check_open()  # also between retries: closed while this one slept
            http, moved = await self._pool_owner._http_here()
            started = time.perf_counter()
            try:
                http_request = build_httpx_request(
                    http, self._config, request, preconfigured=self._preconfigured
                )
                response = await http.send(http_request, stream=stream)
            except RuntimeError as exc:
                if not moved:
                    raise
                raise ConfigurationError(
                    "the http_client given to AsyncMemOSClient failed in a second event loop "
                    f"({exc}): httpx connections belong to the loop that opened them, and each "
                    "asyncio.run() makes a new loop. Pass a new http_client per event loop, or "
                    "leave http_client out and the client opens a pool per loop itself"
                ) from exc
            except httpx.TransportError as exc:
                error: MemOSError = wrap_transport_error(exc, request, self._config)
                delay = retries.next_delay(error, cause=exc)
                if delay is None:
                    raise error from exc
            else:
                log_response(request, response.status_code, started, time.perf_counter())
                try:
                    return await handle(response)
                except APIError as exc:
                    delay = retries.next_delay(exc, headers=response.headers)
                    if delay is None:
                        raise
            await asyncio.sleep(delay)

    async def _stream(self, request: APIRequest[ChatResult]) -> AsyncIterator[ChatStreamEvent]:
        async def head_of(response: httpx.Response) -> Any:
            if _event_stream(response):
                return response
            try:
                await response.aread()
                return parse_response(request, response)
            finally:
                await response.aclose()

        head = await self._retrying(request, head_of, stream=True)
        if isinstance(head, ChatResult):
            yield ChatStreamEvent(type="text", data=head.response)
            return
        try:
            async for line in head.aiter_lines():
                event = parse_sse_line(line, request.path)
                if event is not None and event.type == "end":
                    return
                if event is not None:
                    yield event
        finally:
            await head.aclose()

    add_message = _async(ep.add_message)
    search_memory = _async(ep.search_memory)
    get_memory = _async(ep.get_memory)
    get_memory_by_id = _async(ep.get_memory_by_id)
    get_message = _async(ep.get_message)
    delete_memory = _async(ep.delete_memory)
    update_memory = _async(ep.update_memory)
    add_feedback = _async(ep.add_feedback)
    get_status = _async(ep.get_status)
    extract_memory = _async(ep.extract_memory)
    rerank = _async(ep.rerank)
    chat = _async(ep.chat)
    chat_stream = _async_stream(ep.chat)
    create_knowledgebase = _async(ep.create_knowledgebase)
    delete_knowledgebase = _async(ep.delete_knowledgebase)
    add_knowledgebase_files = _async(ep.add_knowledgebase_files)
    upload_knowledgebase_files = _async(ep.upload_knowledgebase_files)
    get_knowledgebase_files = _async(ep.get_knowledgebase_files)
    delete_knowledgebase_files = _async(ep.delete_knowledgebase_files)

    async def wait_for_task(
        self, task_id: str, *, timeout: float = 60.0, interval: float = 0.5
    ) -> TaskStatus:
        """Poll ``get/status`` until the task is ``completed`` or ``failed``.

        Raises:
            DeadlineExceededError: the task was still running after ``timeout`` seconds (it
                goes on in MemOS; a later ``get_status`` shows how it ended).
        """
        deadline = time.monotonic() + check_seconds("timeout", timeout, high=86400, allow_zero=True)
        interval = check_seconds("interval", interval, high=60, allow_zero=True)
        while True:
            status = await self.get_status(task_id)
            if status.done:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"task {task_id} still {status.status!r} after {timeout} s"
                )
            await asyncio.sleep(min(interval, remaining))

    async def aclose(self) -> None:
        """Close the connection pool (unless it was handed in as ``http_client``)."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether this client can no longer send: its connection pool is closed.

        True after :meth:`aclose` closed the client's own pool, or once the ``http_client`` it
        was given was closed by its owner (:meth:`aclose` leaves that one open). The pool this
        client opens per event loop is closed with each loop and opened again in the next: that
        does not count. A copy from :meth:`with_options` shares the pool:
        closing the original closes both, closing the copy neither.
        """
        owner = self._pool_owner
        return owner._closed if owner._per_loop else owner._http.is_closed

    async def __aenter__(self) -> AsyncMemOSClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
