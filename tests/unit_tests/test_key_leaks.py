"""The API key appears in no log line, repr, exception, pickle or cassette.

One test drives every component with a distinctive fake key, through every outcome (success,
401, 403, 500 after retries, timeouts, refused connections, bad configuration), with every
logger at DEBUG (``langchain_memos``, ``httpx``, and ``httpcore`` over a real HTTP/1.1 exchange
on a scripted network backend), while recording a cassette with the project's vcrpy settings.
Then it scans everything a key could end up in: log records, reprs and strs, exceptions (message,
args, attributes, the rendered traceback with its causes), pickles and refusals to pickle, model
dumps, tool answers, the new cassette and the ``cassettes/`` directory.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import pickle
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import vcr  # type: ignore[import-untyped,unused-ignore]
from langchain_core.load import dumps
from langchain_core.messages import HumanMessage

from langchain_memos import (
    AsyncMemOSClient,
    ConfigurationError,
    MemOSClient,
    MemOSError,
    Outbox,
    OutboxFullError,
)
from langchain_memos.chat_message_histories import MemOSChatMessageHistory
from langchain_memos.graph import MemOSGraphMemory
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.retrievers import MemOSRetriever
from langchain_memos.scope import Scope
from langchain_memos.tools import create_memory_tools
from tests.fakes import FakeMemOS, envelope
from tests.integration_tests import conftest as recording
from tests.unit_tests.test_cassette_secrets import CASSETTE_DIR, find_secrets

KEY = "mpg-LEAKPROBE7c1d9e2f4a6b8c0d2e4f6a8b"
# Also the key without its prefix, and its distinctive middle: a partial print is a leak too.
NEEDLES = (KEY, KEY.removeprefix("mpg-"), "LEAKPROBE7c1d9e2f")
BASE_URL = "https://memos.example.com/api/openmem/v1"
SEARCH_DATA = {"memory_detail_list": [{"id": "m1", "memory_value": "likes jazz"}]}


class Surfaces:
    """Every text a key could leak into, by where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: object) -> None:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        self.texts.append((where, str(text)))

    def obj(self, where: str, value: object) -> None:
        self.add(f"{where}: repr", repr(value))
        self.add(f"{where}: str", str(value))

    def pickled(self, where: str, value: object) -> None:
        try:
            self.add(f"{where}: pickle", pickle.dumps(value))
        except Exception as refusal:  # refusing is fine; what the refusal says is scanned
            self.error(f"{where}: pickle refusal", refusal)

    def error(self, where: str, error: BaseException) -> None:
        self.obj(where, error)
        self.add(f"{where}: args", repr(error.args))
        self.add(f"{where}: vars", repr(vars(error)))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(error)))
        for name, value in vars(error).items():
            assert not isinstance(value, httpx.Request | httpx.Response), (where, name)
        link: BaseException | None = error
        while link is not None:  # a cause may hold httpx's request: its reprs must stay masked
            if isinstance(link, httpx.RequestError):
                self.obj(f"{where}: request of the cause", link.request)
                self.add(f"{where}: headers of the cause", repr(link.request.headers))
            link = link.__cause__ or link.__context__
        if type(error).__module__.startswith("langchain_memos"):
            self.pickled(where, error)

    def leaks(self) -> list[str]:
        return [where for where, text in self.texts if any(n in text for n in NEEDLES)]


def raised(call: Callable[[], object]) -> BaseException:
    try:
        outcome = call()
        if inspect.isawaitable(outcome):
            asyncio.run(_awaited(outcome))
    except Exception as error:
        return error
    raise AssertionError("expected an error")


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def scripted(*replies: httpx.Response | Exception) -> FakeMemOS:
    return FakeMemOS(replies=list(replies))


def mock_clients(fake: FakeMemOS, **options: Any) -> tuple[MemOSClient, AsyncMemOSClient]:
    transport = httpx.MockTransport(fake.handler)
    common = {"api_key": KEY, "base_url": BASE_URL, **options}
    return (
        MemOSClient(http_client=httpx.Client(transport=transport), **common),
        AsyncMemOSClient(http_client=httpx.AsyncClient(transport=transport), **common),
    )


