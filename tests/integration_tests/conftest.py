"""Cassette (vcrpy) configuration for the integration tests.

Replay is the default and needs no network: every request is answered from ``cassettes/``
and a request that is not there fails the test. ``--record-mode=all`` (``make record``)
records anew: against the MemOS cloud when ``MEMOS_API_KEY`` is set, otherwise against the
loopback server in ``doc_server.py`` that answers with the documented example bodies.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from vcr.serializers import yamlserializer

from langchain_memos import AsyncMemOSClient, MemOSClient

from .doc_server import serve_docs

CASSETTE_DIR = Path(__file__).resolve().parents[2] / "cassettes"
PLACEHOLDER = "PLACEHOLDER"
DUMMY_KEY = "test-key-not-a-secret"
# Port 9 (discard) on loopback: a replaying client must never get that far.
REPLAY_BASE_URL = "http://127.0.0.1:9/api/openmem/v1"
# Everything up to this marker differs between the China cloud, the global cloud
# (".../platform/api/openmem/v1") and the doc server; what follows names the endpoint.
API_MARKER = "/openmem/v1"
# Seconds: the cloud's chat and synchronous add/message can take a while (pytest stops at 120).
RECORD_TIMEOUT = 60.0


# ---- matching --------------------------------------------------------------------------------


def _endpoint(path: str) -> str:
    _, marker, rest = path.partition(API_MARKER)
    return rest if marker else path


def match_endpoint(r1: Any, r2: Any) -> None:
    """vcrpy matcher: the same endpoint, whatever the host, port, scheme and API root."""
    if _endpoint(r1.path) != _endpoint(r2.path):
        raise AssertionError(f"{r1.path} != {r2.path}")


def _content_type(request: Any) -> str:
    return str(request.headers.get("Content-Type", "")).lower()


def _body_bytes(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode()


def match_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: equal JSON bodies (parsed), any two multipart bodies, else equal bytes.

    Multipart bodies are not compared: their boundary is random, and the query string
    (matched separately) already names the knowledge base they go to.
    """
    multipart = ["multipart/form-data" in _content_type(r) for r in (r1, r2)]
    if any(multipart):
        if not all(multipart):
            raise AssertionError("only one of the bodies is multipart")
        return
    b1, b2 = _body_bytes(r1), _body_bytes(r2)
    try:
        same = json.loads(b1) == json.loads(b2)
    except ValueError:
        same = b1 == b2
    if not same:
        raise AssertionError(f"{b1!r} != {b2!r}")


# ---- storage ---------------------------------------------------------------------------------


class ReadableYAML:
    """vcrpy's YAML serializer, but writing Chinese text as itself rather than as escapes."""

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return yamlserializer.deserialize(cassette_string)

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        text: str = yaml.dump(
            cassette_dict, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=True
        )
        return text


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    # A cloud session cookie is a credential too; nothing in the tests needs it.
    headers = response.get("headers", {})
    response["headers"] = {
        name: values for name, values in headers.items() if name.lower() != "set-cookie"
    }
    return response


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording hook: register what ``vcr_config`` refers to by name."""
    vcr.register_matcher("memos_endpoint", match_endpoint)
    vcr.register_matcher("memos_body", match_body)
    vcr.register_serializer("yaml", ReadableYAML)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """One cassette directory at the repository root, shared by every test module."""
    return str(CASSETTE_DIR)


@pytest.fixture
def vcr_config(record_mode: str) -> dict[str, Any]:
    """Options for every ``@pytest.mark.vcr`` test.

    ``record_mode`` comes from ``--record-mode`` (``none`` when absent), so replay is the
    default and a missing cassette fails the test instead of reaching for the network.
    """
    return {
        "cassette_library_dir": str(CASSETTE_DIR),
        "record_mode": record_mode,
        "match_on": ["method", "memos_endpoint", "query", "memos_body"],
        "filter_headers": [("authorization", PLACEHOLDER)],
        "decode_compressed_response": True,
        "before_record_response": _scrub_response,
        # Re-recording replaces a cassette's content instead of merging it with the old one:
        # against the cloud, ids change between runs and old answers would linger unused.
        "drop_unused_requests": record_mode == "all",
    }


# ---- where the clients point -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the clients under test send their requests."""

    name: str  # "replay", "doc-server" or "cloud"
    base_url: str | None  # None: the client's own resolution (MEMOS_BASE_URL or the default)
    api_key: str = field(repr=False)  # kept out of failure reports


