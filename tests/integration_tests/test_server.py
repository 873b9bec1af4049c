"""The embedded engine over real HTTP on loopback: ``serve()`` and ``python -m ... serve``."""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_memos import (
    AsyncMemOSClient,
    AuthenticationError,
    ConfigurationError,
    MemOSClient,
)
from langchain_memos.__main__ import main
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded.server import MemOSServer, is_loopback_host, serve
from langchain_memos.types import MessageInput

pytestmark = pytest.mark.loopback

TOKEN = "test-token-not-a-secret"
TRIP: list[MessageInput] = [
    {"role": "user", "content": "I prefer window seats on long flights to Tokyo."},
    {"role": "assistant", "content": "Noted: window seats for your Tokyo flights."},
]


@pytest.fixture
def server() -> Iterator[MemOSServer]:
    """A server that requires ``TOKEN``."""
    with serve(EmbeddedEngine(":memory:"), token=TOKEN) as running:
        yield running


@pytest.fixture
def open_server() -> Iterator[MemOSServer]:
    """A server without a token."""
    with serve(EmbeddedEngine(":memory:")) as running:
        yield running


def client_for(server: MemOSServer, api_key: str | None = TOKEN) -> MemOSClient:
    return MemOSClient(base_url=server.base_url, api_key=api_key, max_retries=0, timeout=5)


def post(url: str, body: object, token: str | None = TOKEN, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url, json=body, headers=headers, timeout=5, **kwargs)


# ---- the package's clients, unchanged ---------------------------------------------------------


def test_client_round_trip(server: MemOSServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/openmem/v1", server.base_url)
    with client_for(server) as client:
        added = client.add_message(TRIP, user_id="u1", conversation_id="c1", async_mode=False)
        assert added.success
        found = client.search_memory("window seats Tokyo", user_id="u1")
        assert any("window seats" in str(m.memory_value) for m in found.memory_detail_list)
        history = client.get_message(user_id="u1", conversation_id="c1")
        assert [(m.role, m.content) for m in history.message_detail_list] == [
            (m["role"], m["content"]) for m in TRIP
        ]
        listed = client.get_memory(user_id="u1")
        ids = [str(m.id) for m in listed.memory_detail_list]
        assert len(ids) == 2
        assert client.get_memory_by_id(ids[0]).id == ids[0]  # a GET with the id in the path
        assert client.delete_memory(memory_ids=ids).success
        assert client.get_memory(user_id="u1").memory_detail_list == []


async def test_async_client_round_trip(server: MemOSServer) -> None:
    async with AsyncMemOSClient(base_url=server.base_url, api_key=TOKEN, max_retries=0) as client:
        await client.add_message(TRIP, user_id="u1", conversation_id="c1", async_mode=False)
        found = await client.search_memory("window seats", user_id="u1")
    assert found.memory_detail_list


def test_multipart_upload_reaches_the_engine(server: MemOSServer) -> None:
    with client_for(server) as client:
        kb = client.create_knowledgebase("faq").id
        assert kb is not None
        files = client.upload_knowledgebase_files(
            kb, [("lounge.md", b"The airport lounge opens at 5 am for business class.")]
        )
        assert [f.name for f in files] == ["lounge.md"]
        found = client.search_memory("airport lounge", user_id="u1", knowledgebase_ids=[kb])
    assert any("lounge" in str(m.memory_value) for m in found.memory_detail_list)


# ---- the bearer token -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, 40100),
        ("Basic dXNlcjpwYXNz", 40100),
        ("Bearer", 40100),
        ("Bearer wrong-token", 40132),
        ("Token wrong-token", 40132),
        (f"Bearer {TOKEN}x", 40132),
        (f"Bearer {TOKEN}", 0),
        (f"bearer {TOKEN}", 0),
        (f"Token {TOKEN}", 0),  # the cloud's scheme, which MemOS clients send
    ],
)
def test_token_is_required(server: MemOSServer, authorization: str | None, code: int) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(
        server.base_url + "/search/memory",
        json={"query": "tokyo", "user_id": "u1"},
        headers=headers,
        timeout=5,
    )
    assert response.json()["code"] == code
    assert response.status_code == (200 if code == 0 else 401)
    if code:
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_key_is_an_authentication_error(server: MemOSServer) -> None:
    with client_for(server, api_key="wrong") as client, pytest.raises(AuthenticationError) as info:
        client.search_memory("tokyo", user_id="u1")
    assert (info.value.code, info.value.http_status) == (40132, 401)


