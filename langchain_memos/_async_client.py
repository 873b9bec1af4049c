"""``AsyncMemOSClient``: the asyncio shell over the MemOS API.

It sends with a pooled ``httpx.AsyncClient`` (one per event loop when the pool is its own) and
drives the shared flows (``_base_client``) with ``await``; everything else it shares with
``MemOSClient`` (``_client_base``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from langchain_memos import _endpoints as ep
from langchain_memos._base_client import (
    APIRequest,
    Flow,
    Read,
    Send,
    Work,
    build_httpx_request,
    send_flow,
    stream_flow,
)
from langchain_memos._client_base import (
    STREAM_DOC,
    BaseMemOSClient,
    Embedded,
    SelfHosted,
    describe_method,
)
from langchain_memos._config import ClientConfig
from langchain_memos._constants import DEFAULT_MAX_RETRIES
from langchain_memos._drivers import arun
from langchain_memos._exceptions import ConfigurationError
from langchain_memos._response import stream_broken, stream_event
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.types import ChatResult, ChatStreamEvent

__all__ = ["AsyncMemOSClient"]

P = ParamSpec("P")
T = TypeVar("T")


def _async(
    build: Callable[P, APIRequest[T]] | Callable[P, Flow[T]],
) -> Callable[Concatenate[AsyncMemOSClient, P], Awaitable[T]]:
    async def method(self: AsyncMemOSClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._flow(build(*args, **kwargs)))

    describe_method(method, build)
    return method


def _async_stream(
    build: Callable[P, APIRequest[ChatResult]],
) -> Callable[Concatenate[AsyncMemOSClient, P], AsyncIterator[ChatStreamEvent]]:
    def method(
        self: AsyncMemOSClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[ChatStreamEvent]:
        return self._stream(ep.as_stream(build(*args, **kwargs)))

    describe_method(method, build, returns="AsyncIterator[ChatStreamEvent]")
    method.__name__ = method.__qualname__ = build.__name__ + "_stream"
    method.__doc__ = STREAM_DOC
    return method


@checks_keywords
class AsyncMemOSClient(BaseMemOSClient):
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
        selfhosted: SelfHosted = None,
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
                selfhosted=bool(selfhosted),
            ),
            selfhosted,
        )
        transport = self._transport(embedded, http_client)
        self._owns_http = self._preconfigured = http_client is None
        # httpx's own pool holds connections of the event loop that opened them (the self-hosted
        # mode's too: it sends through one); the embedded transport and a caller's http_client
        # are not ours to rebuild.
        self._per_loop = http_client is None and (transport is None or self._selfhosted is not None)
        self._http = http_client or httpx.AsyncClient(**self._pool_options(), transport=transport)
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
        return httpx.AsyncClient(**self._pool_options(), transport=self._selfhosted_transport())

    async def _close_at_loop_end(self, http: httpx.AsyncClient) -> AsyncIterator[None]:
        # asyncio.run finalizes the async generators still suspended before it closes the loop:
        # this one's finally then closes the pool on the loop its connections belong to.
        try:
            yield
        finally:
            if self._http is http:
                self._loop = None
            await http.aclose()

    async def _run(self, flow: Flow[T]) -> T:
        return await arun(flow, self._perform)

    async def _send(self, request: APIRequest[T]) -> T:
        return await self._run(send_flow(self._config, request))

    async def _perform(self, step: Work) -> Any:
        if isinstance(step, Send):
            return await self._send(step.request)
        if isinstance(step, Read):
            try:
                return await step.response.aread()
            finally:
                await step.response.aclose()
        self._check_open()  # also between retries: closed while this one slept
        http, moved = await self._pool_owner._http_here()
        try:
            request = build_httpx_request(
                http, self._config, step.request, preconfigured=self._preconfigured
            )
            return await http.send(request, stream=step.stream)
        except RuntimeError as exc:
            if not moved:
                raise
            raise ConfigurationError(
                "the http_client given to AsyncMemOSClient failed in a second event loop "
                f"({exc}): httpx connections belong to the loop that opened them, and each "
                "asyncio.run() makes a new loop. Pass a new http_client per event loop, or "
                "leave http_client out and the client opens a pool per loop itself"
            ) from exc

    async def _stream(self, request: APIRequest[ChatResult]) -> AsyncIterator[ChatStreamEvent]:
        head = await self._run(stream_flow(self._config, request))
        if isinstance(head, ChatResult):
            yield ChatStreamEvent(type="text", data=head.response)
            return
        try:
            async for line in head.aiter_lines():
                event = stream_event(line, head, request.path)
                if event is not None and event.type == "end":
                    return
                if event is not None:
                    yield event
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise stream_broken(exc, request, self._config) from exc
        finally:
            await head.aclose()

    add_message = _async(ep.add_message)
    search_memory = _async(ep.search_memory)
    get_memory = _async(ep.get_memory)
    get_memory_by_id = _async(ep.get_memory_by_id)
    get_message = _async(ep.get_message)
    delete_memory = _async(ep.delete_memory)
    update_memory = _async(ep.update_memory)
    bind_profile_template = _async(ep.bind_profile_template)
    edit_profile = _async(ep.edit_profile)
    delete_profile = _async(ep.delete_profile)
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

    wait_for_task = _async(ep.wait_for_task)

    async def aclose(self) -> None:
        """Close the connection pool (unless it was handed in as ``http_client``)."""
        self._closed = True
        if not self._owns_http:
            return
        if self._per_loop and self._loop not in (None, asyncio.get_running_loop()):
            # The pool belongs to another loop: one that ended without closing it (see
            # _http_here), whose connections cannot be closed from here and are dropped, or
            # one still running, which closes it at its end (_close_at_loop_end).
            return
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
