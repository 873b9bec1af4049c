"""An httpx transport that serves the cloud protocol from a self-hosted MemOS server.

Mounted under a client, it takes each request the client built for the cloud, translates it
(:mod:`._requests`), sends it to the server's ``/product`` route with the client's headers (so a
server with API-key auth gets the client's ``Authorization``), and hands the client back the
server's answer in the cloud's envelope (:mod:`._responses`). Everything above it (validation,
retries, error mapping, the typed models) runs unchanged. A call the server cannot serve raises
:class:`~langchain_memos.MemOSInputError` from here, before anything is sent.

Example:
    >>> http = httpx.Client(base_url="http://127.0.0.1:8000", transport=SelfHostedTransport())
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from langchain_memos._selfhosted._requests import ProductCall, translate_request
from langchain_memos._selfhosted._responses import translate_response
from langchain_memos._selfhosted._scope import SelfHostedOptions
from langchain_memos._tls import default_ssl_context
from langchain_memos._validation.keywords import checks_keywords


def _http_transport() -> httpx.BaseTransport:
    return httpx.HTTPTransport(verify=default_ssl_context())


def _async_http_transport() -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(verify=default_ssl_context())


# What sends to the server when no transport is given: httpx's own, with the package's shared
# TLS context (tests substitute theirs).
HTTP_TRANSPORT: Callable[[], httpx.BaseTransport] = _http_transport
ASYNC_HTTP_TRANSPORT: Callable[[], httpx.AsyncBaseTransport] = _async_http_transport
_HOP_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding"})
_ROUTER_PREFIX = "/product"


@checks_keywords
class SelfHostedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Translate cloud-protocol requests onto a self-hosted MemOS server and back.

    Args:
        options: Cube ids and the add mode (:class:`SelfHostedOptions`).
        transport: What sends to the server for a sync client (default: httpx's own).
        async_transport: What sends to the server for an async client (default: httpx's own).
    """

    def __init__(
        self,
        options: SelfHostedOptions | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options or SelfHostedOptions()
        self._transport = transport
        self._async_transport = async_transport

    def _outgoing(
        self, request: httpx.Request, content: bytes
    ) -> tuple[ProductCall, httpx.Request]:
        path = request.url.path
        body: Any = None
        if content:
            try:
                body = json.loads(content)
            except ValueError:
                body = ...  # not JSON: refused below as not an object
        route, call = translate_request(request.method, path, body, self.options)
        prefix = path[: len(path) - len(route)] if path.endswith(route) else ""
        prefix = prefix.removesuffix(_ROUTER_PREFIX)  # a base URL given with /product
        url = request.url.copy_with(
            path=prefix + call.path, query=urlencode(call.params).encode() if call.params else None
        )
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS]
        data = None
        if call.body is not None:
            data = json.dumps(call.body, ensure_ascii=False).encode()
            headers.append(("Content-Type", "application/json"))
        upstream = httpx.Request(
            call.method, url, headers=headers, content=data, extensions=request.extensions
        )
        return call, upstream

    @staticmethod
    def _streams(call: ProductCall, response: httpx.Response) -> bool:
        # The server's chat events are the cloud's ({"type", "data"} after "data:"): they pass as
        # they come. Anything else is read whole and translated.
        content_type = response.headers.get("content-type", "")
        return (
            call.kind == "chat_stream"
            and response.status_code == 200
            and (content_type.startswith("text/event-stream"))
        )

    @staticmethod
    def _incoming(
        request: httpx.Request, call: ProductCall, response: httpx.Response
    ) -> httpx.Response:
        try:
            payload = json.loads(response.content) if response.content else None
        except (ValueError, RecursionError):  # not JSON, or nested past what json reads
            payload = None
        if response.status_code < 400 and not isinstance(payload, dict):
            # Not the server's answer (a proxy's page, a cut-off body): the client reports what
            # came, as for the cloud, instead of taking it for an empty success.
            kind = {"content-type": response.headers.get("content-type", "")}
            return httpx.Response(
                response.status_code, headers=kind, content=response.content, request=request
            )
        status, envelope = translate_response(call, response.status_code, payload)
        return httpx.Response(status, json=envelope, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call, upstream = self._outgoing(request, request.read())
        if self._transport is None:
            self._transport = HTTP_TRANSPORT()
        response = self._transport.handle_request(upstream)
        if self._streams(call, response):
            return httpx.Response(
                200, headers=response.headers, stream=response.stream, request=request
            )
        try:
            response.read()
        finally:
            response.close()
        return self._incoming(request, call, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call, upstream = self._outgoing(request, await request.aread())
        if self._async_transport is None:
            self._async_transport = ASYNC_HTTP_TRANSPORT()
        response = await self._async_transport.handle_async_request(upstream)
        if self._streams(call, response):
            return httpx.Response(
                200, headers=response.headers, stream=response.stream, request=request
            )
        try:
            await response.aread()
        finally:
            await response.aclose()
        return self._incoming(request, call, response)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        if self._async_transport is not None:
            await self._async_transport.aclose()