def http11(status: int, body: bytes) -> list[bytes]:
    """One HTTP/1.1 answer, as a scripted network backend sends it."""
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
    return [head.encode(), f"Content-Length: {len(body)}\r\n\r\n".encode(), body]


def over_httpcore(status: int, body: bytes) -> tuple[MemOSClient, AsyncMemOSClient]:
    """Clients whose requests go through httpx's real HTTP transport and httpcore's HTTP/1.1
    code (and their DEBUG logging) to a scripted backend instead of a socket."""
    sync_transport = httpx.HTTPTransport()
    sync_transport._pool = httpcore.ConnectionPool(
        network_backend=httpcore.MockBackend(http11(status, body))
    )
    async_transport = httpx.AsyncHTTPTransport()
    async_transport._pool = httpcore.AsyncConnectionPool(
        network_backend=httpcore.AsyncMockBackend(http11(status, body))
    )
    options: dict[str, Any] = {"api_key": KEY, "base_url": BASE_URL, "max_retries": 0}
    return (
        MemOSClient(http_client=httpx.Client(transport=sync_transport), **options),
        AsyncMemOSClient(http_client=httpx.AsyncClient(transport=async_transport), **options),
    )


def project_vcr() -> Any:
    """A vcrpy instance configured exactly as the integration tests record cassettes."""
    config = inspect.unwrap(recording.vcr_config)(record_mode="all")
    recorder = vcr.VCR(**config)
    recording.pytest_recording_configure(config=None, vcr=recorder)  # type: ignore[arg-type]
    return recorder


def exercise(surfaces: Surfaces) -> list[httpx.Request]:
    """Every component, every outcome; returns the requests that carried the key."""
    sent: list[httpx.Request] = []

    # Success, over httpcore's real HTTP/1.1 code.
    ok = json_bytes({"code": 0, "data": SEARCH_DATA, "message": "ok"})
    sync, async_ = over_httpcore(200, ok)
    surfaces.obj("client over httpcore", sync.search_memory("jazz", user_id="u1"))
    surfaces.obj(
        "async client over httpcore", asyncio.run(_awaited(async_.search_memory("j", user_id="u")))
    )
    denied = json_bytes({"code": 40132, "data": None, "message": "invalid API key"})
    for client in over_httpcore(401, denied):
        surfaces.error("401 over httpcore", raised(partial(client.search_memory, "q", user_id="u")))

    # Every error the service or the network can produce, sync and async.
    outcomes: dict[str, list[httpx.Response | Exception]] = {
        "401": [envelope(None, code=40132, message="invalid API key", status=401)],
        "403": [httpx.Response(403, text="<html>Forbidden</html>")],
        "500 after retries": [envelope(None, code=50000, message="internal", status=500)],
        "read timeout": [httpx.ReadTimeout("slow")],
        "refused": [httpx.ConnectError("connection refused")],
        "not an envelope": [httpx.Response(200, text="<html>maintenance</html>")],
    }
    for name, replies in outcomes.items():
        fake = scripted(*replies)
        for client in mock_clients(fake):
            surfaces.error(name, raised(partial(client.search_memory, "q", user_id="u")))
        sent += fake.requests

    # Components built with the key, and with clients that hold it.
    fake = scripted(envelope(SEARCH_DATA))
    sync, async_ = mock_clients(fake)
    history = MemOSChatMessageHistory("u1", "c1", client=sync, async_client=async_)
    history.add_messages([HumanMessage("I like jazz.")])
    retriever = MemOSRetriever(api_key=KEY, base_url=BASE_URL, user_id="u1")
    used = MemOSRetriever(client=sync, user_id="u1")
    surfaces.obj("documents", used.invoke("jazz"))
    surfaces.obj(
        "documents, async",
        asyncio.run(MemOSRetriever(async_client=async_).ainvoke("j", user_id="u")),
    )
    middleware = MemOSMiddleware(sync, async_client=async_, write_back=False)
    graph = MemOSGraphMemory(sync, write_back=False)
    tools = create_memory_tools(user_id="u1", client=sync)
    surfaces.obj("tool answer", tools[0].invoke({"query": "jazz"}))
    sent += fake.requests
    for name, value in {
        "client": sync,
        "async client": async_,
        "history": history,
        "retriever with the key": retriever,
        "retriever with a client": used,
        "middleware": middleware,
        "graph memory": graph,
        "tools": tools,
    }.items():
        surfaces.obj(name, value)
        surfaces.pickled(name, value)
    # (Only its repr: str() of a chat history reads the messages, over the network.)
    built = MemOSChatMessageHistory("u1", "c1", api_key=KEY)
    surfaces.add("history built from options: repr", repr(built))
    surfaces.pickled("history built from options", built)
    surfaces.obj("client config", sync._config)  # pickled: see the test below
    surfaces.add("client identity", sync.identity)  # stored in outbox files
    surfaces.add("async client identity", async_.identity)
    surfaces.add("retriever model_dump", retriever.model_dump())
    surfaces.add("retriever model_dump_json", retriever.model_dump_json())
    surfaces.add("retriever dumps", dumps(retriever))

    # A failing memory search inside the agent integrations: logged as a warning, not raised.
    failing = scripted(envelope(None, code=40132, message="invalid API key", status=401))
    sync, async_ = mock_clients(failing, max_retries=0)
    MemOSMiddleware(sync, write_back=False).memory.search([HumanMessage("hi")], Scope("u", None))
    graph = MemOSGraphMemory(sync, async_client=async_, write_back=False)
    asyncio.run(graph.memory.asearch([HumanMessage("hi")], Scope("u", None)))
    surfaces.obj("tool answer on 401", create_memory_tools(user_id="u", client=sync)[0].invoke("q"))
    sent += failing.requests

    # Configurations that are refused.
    for name, call in {
        "clear-text url": lambda: MemOSClient(api_key=KEY, base_url="http://memos.example.com/"),
        "key of the wrong type": lambda: MemOSClient(api_key=[KEY]),  # type: ignore[arg-type]
        "retriever key of the wrong type": lambda: MemOSRetriever(api_key=[KEY]),
        "retriever, another bad field": lambda: MemOSRetriever(api_key=KEY, k="many"),
        "bad header": lambda: MemOSClient(api_key=KEY, default_headers={"X-Trace": 1}),  # type: ignore[dict-item]
    }.items():
        surfaces.error(name, raised(call))
    return sent