def test_without_a_token_any_authorization_is_ignored(open_server: MemOSServer) -> None:
    for token in (None, "anything"):
        response = post(
            open_server.base_url + "/search/memory", {"query": "x", "user_id": "u"}, token
        )
        assert response.json()["code"] == 0


def test_a_refused_request_leaves_the_connection_usable(server: MemOSServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    body = json.dumps({"query": "tokyo", "user_id": "u1"})
    try:
        connection.request("POST", "/search/memory", body)
        first = connection.getresponse()
        assert (first.status, json.loads(first.read())["code"]) == (401, 40100)
        kept = connection.sock
        connection.request("POST", "/search/memory", body, {"Authorization": f"Token {TOKEN}"})
        second = connection.getresponse()
        assert (second.status, json.loads(second.read())["code"]) == (200, 0)
        assert connection.sock is kept  # the same keep-alive connection served both
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),  # a page on another site, through a browser
        ({"Origin": "null"}, 403),  # a sandboxed or file:// page
        ({"Origin": "http://[::1"}, 403),  # no URL: a 500 and a traceback before
        ({"Origin": "https://[evil.example]"}, 403),
        ({"Host": "evil.example:8765"}, 403),  # a page that rebound its name to 127.0.0.1
        ({"Origin": "http://localhost:3000", "Host": "localhost"}, 200),
        ({"Host": "app.localhost:8765"}, 200),
        ({"Host": "[::1]:8765"}, 200),
    ],
)
def test_requests_from_web_pages_are_refused(
    open_server: MemOSServer, headers: dict[str, str], status: int
) -> None:
    url = open_server.base_url + "/search/memory"
    response = httpx.post(url, json={"query": "x", "user_id": "u"}, headers=headers, timeout=5)
    code = 40306 if status == 403 else 0
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_unusable_tokens_are_refused() -> None:
    for token in ("", "has space", "naïve"):
        with pytest.raises(ConfigurationError, match="visible ASCII"):
            serve(EmbeddedEngine(":memory:"), token=token)


# ---- what the official SDK sends, and paths -----------------------------------------------------


def test_json_nulls_for_optional_fields_are_accepted(open_server: MemOSServer) -> None:
    """The bodies the official SDK (MemoryOS 2.0) sends, with null for every unset option."""
    url = open_server.base_url
    add = {
        "messages": TRIP,
        "user_id": "u1",
        "conversation_id": "c1",
        "info": None,
        "source": None,
        "app_id": None,
        "agent_id": None,
        "allow_public": False,
        "allow_knowledgebase_ids": None,
        "allow_memory_view": None,
        "tags": None,
        "async_mode": True,
    }
    search = {
        "query": "window seats",
        "user_id": "u1",
        "conversation_id": None,
        "agent_id": None,
        "memory_limit_number": 6,
        "include_preference": True,
        "knowledgebase_ids": None,
        "filter": None,
        "preference_limit_number": 6,
        "tool_memory_limit_number": 6,
        "relativity": None,
        "include_skill": False,
        "skill_limit_number": 6,
        "include_memory_view": None,
        "context_format": "memory",
        "source": None,
        "include_tool_memory": False,
    }
    messages = {
        "user_id": "u1",
        "conversation_id": "c1",
        "conversation_limit_number": None,
        "message_limit_number": None,
        "source": None,
    }
    memories = {
        "include_preference": True,
        "user_id": "u1",
        "agent_id": None,
        "include_tool_memory": True,
        "include_memory_view": None,
        "filter": None,
        "page": 1,
        "size": 10,
    }
    answers = {
        path: post(url + path, body, token=None).json()
        for path, body in [
            ("/add/message", add),
            ("/search/memory", search),
            ("/get/message", messages),
            ("/get/memory", memories),
        ]
    }
    assert {path: answer["code"] for path, answer in answers.items()} == dict.fromkeys(answers, 0)
    assert answers["/search/memory"]["data"]["memory_detail_list"]
    assert len(answers["/get/message"]["data"]["message_detail_list"]) == 2


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("POST", "/search/memory", 200, 0),  # the bare path works too
        ("POST", "/api/openmem/v1/search/memory/", 200, 0),
        ("POST", "/nope", 404, 40001),
        ("POST", "/api/openmem/v1/nope", 404, 40001),
        ("POST", "/elsewhere/api/openmem/v1/search/memory", 404, 40001),
        ("GET", "/api/openmem/v1/search/memory", 404, 40001),
        ("GET", "/", 200, 0),
        ("OPTIONS", "/api/openmem/v1/search/memory", 501, 50000),
    ],
)
def test_paths_and_methods(
    open_server: MemOSServer, method: str, path: str, status: int, code: int
) -> None:
    url = f"http://{open_server.host}:{open_server.port}{path}"
    response = httpx.request(method, url, json={"query": "x", "user_id": "u"}, timeout=5)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_the_root_says_what_the_server_is_and_where_its_api_lives(
    open_server: MemOSServer,
) -> None:
    response = httpx.get(f"http://{open_server.host}:{open_server.port}/", timeout=5)
    assert (response.status_code, response.json()["code"]) == (200, 0)
    about = response.json()["data"]
    assert about["service"] == "langchain-memos embedded MemOS engine"
    assert open_server.base_url.endswith(about["api_root"])
    assert "POST /search/memory" in about["endpoints"]
    assert "memos-docs" in about["docs"]


