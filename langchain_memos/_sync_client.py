"""``MemOSClient``: the blocking shell over the MemOS API.

It sends with one pooled ``httpx.Client`` and drives the shared flows (``_base_client``) with
blocking calls; everything else it shares with ``AsyncMemOSClient`` (``_client_base``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
from langchain_memos._drivers import run
from langchain_memos._response import stream_broken, stream_event
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.types import ChatResult, ChatStreamEvent

__all__ = ["MemOSClient"]

P = ParamSpec("P")
T = TypeVar("T")


def _sync(
    build: Callable[P, APIRequest[T]] | Callable[P, Flow[T]],
) -> Callable[Concatenate[MemOSClient, P], T]:
    def method(self: MemOSClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(self._flow(build(*args, **kwargs)))

    describe_method(method, build)
    return method


def _sync_stream(
    build: Callable[P, APIRequest[ChatResult]],
) -> Callable[Concatenate[MemOSClient, P], Iterator[ChatStreamEvent]]:
    def method(
        self: MemOSClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> Iterator[ChatStreamEvent]:
        return self._stream(ep.as_stream(build(*args, **kwargs)))

    describe_method(method, build, returns="Iterator[ChatStreamEvent]")
    method.__name__ = method.__qualname__ = build.__name__ + "_stream"
    method.__doc__ = STREAM_DOC
    return method


@checks_keywords
class MemOSClient(BaseMemOSClient):
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
        default_headers: Extra headers for every request; one named as a header the client
            sets (``authorization``, in any case) replaces it.
        http_client: Your own ``httpx.Client``; it is used as it is and not closed by
            :meth:`close`.
        embedded: Use the offline embedded engine instead of a service: a database path,
            ``":memory:"``, or an ``EmbeddedEngine``. A base URL ``embedded:///path/to/memos.db``
            does the same.
        selfhosted: Talk to a self-hosted, open-source MemOS server at ``base_url`` (its
            ``/product`` routes) with this same API: ``True``, or a ``SelfHostedOptions`` with
            the cubes to read and write (default: one cube per user, named after the user id).
            A base URL ``selfhosted+http://host:8000`` does the same. Calls the server does not
            offer raise ``MemOSInputError`` before any request; see the README.

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
        self._http = http_client or httpx.Client(**self._pool_options(), transport=transport)

    def _run(self, flow: Flow[T]) -> T:
        return run(flow, self._perform)

    def _send(self, request: APIRequest[T]) -> T:
        return self._run(send_flow(self._config, request))

    def _perform(self, step: Work) -> Any:
        if isinstance(step, Send):
            return self._send(step.request)
        if isinstance(step, Read):
            try:
                return step.response.read()
            finally:
                step.response.close()
        self._check_open()  # also between retries: closed while this one slept
        request = build_httpx_request(
            self._http, self._config, step.request, preconfigured=self._preconfigured
        )
        return self._http.send(request, stream=step.stream)

    def _stream(self, request: APIRequest[ChatResult]) -> Iterator[ChatStreamEvent]:
        head = self._run(stream_flow(self._config, request))
        if isinstance(head, ChatResult):
            yield ChatStreamEvent(type="text", data=head.response)
            return
        try:
            for line in head.iter_lines():
                event = stream_event(line, head, request.path)
                if event is not None and event.type == "end":
                    return
                if event is not None:
                    yield event
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise stream_broken(exc, request, self._config) from exc
        finally:
            head.close()

    add_message = _sync(ep.add_message)
    search_memory = _sync(ep.search_memory)
    get_memory = _sync(ep.get_memory)
    get_memory_by_id = _sync(ep.get_memory_by_id)
    get_message = _sync(ep.get_message)
    delete_memory = _sync(ep.delete_memory)
    update_memory = _sync(ep.update_memory)
    bind_profile_template = _sync(ep.bind_profile_template)
    edit_profile = _sync(ep.edit_profile)
    delete_profile = _sync(ep.delete_profile)
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

    wait_for_task = _sync(ep.wait_for_task)

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