def json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.usefixtures("no_backoff")  # every error, retries and all, without their waits
def test_the_key_appears_nowhere(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    caplog.set_level(logging.DEBUG)  # every logger: langchain_memos, httpx, httpcore
    surfaces = Surfaces()
    cassette = tmp_path / "leaks.yaml"
    with project_vcr().use_cassette(str(cassette)):
        sent = exercise(surfaces)
        # The key from the environment, too.
        monkeypatch.setenv("MEMOS_API_KEY", KEY)
        fake = scripted(envelope(SEARCH_DATA))
        from_env = MemOSClient(
            base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(fake.handler))
        )
        surfaces.obj("client from the environment", from_env)
        surfaces.obj("retriever from the environment", MemOSRetriever(user_id="u1"))
        surfaces.pickled("retriever from the environment", MemOSRetriever(user_id="u1"))
        from_env.search_memory("jazz", user_id="u1")
        sent += fake.requests

    # The scan means something: the key did travel, and everything was collected.
    assert sent
    assert all(r.headers["authorization"] == f"Token {KEY}" for r in sent)
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"langchain_memos", "httpx", "httpcore"} <= loggers
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    for record in caplog.records:
        surfaces.add(f"log record of {record.name}", record.getMessage())
        surfaces.add(f"log record of {record.name}, args", repr(record.args))
        if record.exc_info:
            surfaces.add(f"log traceback of {record.name}", caplog.text)
    surfaces.add("log text", caplog.text)
    interactions = recording.ReadableYAML.deserialize(cassette.read_text(encoding="utf-8"))
    headers = [i["request"]["headers"] for i in interactions["interactions"]]
    assert headers
    assert all(h["authorization"] == [recording.PLACEHOLDER] for h in headers)

    assert surfaces.leaks() == []
    assert find_secrets(cassette, KEY) == []
    for path in sorted(p for p in CASSETTE_DIR.rglob("*") if p.is_file()):
        assert find_secrets(path, KEY) == [], path.name
    for kind in ("repr", "str", "args", "vars", "traceback", "pickle", "refusal: str", "cause"):
        assert any(kind in where for where, _ in surfaces.texts), kind


