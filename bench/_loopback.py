"""The loopback MemOS ``client_overhead.py`` measures against, and what it saw on the wire.

An asyncio Protocol in its own process, answering ``POST /api/openmem/v1/search/memory`` with
the documented example body (precomputed bytes, HTTP/1.1 keep-alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import httpx

API_PREFIX = "/api/openmem/v1"
SEARCH_PATH = API_PREFIX + "/search/memory"

# The documented example answer of search/memory (shared/memos_api.md 1.5).
SEARCH_RESPONSE: dict[str, Any] = {
    "code": 0,
    "message": "ok",
    "data": {
        "memory_detail_list": [
            {
                "id": "c6c63472-25d3-49ee-b360-9b0702d96781",
                "memory_key": "Spicy Food Preference",
                "memory_value": "User likes spicy food but doesn't like heavy oil dishes, ...",
                "memory_type": "UserMemory",
                "create_time": 1762674694466,
                "conversation_id": "memos_conversation_123",
                "status": "activated",
                "confidence": 0.99,
                "tags": ["Dietary Preference", "Spicy", "Heavy Oil"],
                "update_time": 1762674694423,
                "relativity": 0.00242424,
            }
        ],
        "preference_detail_list": [
            {
                "id": "46d8372d-241a-4ffc-890b-ae13c90d5565",
                "preference_type": "explicit_preference",
                "preference": "User likes spicy food but dislikes heavy oil spicy food.",
                "reasoning": "In the first query, the user explicitly stated ...",
                "create_time": 1762675342352,
                "conversation_id": "memos_conversation_123",
                "status": "activated",
                "update_time": 1762674923302,
            }
        ],
        "tool_memory_detail_list": [],
        "skill_detail_list": [],
        "preference_note": (
            "\n# Note:\nFactual memory is a summary of facts, while preference memory is a "
            "summary of user preferences.\nYour reply must not violate any of the user's "
            "preferences, whether explicit or implicit, and briefly explain why you answered "
            "this way to avoid conflicts.\n"
        ),
    },
}


# ---- the loopback server ---------------------------------------------------------------------
#
# An asyncio Protocol in its own process, answering with precomputed bytes. Chosen over
# ``http.server.ThreadingHTTPServer``: that one starts a thread per connection and parses every
# request with ``email.parser`` (~100 us of server CPU per request, and jittery), while this one
# does a few microseconds of work per request. A fast, constant server is the conservative
# choice: it shrinks the shared part of each round trip, so the ratio shows the client's cost
# rather than hiding it behind the server's. A separate process keeps the server off the GIL of
# the client being measured; with two or more CPUs each side is pinned to its own.

MAX_REQUEST_BYTES = 1 << 20


def _http_response(status: bytes, body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = (
        b"HTTP/1.1 " + status + b"\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: keep-alive\r\n\r\n"
    )
    return head + body


def encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


SEARCH_RESPONSE_BYTES = encode(SEARCH_RESPONSE)
LAST_REQUEST_PATH = "/__last_search_request__"
_OK = _http_response(b"200 OK", SEARCH_RESPONSE_BYTES)
_NOT_FOUND = _http_response(b"404 Not Found", encode({"code": 40400, "message": "not found"}))
_SEARCH_LINE = b"POST " + SEARCH_PATH.encode() + b" HTTP/1.1"
_LAST_LINE = b"GET " + LAST_REQUEST_PATH.encode() + b" HTTP/1.1"


class _LoopbackProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection, Content-Length bodies only.

    ``GET /__last_search_request__`` answers with the raw bytes of the latest search request,
    so that the script can compare what the client and the bare caller really sent.
    """

    last_search_request = b""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        self._buffer += data
        if len(self._buffer) > MAX_REQUEST_BYTES:
            transport.close()
            return
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self._buffer[:end]).split(b"\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            if lines[0] == _SEARCH_LINE:
                _LoopbackProtocol.last_search_request = bytes(self._buffer[:total])
                transport.write(_OK)
            elif lines[0] == _LAST_LINE:
                raw = _LoopbackProtocol.last_search_request
                transport.write(_http_response(b"200 OK", raw, b"application/octet-stream"))
            else:
                transport.write(_NOT_FOUND)
            del self._buffer[:total]


def pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def _serve(ready: Connection, cpu: int | None) -> None:
    """The server process: report the port on ``ready``, then serve until terminated."""
    pin(cpu)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_LoopbackProtocol, "127.0.0.1", 0, backlog=16)
        ready.send(server.sockets[0].getsockname()[1])
        ready.close()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


WireRequest = tuple[bytes, list[tuple[bytes, bytes]], bytes]


def _wire_view(raw: bytes) -> WireRequest:
    """Request line, headers (lower-cased names, sorted: order carries no meaning) and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.split(b"\r\n")
    headers = []
    for field in fields:
        name, _, value = field.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return line, sorted(headers), body


def last_request(port: int) -> WireRequest:
    answer = httpx.get(f"http://127.0.0.1:{port}{LAST_REQUEST_PATH}")
    answer.raise_for_status()
    return _wire_view(answer.content)


async def alast_request(port: int) -> WireRequest:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{port}{LAST_REQUEST_PATH}")
    answer.raise_for_status()
    return _wire_view(answer.content)


def check_same_request(sent: dict[str, WireRequest]) -> None:
    """Fail unless every series put the same request on the wire (seen by the server)."""
    reference_name, reference = next(iter(sent.items()))
    for name, request in sent.items():
        if request != reference:
            raise SystemExit(
                f"{name} and {reference_name} sent different requests:\n{request}\n{reference}"
            )


def choose_cpus(no_pin: bool) -> tuple[int, int] | None:
    """A CPU for the client and one for the server, when there are two and pinning is wanted."""
    if no_pin or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


@contextlib.contextmanager
def loopback_server(cpu: int | None) -> Iterator[int]:
    """The server in a spawned process (pinned to ``cpu``); yields its port, then ends it."""
    context = multiprocessing.get_context("spawn")
    ready, ready_child = context.Pipe(duplex=False)
    server = context.Process(target=_serve, args=(ready_child, cpu), daemon=True)
    server.start()
    ready_child.close()
    try:
        if not ready.poll(30):
            raise SystemExit("the loopback server did not start within 30 s")
        yield int(ready.recv())
    finally:
        server.terminate()
        server.join(10)
        if server.is_alive():
            server.kill()
            server.join(10)
