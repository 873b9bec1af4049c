"""Cassettes of the exchanges between the self-hosted mode and a MemOS server's ``/product`` routes.

vcrpy records at the httpx client, so it would record (and on replay, answer) the client's
cloud-shaped calls and skip the translation under test. These transports sit where the
self-hosted mode sends to the server instead: :class:`Recorder` forwards to the server and
keeps each exchange; :class:`Replayer` answers them in order and fails on any request that is
not the next one recorded. The files use vcrpy's YAML layout, with ``authorization`` replaced
by ``PLACEHOLDER`` and ``set-cookie`` dropped, so the secret scan of ``cassettes/`` reads them.

Requests match on method, path, query and JSON body, except ``task_id`` (the ids the mode
issues are fresh each run) and the messages' ``chat_time`` (the middleware stamps a turn with
the time it happens).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml  # type: ignore[import-untyped,unused-ignore]

PLACEHOLDER = "PLACEHOLDER"
_UNRECORDED_HEADERS = {"set-cookie", "date", "content-length", "transfer-encoding"}


def _body(content: bytes) -> Any:
    if not content:
        return None
    try:
        document = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")
    if isinstance(document, dict):
        document.pop("task_id", None)
        for message in document.get("messages") or []:
            if isinstance(message, dict):
                message.pop("chat_time", None)
    return document


def _query(url: httpx.URL) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in parse_qsl(url.query.decode()) if k != "task_id")


def _key(method: str, url: httpx.URL, content: bytes) -> tuple[str, str, Any, Any]:
    return method, url.path, _query(url), _body(content)


def _record(request: httpx.Request, response: httpx.Response) -> dict[str, Any]:
    headers = {
        name: [PLACEHOLDER if name == "authorization" else value]
        for name, value in request.headers.items()
        if name not in ("host", "content-length")
    }
    return {
        "request": {
            "method": request.method,
            "uri": str(request.url),
            "body": request.content.decode("utf-8", "replace") or None,
            "headers": headers,
        },
        "response": {
            "status": {"code": response.status_code, "message": response.reason_phrase},
            "headers": {
                name: [value]
                for name, value in response.headers.items()
                if name not in _UNRECORDED_HEADERS
            },
            "body": {"string": response.content.decode("utf-8", "replace")},
        },
    }


class Recorder(httpx.BaseTransport):
    """Send to the server and keep every exchange (read whole, streams included)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.interactions: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        self.interactions.append(_record(request, response))
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    def save(self, path: Path) -> None:
        document = {"interactions": self.interactions, "version": 1}
        path.write_text(yaml.dump(document, Dumper=yaml.SafeDumper, allow_unicode=True))


class Replayer(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer the recorded exchanges in their order; anything else fails the test."""

    def __init__(self, path: Path) -> None:
        self.interactions = yaml.safe_load(path.read_text())["interactions"]
        self.played = 0

    def _answer(self, request: httpx.Request, content: bytes) -> httpx.Response:
        if self.played >= len(self.interactions):
            raise AssertionError(f"not recorded: {request.method} {request.url.path}")
        recorded = self.interactions[self.played]
        sent = recorded["request"]
        expected = _key(sent["method"], httpx.URL(sent["uri"]), (sent["body"] or "").encode())
        got = _key(request.method, request.url, content)
        if got != expected:
            raise AssertionError(
                f"request {self.played} differs from the recording:\n{got}\n{expected}"
            )
        self.played += 1
        answer = recorded["response"]
        headers = [(name, value) for name, values in answer["headers"].items() for value in values]
        return httpx.Response(
            answer["status"]["code"], headers=headers, content=answer["body"]["string"].encode()
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, await request.aread())

    @property
    def finished(self) -> bool:
        return self.played == len(self.interactions)