def test_an_engine_failure_is_a_500_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> tuple[int, bytes]:
        raise RuntimeError("a bug")

    engine = EmbeddedEngine(":memory:")
    monkeypatch.setattr(engine, "handle", broken)
    with serve(engine) as running:
        response = post(running.base_url + "/search/memory", {}, token=None)
    assert (response.status_code, response.json()["code"]) == (500, 50000)


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_id": "u", "conversation_id": "c", "messages": [{"role": "user", '
        b'"content": "\\ud83d"}]}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_bad_json_is_a_400_not_a_logged_traceback(
    open_server: MemOSServer, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG, "langchain_memos")
    response = httpx.post(open_server.base_url + "/add/message", content=body, timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.parametrize(
    "arguments",
    [{"port": "80"}, {"port": True}, {"host": None}, {"max_body_bytes": 1.5}, {"token": 123}],
)
def test_arguments_of_the_wrong_type_are_configuration_errors(arguments: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(arguments))):
        serve(EmbeddedEngine(":memory:"), **arguments)


# ---- limits -----------------------------------------------------------------------------------


@pytest.fixture
def small_server() -> Iterator[MemOSServer]:
    """A server that takes bodies of at most 1 KiB."""
    with serve(EmbeddedEngine(":memory:"), max_body_bytes=1024) as running:
        yield running


def search_body(size: int) -> bytes:
    # Padded in "source", the channel tag every endpoint takes and no search reads.
    body = json.dumps({"query": "tokyo", "user_id": "u1", "source": ""}).encode()
    return body.replace(b'"source": ""', b'"source": "' + b"x" * (size - len(body)) + b'"')


def _connect(server: MemOSServer, head: bytes = b"") -> socket.socket:
    connection = socket.create_connection((server.host, server.port), timeout=5)
    if head:
        connection.sendall(head)
    return connection


def _answer_of(connection: socket.socket) -> tuple[int, dict[str, Any]]:
    response = http.client.HTTPResponse(connection)
    response.begin()
    return response.status, json.loads(response.read())