def test_a_pickled_client_config_holds_no_key() -> None:
    config = MemOSClient(api_key=KEY)._config
    surfaces = Surfaces()
    surfaces.pickled("client config", config)
    assert surfaces.leaks() == []


@pytest.mark.parametrize(
    "key",
    ["mpg-SECRET\x00KEY", "mpg-SECRET\nKEY", "sekrit-tökén", "mpg-SE\u200bCRET", "mpg SECRET"],
)
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(key: str) -> None:
    # Once it reached httpx, which put the whole header (the key) into its error message.
    for make in (MemOSClient, AsyncMemOSClient):
        with pytest.raises(ConfigurationError, match="copy the key again") as info:
            make(api_key=key)
        shown = f"{info.value!r} {info.value} {info.value.__cause__!r} {info.value.__context__!r}"
        assert "SECRET" not in shown
        assert "sekrit" not in shown


@pytest.mark.parametrize("key", ["Token mpg-abc", "Bearer mpg-abc", "bearer  mpg-abc"])
def test_a_key_pasted_with_its_scheme_is_sent_once(key: str) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(200, json={"code": 0, "data": {}, "message": "ok"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        MemOSClient(api_key=key, http_client=http).search_memory("q", user_id="u")
    assert sent == ["Token mpg-abc"]


def test_a_password_in_the_base_url_appears_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A base URL's user:password@ (HTTP Basic auth to a proxy in front of MemOS) is a secret
    too: not in the client's repr, the outbox file or its log lines. Two passwords stay two
    services: an outbox write is sent by a client with the password it was made with."""
    password = "S3cretPassw0rdLEAK"
    body = {"code": 50004, "data": None, "message": "down"}
    down = httpx.MockTransport(lambda request: httpx.Response(503, json=body))

    def client(secret: str) -> MemOSClient:
        return MemOSClient(
            api_key=KEY,
            base_url=f"https://alice:{secret}@proxy.example/api/openmem/v1",
            http_client=httpx.Client(transport=down),
            max_retries=0,
        )

    with_it = client(password)
    assert client("other").identity != with_it.identity
    caplog.set_level(logging.DEBUG, logger="langchain_memos")
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_pending=1)
    outbox.sender(with_it).deliver("u1", "c1", [[{"role": "user", "content": "I like tea."}]])
    with pytest.raises(OutboxFullError):
        outbox.put(with_it.identity, "u1", "c1", [[{"role": "user", "content": "x"}]], timeout=0.1)
    outbox.close(0)
    stored = (tmp_path / "outbox.sqlite3").read_bytes()
    for text in (repr(with_it), with_it.identity, caplog.text, stored.decode("latin-1")):
        assert password not in text
    assert caplog.text
    token = MemOSClient(api_key=KEY, base_url=f"https://{password}@proxy.example/api/openmem/v1")
    assert password not in repr(token) + token.identity  # a user@ alone is often a token
    url = f"https://alice:{password}@proxy.example/api/openmem/v1"
    retriever = MemOSRetriever(api_key=KEY, base_url=url, user_id="u1")
    assert password not in repr(retriever) + str(retriever) + dumps(retriever)
    assert "proxy.example" in repr(retriever)


@pytest.mark.parametrize(
    "answer",
    [
        lambda auth: httpx.Response(401, json={"code": 40132, "message": f"invalid key {auth}"}),
        lambda auth: httpx.Response(502, text=f"<html>upstream rejected {auth}</html>"),
        lambda auth: httpx.Response(200, text=f"<html>login page for {auth}</html>"),
    ],
)
def test_a_server_that_echoes_the_key_does_not_put_it_in_errors_logs_or_the_outbox(
    answer: Callable[[str], httpx.Response], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server or proxy that quotes the Authorization header in its error: the error text
    (the server's message, or the body's first 300 characters) goes into the exception, the
    log lines and the outbox's record of a failed write, without the key."""
    transport = httpx.MockTransport(lambda request: answer(request.headers["authorization"]))
    client = MemOSClient(
        api_key=KEY,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )
    caplog.set_level(logging.DEBUG, logger="langchain_memos")
    with pytest.raises(MemOSError) as raised:
        client.search_memory("q", user_id="u1")
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.sender(client).deliver("u1", "c1", [[{"role": "user", "content": "I like tea."}]])
    outbox.close(0)
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    texts = [str(raised.value), repr(raised.value.__dict__), caplog.text, stored.decode("latin-1")]
    assert "***" in str(raised.value)
    for needle in NEEDLES:
        assert not [text for text in texts if needle in text]


def answering(handler: Callable[[httpx.Request], httpx.Response], key: str = KEY) -> MemOSClient:
    """A client with ``key`` whose requests ``handler`` answers."""
    transport = httpx.MockTransport(handler)
    return MemOSClient(
        api_key=key, base_url=BASE_URL, http_client=httpx.Client(transport=transport), max_retries=0
    )


def test_an_error_event_in_a_chat_stream_that_echoes_the_key_does_not_show_it() -> None:
    echo = {"code": 50000, "message": f"upstream refused 'Authorization: Token {KEY}'"}

    def stream(request: httpx.Request) -> httpx.Response:
        body = f"data: {json.dumps(echo)}\n\n".encode()
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = answering(stream)
    with pytest.raises(MemOSError) as raised:
        list(client.chat_stream(user_id="u1", conversation_id="c1", query="hi"))
    assert "'Authorization: ***'" in str(raised.value)
    for needle in NEEDLES:
        assert needle not in str(raised.value) + repr(raised.value.__dict__)


SLASHED_KEY = "mpg-LEAK/PROBE7c1d9e2f4a6b8c0d2e4f6a8b"


@pytest.mark.parametrize(
    "echoed",
    [
        lambda auth: auth.replace("/", "\\/"),  # what many JSON encoders write for "/"
        lambda auth: "".join(f"\\u{ord(c):04x}" for c in auth),  # every character escaped
        lambda auth: auth.replace("P", "\\u0050").replace("/", "\\u002F"),  # some, upper hex
    ],
)
def test_a_key_echoed_json_escaped_does_not_show_either(
    echoed: Callable[[str], str],
) -> None:
    """The mask ran on the raw bytes alone: JSON decoding then unescaped the key into the
    error's message and body."""

    def answer(request: httpx.Request) -> httpx.Response:
        quoted = echoed(request.headers["authorization"])
        return httpx.Response(401, content=f'{{"code": 40132, "message": "bad {quoted}"}}')

    with pytest.raises(MemOSError) as raised:
        answering(answer, SLASHED_KEY).search_memory("q", user_id="u1")
    text = str(raised.value) + repr(raised.value.__dict__)
    assert "PROBE7c1d9e2f" not in text
    assert "bad ***" in text


def test_a_key_escaped_in_a_chat_streams_event_does_not_show_but_other_words_do() -> None:
    """Masked as raw bytes, before the event is decoded; in its own case only, so that an
    answer spelling a human-chosen token in another case reads as it was written."""
    token = "langchain"
    echoed = "".join(f"\\u{ord(c):04x}" for c in token)

    def stream(request: httpx.Request) -> httpx.Response:
        lines = [
            f'data: {{"type": "text", "data": "key {echoed}"}}',
            'data: {"type": "text", "data": "LangChain and LANGCHAIN are frameworks"}',
        ]
        body = "".join(f"{line}\n\n" for line in lines).encode()
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = answering(stream, token)
    events = list(client.chat_stream(user_id="u1", conversation_id="c1", query="hi"))
    assert [event.data for event in events] == ["key ***", "LangChain and LANGCHAIN are frameworks"]