def _recording(config: pytest.Config) -> bool:
    return (config.getoption("--record-mode") or "none") != "none"


@pytest.fixture(scope="session")
def memos_target(record_mode: str) -> Iterator[Target]:
    """Replay against a never-contacted URL, or record against the cloud or the doc server."""
    if record_mode == "none":
        yield Target("replay", REPLAY_BASE_URL, DUMMY_KEY)
        return
    api_key = os.environ.get("MEMOS_API_KEY", "").strip()
    if api_key:
        yield Target("cloud", None, api_key)
        return
    with serve_docs() as base_url:
        yield Target("doc-server", base_url, DUMMY_KEY)


@pytest.fixture
def sync_client(memos_target: Target) -> Iterator[MemOSClient]:
    """A ``MemOSClient`` for the target; no retries, so a recording holds one try per call."""
    with MemOSClient(
        api_key=memos_target.api_key,
        base_url=memos_target.base_url,
        max_retries=0,
        timeout=RECORD_TIMEOUT,
    ) as client:
        yield client


@pytest.fixture
async def async_client(memos_target: Target) -> AsyncIterator[AsyncMemOSClient]:
    """An ``AsyncMemOSClient`` for the target, configured like ``sync_client``."""
    async with AsyncMemOSClient(
        api_key=memos_target.api_key,
        base_url=memos_target.base_url,
        max_retries=0,
        timeout=RECORD_TIMEOUT,
    ) as client:
        yield client


# ---- what the clients sent and got -----------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request a client sent and the answer it got, as parsed JSON."""

    method: str
    endpoint: str  # the path after the API root, e.g. "/search/memory"
    body: Any  # the JSON request body; None when there is none (a GET) or it is not JSON
    answer: Any  # the JSON answer; None for a streamed or non-JSON answer


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _exchange(request: httpx.Request, response: httpx.Response, stream: bool) -> Exchange:
    try:
        body = _json(request.content)
    except httpx.RequestNotRead:  # a streamed upload
        body = None
    answer = None if stream else _json(response.content)
    return Exchange(request.method, _endpoint(request.url.path), body, answer)


@pytest.fixture
def traffic(monkeypatch: pytest.MonkeyPatch) -> list[Exchange]:
    """Every exchange of every httpx client during the test, in order.

    It watches ``httpx.Client.send`` and ``httpx.AsyncClient.send``, above the transport that
    vcrpy replaces, so it sees the same requests and answers whether the test replays or
    records: the tests can check what went over the wire, not only what the package returned.
    """
    exchanges: list[Exchange] = []
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        exchanges.append(_exchange(request, response, bool(kwargs.get("stream"))))
        return response

    async def asend(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        exchanges.append(_exchange(request, response, bool(kwargs.get("stream"))))
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", asend)
    return exchanges


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Let recording and loopback tests open sockets even under ``--disable-socket``.

    Replaying needs no socket (vcrpy answers inside httpx's transport), but recording talks
    to a real server, and the loopback tests start one.
    """
    if not config.pluginmanager.hasplugin("socket") and not config.pluginmanager.hasplugin(
        "pytest_socket"
    ):
        return
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        if item.get_closest_marker("loopback") or (
            _recording(config) and item.get_closest_marker("vcr")
        ):
            item.add_marker("enable_socket")