def _post_head(length: int) -> bytes:
    return (
        f"POST /api/openmem/v1/search/memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _threads_settle(most: int) -> int:
    for _ in range(100):
        if threading.active_count() <= most:
            break
        time.sleep(0.02)
    return threading.active_count()


def test_idle_connections_hold_no_thread() -> None:
    # The hand-written server gave every connection a thread for 120 s (3,000 idle: 3,002).
    with serve(EmbeddedEngine(":memory:")) as running:
        before = threading.active_count()
        idle = [_connect(running) for _ in range(200)]
        try:
            response = post(running.base_url + "/search/memory", {"query": "x", "user_id": "u"})
            assert response.json()["code"] == 0
            assert threading.active_count() <= before + 4  # the engine's pool, at most
        finally:
            for connection in idle:
                connection.close()


def test_a_slow_engine_call_holds_up_neither_the_server_nor_other_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = EmbeddedEngine(":memory:")
    handle, started, release = engine.handle, threading.Event(), threading.Event()

    def slow_adds(method: str, path: str, body: bytes, **kwargs: Any) -> tuple[int, bytes]:
        if path.endswith("/add/message"):  # as a large knowledge-base file would be
            started.set()
            release.wait(10)
        return handle(method, path, body, **kwargs)

    monkeypatch.setattr(engine, "handle", slow_adds)
    add = {"user_id": "u", "conversation_id": "c", "messages": TRIP}
    with serve(engine, token=TOKEN) as running:
        adding = threading.Thread(target=post, args=(running.base_url + "/add/message", add))
        adding.start()
        try:
            assert started.wait(5)
            refused = post(running.base_url + "/search/memory", {}, token=None)
            assert refused.status_code == 401  # answered by the server itself
            search = post(running.base_url + "/search/memory", {"query": "x", "user_id": "u"})
            assert search.json()["code"] == 0  # by the engine, beside the slow call
        finally:
            release.set()
            adding.join()


@pytest.mark.parametrize("protocol", ["auto", "h11"])  # without httptools, uvicorn takes h11
def test_a_connection_that_begins_no_request_is_closed(
    monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    """Sockets that sent nothing, or half a request head, were kept for good before: a few of
    them took every place of max_connections, and every client was answered 503."""
    monkeypatch.setattr("langchain_memos.embedded._connections.HEAD_SECONDS", 0.2)
    if protocol == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        monkeypatch.setattr("langchain_memos.embedded.server._http_protocol", lambda: H11Protocol)
    engine = EmbeddedEngine(":memory:")
    handle = engine.handle

    def slow(method: str, path: str, body: bytes, **kwargs: Any) -> tuple[int, bytes]:
        time.sleep(1)  # a request in progress for several deadlines is left alone
        return handle(method, path, body, **kwargs)

    monkeypatch.setattr(engine, "handle", slow)
    with serve(engine, max_connections=3) as running:
        silent = _connect(running)
        half = _connect(running, b"POST /api/openmem/v1/search/memory HTTP/1.1\r\nHost: 127")
        try:
            for connection in (silent, half):
                assert connection.recv(1024) == b""  # closed by the server, not timed out
            search = httpx.post(
                running.base_url + "/search/memory", json={"query": "x", "user_id": "u"}, timeout=5
            )
            assert search.json()["code"] == 0
        finally:
            silent.close()
            half.close()


def test_a_connection_is_kept_a_whole_period_after_a_long_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deadline closed it at its next look, just after the answer (a review): a pooled
    client reusing it then lost the request."""
    monkeypatch.setattr("langchain_memos.embedded._connections.HEAD_SECONDS", 0.4)
    engine = EmbeddedEngine(":memory:")
    handle = engine.handle

    def slow(method: str, path: str, body: bytes, **kwargs: Any) -> tuple[int, bytes]:
        time.sleep(1.1)  # through several looks
        return handle(method, path, body, **kwargs)

    monkeypatch.setattr(engine, "handle", slow)
    with serve(engine) as running:
        connection = _connect(running, _post_head(len(search_body(50))) + search_body(50))
        try:
            assert _answer_of(connection)[0] == 200
            answered = time.monotonic()
            assert connection.recv(1) == b""  # closed in the end
            assert time.monotonic() - answered >= 0.4
        finally:
            connection.close()


def test_past_max_connections_a_request_gets_a_503() -> None:
    with serve(EmbeddedEngine(":memory:"), max_connections=2) as running:
        # Two requests whose bodies are still arriving keep two connections busy.
        busy = [_connect(running, _post_head(100) + b"{") for _ in range(2)]
        time.sleep(0.2)
        turned_away = _connect(running, _post_head(2) + b"{}")
        try:
            response = http.client.HTTPResponse(turned_away)
            response.begin()
            assert response.status == 503
        finally:
            for connection in [*busy, turned_away]:
                connection.close()


def test_large_bodies_are_read_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("langchain_memos.embedded._asgi.LARGE_BODY_WAIT_SECONDS", 0.3)
    size = 1_100_000  # over the 1 MiB above which bodies take turns, two at a time
    with serve(EmbeddedEngine(":memory:")) as running:
        slow = [_connect(running, _post_head(size) + b"{") for _ in range(2)]
        time.sleep(0.2)
        third = _connect(running, _post_head(size) + search_body(size))
        try:
            status, answer = _answer_of(third)
            assert (status, answer["code"]) == (503, 50004)
            for connection in slow:
                connection.close()  # their bodies end early: their turns come back
            time.sleep(0.2)
            response = httpx.post(
                running.base_url + "/search/memory", content=search_body(size), timeout=5
            )
            assert response.json()["code"] == 0
        finally:
            third.close()


def test_a_stalled_upload_gives_up_its_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two uploads that stopped sending held both turns for good before: every later large or
    chunked body, however small, was refused 503."""
    monkeypatch.setattr("langchain_memos.embedded._asgi.BODY_IDLE_SECONDS", 0.3)
    monkeypatch.setattr("langchain_memos.embedded._asgi.LARGE_BODY_WAIT_SECONDS", 5)
    size = 1_100_000
    with serve(EmbeddedEngine(":memory:")) as running:
        stalled = [_connect(running, _post_head(size) + b"{") for _ in range(2)]
        try:
            for connection in stalled:
                status, answer = _answer_of(connection)
                assert (status, answer["code"]) == (408, 40000)
            chunked = iter([search_body(100)])  # no length: it takes a turn too
            response = httpx.post(running.base_url + "/search/memory", content=chunked, timeout=5)
            assert response.json()["code"] == 0
        finally:
            for connection in stalled:
                connection.close()


def test_an_upload_that_trickles_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte now and then, each within the idle time, held a place for good (a review)."""
    monkeypatch.setattr("langchain_memos.embedded._asgi.BODY_IDLE_SECONDS", 0.5)
    monkeypatch.setattr("langchain_memos.embedded._asgi.BODY_BYTES_PER_SECOND", 1000)
    with serve(EmbeddedEngine(":memory:")) as running:
        connection = _connect(running, _post_head(100_000) + b"{")
        try:
            started = time.monotonic()
            with contextlib.suppress(OSError):  # refused and closed: the server stops reading
                for _ in range(100):
                    connection.sendall(b" ")
                    time.sleep(0.05)
                    if time.monotonic() - started > 2:
                        break
            status, answer = _answer_of(connection)
            assert (status, answer["code"]) == (408, 40000)
        finally:
            connection.close()


def test_a_body_over_the_limit_is_refused(small_server: MemOSServer) -> None:
    url = small_server.base_url + "/search/memory"
    assert httpx.post(url, content=search_body(1024), timeout=5).json()["code"] == 0
    response = httpx.post(url, content=search_body(4096), timeout=5)
    assert (response.status_code, response.json()["code"]) == (413, 40000)
    assert response.headers["connection"] == "close"


def test_chunked_bodies_are_read_and_limited(small_server: MemOSServer) -> None:
    url = small_server.base_url + "/search/memory"

    def chunks(body: bytes) -> Iterator[bytes]:  # no length known: sent chunked
        yield from (body[i : i + 100] for i in range(0, len(body), 100))

    assert httpx.post(url, content=chunks(search_body(1000)), timeout=5).json()["code"] == 0
    response = httpx.post(url, content=chunks(search_body(4096)), timeout=5)
    assert (response.status_code, response.json()["code"]) == (413, 40000)


def test_a_client_that_asks_first_is_refused_before_sending(small_server: MemOSServer) -> None:
    with socket.create_connection((small_server.host, small_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/openmem/v1/add/message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["code"] == 40000


# ---- life cycle -------------------------------------------------------------------------------


# Nothing binds: the refusal comes first.
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])  # noqa: S104
def test_hosts_off_loopback_are_refused(host: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_remote"):
        serve(EmbeddedEngine(":memory:"), host=host)


def test_loopback_hosts() -> None:
    assert all(map(is_loopback_host, ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"]))
    others = ["0.0.0.0", "::", "10.0.0.1", "localhost.example"]  # noqa: S104 - nothing binds
    assert not any(map(is_loopback_host, others))


def test_a_port_in_use_is_an_os_error(open_server: MemOSServer) -> None:
    with pytest.raises(OSError) as info:  # noqa: PT011 - the errno says which
        serve(EmbeddedEngine(":memory:"), port=open_server.port)
    assert info.value.errno == errno.EADDRINUSE


def test_close_ends_idle_connections(open_server: MemOSServer) -> None:
    with httpx.Client(timeout=5) as http:
        url = open_server.base_url + "/search/memory"
        assert http.post(url, json={"query": "x", "user_id": "u"}).json()["code"] == 0
        open_server.close()  # with that keep-alive connection open and idle
        open_server.close()  # twice is harmless
        with pytest.raises(httpx.TransportError):
            http.post(url, json={"query": "x", "user_id": "u"})


def test_requests_are_logged_without_credentials(
    server: MemOSServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="langchain_memos.server"):
        post(server.base_url + "/search/memory?secret=1", {"query": "x", "user_id": "u"})
        server.close()  # the line is written once the answer is sent: wait for the handler
    (line,) = [r.getMessage() for r in caplog.records if r.name == "langchain_memos.server"]
    assert re.fullmatch(r"POST /api/openmem/v1/search/memory 200 [\d.]+ms", line)
    assert TOKEN not in caplog.text


# ---- the command line -------------------------------------------------------------------------


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "serve" in capsys.readouterr().out
    assert main(["serve", "--help"]) == 0
    assert "--allow-remote" in capsys.readouterr().out
    assert main(["bogus"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_misspelled_option_is_reported_with_the_command_it_was_given_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--prot", "0"]) == 2
    err = capsys.readouterr().err
    assert "usage: python -m langchain_memos serve" in err
    assert "unrecognized arguments: --prot 0" in err
    assert "--port" in err  # the usage line shows the option meant


def test_the_command_line_refuses_hosts_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2  # noqa: S104 - refused
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--allow-remote" in captured.err


def _foreign(folder: Path) -> str:
    path = folder / "theirs.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    db.close()
    return str(path)


@pytest.mark.parametrize(
    ("db", "says"),
    [
        (lambda folder: str(folder / "missing" / "memos.db"), "does not exist"),
        (lambda folder: f"file:{folder}/memos.db?mode=ro", "is a URI"),
        (lambda folder: "/dev/null/memos.db", "/dev/null is not a directory"),
        (_foreign, "another application's SQLite database"),
    ],
)
def test_the_command_line_refuses_an_unusable_database_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: Callable[[Path], str],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = db(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["serve", "--port", "0", "--db", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("error: ")
    assert says in line
    # Nothing created (no directory, no "file:" tree), nothing changed.
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGTERM")
@pytest.mark.timeout(30)  # a server that never prints its line would block readline()
def test_serve_command() -> None:
    env = {**os.environ, "MEMOS_SERVE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_memos", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        line = process.stdout.readline()
        matched = re.fullmatch(r"MemOS-compatible server: (http://127\.0\.0\.1:\d+\S+)\n", line)
        assert matched, line + process.stderr.read()
        url = matched.group(1) + "/search/memory"
        assert url.endswith("/api/openmem/v1/search/memory")
        assert post(url, {"query": "x", "user_id": "u"}, token=None).status_code == 401
        assert post(url, {"query": "x", "user_id": "u"}).json()["code"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""  # the URL line was the only one
        assert "in memory" in process.stderr.read()
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_answers_are_not_held_back_by_nagles_algorithm(open_server: MemOSServer) -> None:
    # Headers and body leave in two writes; with Nagle on, a keep-alive client waits ~40 ms for
    # every back-to-back answer (bench/agent_turn.py measured 44 ms against 0.9 ms per search).
    with httpx.Client(timeout=5) as http:
        url = open_server.base_url + "/search/memory"
        assert http.post(url, json={"query": "x", "user_id": "u"}).json()["code"] == 0
        (connection,) = open_server._server.server_state.connections
        accepted = connection.transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_printed_url_itself_says_what_the_server_is(open_server: MemOSServer) -> None:
    # The one stdout line names .../api/openmem/v1: a user opens exactly that.
    response = httpx.get(open_server.base_url, timeout=5)
    assert (response.status_code, response.json()["code"]) == (200, 0)
    assert response.json()["data"]["service"] == "langchain-memos embedded MemOS engine"


def test_a_body_limit_below_one_mib_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--max-body-mb", "0"]) == 2
    assert "must be at least 1" in capsys.readouterr().err
