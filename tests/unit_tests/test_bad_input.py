"""Bad input, in every component, is refused before anything is sent, with a clear error.

One table: each row names the component, the bad call, the error it must raise and words its
message must hold. The package's promise, checked for every row:

* the error is the package's own type, exactly: ``MemOSInputError`` (a ``ValueError``) for a
  caller's mistake, ``ConfigurationError`` (a ``MemOSInputError``) for a client that cannot be
  built; never a raw httpx, pydantic, sqlite3 or json exception;
* nothing was sent: the recording transport behind the HTTP clients saw no request, the engine
  behind the embedded clients saw no call, and an engine called directly stored nothing.

The embedded engine called directly answers on the wire (``EmbeddedEngine.handle``, what its
transport and ``serve`` use), with an error envelope instead of an exception; those rows turn
the envelope into the engine's documented ``EngineError`` so that they read like the others.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import httpx
import pydantic
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ChatMessage, HumanMessage, ToolMessage

from langchain_memos import (
    AsyncMemOSClient,
    ConfigurationError,
    MemOSClient,
    MemOSInputError,
)
from langchain_memos.chat_message_histories import MemOSChatMessageHistory
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._errors import EngineError
from langchain_memos.filters import all_of, by_source, created, info, tag, validate_filter
from langchain_memos.graph import MemOSGraphMemory, create_memos_pre_model_hook
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.outbox import Outbox
from langchain_memos.prompts import MemoryPromptBuilder
from langchain_memos.retrievers import MemOSRetriever
from langchain_memos.tools import create_memory_tools
from tests.fakes import CountingEngine, FakeMemOS, ScriptedChatModel, build

# What must never reach a caller as such.
RAW = (httpx.HTTPError, httpx.InvalidURL, pydantic.ValidationError, sqlite3.Error, TypeError)

# Typed loosely: the rows pass wrong types on purpose.
CONV: dict[str, Any] = {"user_id": "u1", "conversation_id": "c1"}
HI: list[Any] = [{"role": "user", "content": "hi"}]
# Words where a flag or an object belongs; "false" and "no" are true values in Python.
WORD_FALSE: Any = "false"
WORD_NO: Any = "no"
WORD_YES: Any = "yes"
WORD_X: Any = "x"
NUMBER: Any = 12345
SYNC_HTTP: Any = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))


class Env:
    """Every component under test, each built on first use over recording back ends."""

    def __init__(self) -> None:
        self.fake = FakeMemOS()  # records every HTTP request; any request fails the test
        self.engine = CountingEngine()  # records every call of the embedded clients
        self.bare = EmbeddedEngine()  # called directly

    @cached_property
    def sync(self) -> MemOSClient:
        return cast(MemOSClient, build("sync", self.fake))

    @cached_property
    def async_(self) -> AsyncMemOSClient:
        return cast(AsyncMemOSClient, build("async", self.fake))

    @cached_property
    def embedded(self) -> MemOSClient:
        return MemOSClient(embedded=self.engine, max_retries=0)

    @cached_property
    def history(self) -> MemOSChatMessageHistory:
        return MemOSChatMessageHistory("u1", "c1", client=self.sync)

    @cached_property
    def ahistory(self) -> MemOSChatMessageHistory:
        return MemOSChatMessageHistory("u1", "c1", async_client=self.async_)

    @cached_property
    def retriever(self) -> MemOSRetriever:
        return MemOSRetriever(client=self.sync)  # no user_id: it must come from the call

    @cached_property
    def aretriever(self) -> MemOSRetriever:
        return MemOSRetriever(async_client=self.async_)

    @cached_property
    def middleware(self) -> MemOSMiddleware:
        return MemOSMiddleware(
            self.embedded, async_client=AsyncMemOSClient(embedded=self.engine, max_retries=0)
        )

    @cached_property
    def graph(self) -> MemOSGraphMemory:
        return MemOSGraphMemory(self.embedded)

    @cached_property
    def strict_graph(self) -> MemOSGraphMemory:
        return MemOSGraphMemory(self.embedded, fail_open=False)

    def agent(self) -> Any:
        return create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[self.middleware])

    def strict_agent(self) -> Any:
        """An agent whose memory raises (``fail_open=False``) what the default only logs."""
        strict = MemOSMiddleware(self.embedded, fail_open=False)
        return create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[strict])

    def stored(self) -> int:
        """What the directly called engine holds (knowledge bases aside, which a row makes)."""
        tables = ("memories", "messages", "tasks", "knowledgebase_files")
        return sum(self.bare.store.query(f"SELECT count(*) FROM {t}")[0][0] for t in tables)  # noqa: S608

    def close(self) -> None:
        for name in ("middleware", "graph"):
            if name in self.__dict__:
                self.__dict__[name].close(timeout=5)


@pytest.fixture
def env() -> Iterator[Env]:
    environment = Env()
    yield environment
    environment.close()


def wire(engine: EmbeddedEngine, path: str, body: object, *, raw: bytes | None = None) -> Any:
    """One request to the engine's wire entry point; an error envelope becomes EngineError."""
    content = json.dumps(body).encode() if raw is None else raw
    status, answer = engine.handle("POST", "/api/openmem/v1" + path, content)
    envelope = json.loads(answer)
    if status != 200:
        raise EngineError(envelope["code"], f"HTTP {status}, code {envelope['code']}: {envelope}")
    return envelope["data"]


@dataclass(frozen=True)
class Bad:
    component: str
    call: Callable[[Env], object]
    error: type[Exception]
    says: str


def row(
    kind: str,
    component: str,
    call: Callable[[Env], object],
    says: str,
    error: type[Exception] = MemOSInputError,
    **marks: Any,
) -> Any:
    return pytest.param(Bad(component, call, error, says), id=f"{component}:{kind}", **marks)


def said(role: str = "user", **fields: Any) -> list[Any]:
    """One message, as a list for add_message, typed loosely."""
    return [{"role": role, **fields}]


def file_part(data: str) -> dict[str, Any]:
    return {"type": "file", "file": {"file_data": data}}


BAD = json.loads('"bad \\udc80"')  # a lone surrogate: not valid Unicode, not encodable as UTF-8
LONG = "word " * 2_000  # about 2,500 tokens
TOO_MANY: list[Any] = [{"role": "user", "content": LONG}] * 20  # about 50,000 tokens in one request

CASES = [
    # ---- MemOSClient: ids, limits, types ---------------------------------------------------
    row("empty-id", "client", lambda e: e.sync.search_memory("q", user_id=""), "user_id must be"),
    row(
        "blank-id",
        "client",
        lambda e: e.sync.add_message(HI, user_id="u1", conversation_id="  \t"),
        "conversation_id must be a non-empty string",
    ),
    row(
        "overlong-id",
        "client",
        lambda e: e.sync.add_message(HI, **CONV, agent_id="a" * 101),
        "at most 100",
    ),
    row(
        "non-str-id",
        "client",
        lambda e: e.sync.get_message(user_id=42, conversation_id="c1"),  # type: ignore[arg-type]
        "user_id must be a non-empty string; got 42",
    ),
    row(
        "none-query",
        "client",
        lambda e: e.sync.search_memory(None, user_id="u1"),  # type: ignore[arg-type]
        "query must be a non-empty string",
    ),
    row(
        "negative-limit",
        "client",
        lambda e: e.sync.get_message(**CONV, message_limit_number=-1),
        "between 1 and 50",
    ),
    row("zero-limit", "client", lambda e: e.sync.get_memory(user_id="u1", size=0), "between 1"),
    row(
        "huge-limit",
        "client",
        lambda e: e.sync.search_memory("q", user_id="u1", memory_limit_number=10**9),
        "between 1 and 25",
    ),
    row(
        "bool-limit",
        "client",
        lambda e: e.sync.search_memory("q", user_id="u1", preference_limit_number=True),
        "must be an integer",
    ),
    row(
        "str-for-list",
        "client",
        lambda e: e.sync.add_message(HI, **CONV, tags="travel"),
        "tags must be a list of strings",
    ),
    row(
        "nan-in-info",
        "client",
        lambda e: e.sync.add_message(HI, **CONV, info={"score": float("nan")}),
        "info['score']",
    ),
    row(
        "exclusive-arguments",
        "client",
        lambda e: e.sync.delete_memory(memory_ids=["m1"], user_id="u1"),
        "pass exactly one of",
    ),
    # ---- MemOSClient: messages ----------------------------------------------------------------
    row(
        "unknown-role",
        "client",
        lambda e: e.sync.add_message(said(role="bot", content="x"), **CONV),
        "role must be one of",
    ),
    row(
        "list-for-role",  # unhashable: a TypeError before, a 500 through serve
        "client",
        lambda e: e.sync.add_message(said(role=["user"], content="x"), **CONV),  # type: ignore[arg-type]
        "role must be one of",
    ),
    row(
        "unknown-content-block",
        "client",
        lambda e: e.sync.add_message(said(content=[{"type": "video"}]), **CONV),
        "parts must be dicts whose type is one of",
    ),
    row(
        "list-for-part-type",  # unhashable: a TypeError before, a 500 through serve
        "client",
        lambda e: e.sync.add_message(said(content=[{"type": ["text"], "text": "x"}]), **CONV),
        "parts must be dicts whose type is one of",
    ),
    row(
        "bad-base64-data-uri",
        "client",
        lambda e: e.sync.add_message(
            said(content=[file_part("data:application/pdf;base64,%%%")]), **CONV
        ),
        "file_data is not valid base64",
    ),
    row(
        "bad-base64-bare",
        "client",
        lambda e: e.sync.add_message(said(content=[file_part("report.pdf")]), **CONV),
        "file_data is not valid base64",
    ),
    row(
        "oversize-batch",
        "client",
        lambda e: e.sync.add_message(TOO_MANY, **CONV),
        "one request takes at most 40,000",
    ),
    row(
        "non-str-chat-time",
        "client",
        lambda e: e.sync.add_message(said(content="x", chat_time=1749513600), **CONV),
        "chat_time must be a string",
    ),
    row(
        "tool-without-tool-call-id",
        "client",
        lambda e: e.sync.add_message(said(role="tool", content="7C, cloudy"), **CONV),
        "needs the tool_call_id",
    ),
    row(
        "name-with-line-break",
        "client",
        lambda e: e.sync.add_message(said(content="x", name="ali\nce"), **CONV),
        "messages[0].name holds a control character",
    ),
    row(
        "header-value-with-line-break",
        "client",
        lambda e: e.sync.with_options(extra_headers={"X-Trace": "t1\r\nX-Evil: 1"}),
        "the value of 'X-Trace' holds a line break",
        ConfigurationError,
    ),
    row(
        "header-name-with-colon",
        "async-client",
        lambda e: AsyncMemOSClient(api_key="k", default_headers={"X-Trace: t1": "t1"}),
        "header names are letters, digits",
        ConfigurationError,
    ),
    row(
        "not-json-value",
        "client",
        lambda e: e.sync.add_message(said(content="x", meta=object()), **CONV),
        "JSON cannot carry",
    ),
    # ---- MemOSClient: filters -----------------------------------------------------------------
    row(
        "unknown-filter-operator",
        "client",
        lambda e: e.sync.search_memory(
            "q", user_id="u1", filter={"and": [{"create_time": {"after": "2025-01-01"}}]}
        ),
        "create_time takes one or more of",
    ),
    row(
        "nested-filter",
        "client",
        lambda e: e.sync.get_memory(user_id="u1", filter={"and": [{"or": [{"agent_id": "a"}]}]}),
        "cannot nest 'or'",
    ),
    row(
        "bad-filter-date",
        "client",
        lambda e: e.sync.search_memory(
            "q", user_id="u1", filter={"and": [{"create_time": {"gte": "last tuesday"}}]}
        ),
        "must be a date such as '2025-12-10'",
    ),
    # ---- MemOSClient: configuration ---------------------------------------------------------
    row(
        "embedded-not-a-path",
        "client",
        lambda e: MemOSClient(embedded=123),  # type: ignore[arg-type]
        "embedded must be a database path",
        ConfigurationError,
    ),
    row(
        "insecure-url",
        "client",
        lambda e: MemOSClient(api_key="k", base_url="http://memos.example.com/api"),
        "clear text",
        ConfigurationError,
    ),
    row(
        "non-str-key",
        "client",
        lambda e: MemOSClient(api_key=12345),  # type: ignore[arg-type]
        "api_key",
        ConfigurationError,
    ),
    row(
        "wrong-http-client",
        "client",
        lambda e: MemOSClient(api_key="k", http_client="x"),  # type: ignore[arg-type]
        "http_client",
        ConfigurationError,
    ),
    row(
        "str-timeout",
        "client",
        lambda e: MemOSClient(api_key="k", timeout="soon"),  # type: ignore[arg-type]
        "timeout",
        ConfigurationError,
    ),
    row(
        "non-str-feedback-time",
        "client",
        lambda e: e.sync.add_feedback(user_id="u1", feedback_content="x", feedback_time=5),  # type: ignore[arg-type]
        "feedback_time",
    ),
    # ---- AsyncMemOSClient ---------------------------------------------------------------------
    row(
        "relativity-out-of-range",
        "async-client",
        lambda e: e.async_.search_memory("q", user_id="u1", relativity=1.5),
        "between 0 and 1",
    ),
    row(
        "bad-base64-image",
        "async-client",
        lambda e: e.async_.add_message(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,*"}}
                    ],
                }
            ],
            **CONV,
        ),
        "the image URL is not valid base64",
    ),
    row(
        "none-messages",
        "async-client",
        lambda e: e.async_.add_message(None, **CONV),  # type: ignore[arg-type]
        "messages must be a list of message dicts; got None",
    ),
    row(
        "empty-memory-id",
        "async-client",
        lambda e: e.async_.get_memory_by_id(" "),
        "memory_id must be a non-empty string",
    ),
    # ---- MemOSChatMessageHistory --------------------------------------------------------------
    row(
        "empty-id",
        "history",
        lambda e: MemOSChatMessageHistory("", "c1", client=e.sync),
        "user_id must be a non-empty string",
    ),
    row(
        "zero-token-limit",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, max_request_tokens=0),
        "max_request_tokens must be between 1 and 40000",
    ),
    row(
        "tool-without-tool-call-id",
        "history",
        lambda e: e.history.add_messages([ToolMessage("7C", tool_call_id="")]),
        "needs the tool_call_id",
    ),
    row(
        "name-with-spaces-around",
        "history",
        lambda e: e.history.add_messages([HumanMessage("hi", name=" alice")]),
        "messages[0].name ' alice' has whitespace around it",
    ),
    row(
        "non-str-chat-time",
        "history",
        lambda e: e.history.add_messages(
            [HumanMessage("hi", additional_kwargs={"chat_time": 1749513600})]
        ),
        "chat_time must be a datetime or a string",
    ),
    row(
        "bad-base64-block",
        "history",
        lambda e: e.history.add_messages(
            [HumanMessage([{"type": "image", "base64": "***", "mime_type": "image/png"}])]
        ),
        "not valid base64",
    ),
    row(
        "unknown-block",
        "history",
        lambda e: e.history.add_messages([HumanMessage([{"type": "audio", "base64": "AAAA"}])]),
        "'audio' block has no MemOS form",
    ),
    row(
        "unknown-role",
        "history",
        lambda e: e.ahistory.aadd_messages([ChatMessage(content="x", role="critic")]),
        "role 'critic'",
    ),
    row(
        "dict-for-message",
        "history",
        lambda e: e.history.add_messages([{"role": "user", "content": "x"}]),  # type: ignore[list-item]
        "must be a LangChain message",
    ),
    row(
        "none-messages",
        "history",
        lambda e: e.ahistory.aadd_messages(None),  # type: ignore[arg-type]
        "must be a list of LangChain messages",
    ),
    row(
        "not-json-tool-arguments",
        "history",
        lambda e: e.history.add_messages(
            [AIMessage("", tool_calls=[{"id": "c1", "name": "f", "args": {"x": float("inf")}}])]
        ),
        "tool call 'f' args.x is inf, which JSON cannot carry",
    ),
    row(
        # The small first message must not be sent while the second one cannot be.
        "oversize-message-after-a-good-one",
        "history",
        lambda e: e.history.add_messages([HumanMessage("hi"), HumanMessage("w " * 100_000)]),
        "messages[1] alone holds about",
    ),
    row(
        "wrong-client",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client="x"),  # type: ignore[arg-type]
        "client",
    ),
    row(
        "unknown-option",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", api_key="k", max_retry=3),
        "unknown option 'max_retry' (did you mean 'max_retries'?)",
    ),
    row(
        "negative-wait-timeout",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, wait_timeout=-1),
        "wait_timeout",
    ),
    # ---- MemOSRetriever -----------------------------------------------------------------------
    row("no-user-id", "retriever", lambda e: e.retriever.invoke("q"), "needs a user_id"),
    row(
        "wrong-field-type",
        "retriever",
        lambda e: MemOSRetriever(client=e.sync, user_id="u1", k="five"),
        "k must be an integer",
    ),
    row(
        "k-over-25",
        "retriever",
        lambda e: MemOSRetriever(client=e.sync, user_id="u1", k=50),
        "k must be between 1 and 25",
    ),
    row(
        "zero-k",
        "retriever",
        lambda e: e.retriever.invoke("q", user_id="u1", k=0),
        "between 1 and 25",
    ),
    row(
        "user-id-in-filter",
        "retriever",
        lambda e: e.retriever.invoke("q", user_id="u1", filter={"and": [{"user_id": "u2"}]}),
        "user_id cannot be filtered on",
    ),
    row(
        "non-str-id-in-config",
        "retriever",
        lambda e: e.aretriever.ainvoke("q", {"configurable": {"user_id": 42}}),
        "user_id must be a non-empty string; got 42",
    ),
    row(
        "unknown-option",
        "retriever",
        lambda e: e.retriever.invoke("q", user_id="u1", top_k=3),
        "unknown option 'top_k'",
    ),
    row("none-query", "retriever", lambda e: e.retriever.invoke(None, user_id="u1"), "query"),  # type: ignore[arg-type]
    # ---- filters: validate_filter and the builder ---------------------------------------------
    row("none", "filters", lambda e: validate_filter(None), "filter must be a dict; got NoneType"),
    row(
        "conditions-not-a-list",
        "filters",
        lambda e: validate_filter({"and": {"agent_id": "a"}}),
        "must be a non-empty list of conditions",
    ),
    row(
        "mixed-forms",
        "filters",
        lambda e: validate_filter({"user": {"and": [{"app_id": "a"}]}, "or": []}),
        "mixes the source-specific form",
    ),
    row(
        "bad-date",
        "filters",
        lambda e: all_of(tag("travel"), created(gte="someday")),
        "must be a date",
    ),
    row("reserved-info-key", "filters", lambda e: info("tags", "x"), "not an info key"),
    row("non-str-tag", "filters", lambda e: any_of_tag(5), "must be a non-empty string"),
    row("empty-by-source", "filters", lambda e: by_source(), "must not be empty"),
    # ---- MemOSMiddleware and MemOSGraphMemory ---------------------------------------------------
    row(
        "zero-timeout",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, timeout=0),
        "timeout must be a positive number",
    ),
    row(
        "zero-max-pending",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, max_pending=0),
        "max_pending must be a positive integer",
    ),
    row("no-user-id", "middleware", lambda e: e.agent().invoke(turn(), {}), "needs a user_id"),
    row(
        "no-user-id-async",
        "middleware",
        lambda e: e.agent().ainvoke(turn(), {"configurable": {"thread_id": "t1"}}),
        "needs a user_id",
    ),
    row(
        "search-options-set-the-user",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, search_options={"user_id": "u2"}),
        "search_options cannot set",
    ),
    row("no-user-id", "graph", lambda e: e.graph.recall(turn(), {}), "needs a user_id"),
    row(
        "no-messages-channel",
        "graph",
        lambda e: e.graph.recall({"history": []}, {"configurable": {"user_id": "u1"}}),
        "no 'messages' channel",
    ),
    row(
        "wrong-client",
        "middleware",
        lambda e: MemOSMiddleware(client="x"),  # type: ignore[arg-type]
        "client",
    ),
    # ---- tools ----------------------------------------------------------------------------------
    row(
        "overlong-id",
        "tools",
        lambda e: create_memory_tools(user_id="u" * 101, client=e.embedded),
        "at most 100",
    ),
    # ---- every public constructor: an argument of the wrong type is refused at construction ------
    row(
        "int-base-url",
        "client",
        lambda e: MemOSClient(api_key="k", base_url=NUMBER),
        "base_url must be an http(s) URL",
        ConfigurationError,
    ),
    row(
        "str-max-retries",
        "client",
        lambda e: MemOSClient(api_key="k", max_retries=WORD_X),
        "max_retries must be an integer",
        ConfigurationError,
    ),
    row(
        "str-default-headers",
        "async-client",
        lambda e: AsyncMemOSClient(api_key="k", default_headers=WORD_X),
        "default_headers must map header names to string values",
        ConfigurationError,
    ),
    row(
        "sync-http-client",
        "async-client",
        lambda e: AsyncMemOSClient(api_key="k", http_client=SYNC_HTTP),
        "http_client must be an httpx.AsyncClient; got Client",
        ConfigurationError,
    ),
    row(
        "int-user-id",
        "retriever",
        lambda e: MemOSRetriever(client=e.sync, user_id=NUMBER),
        "user_id: Input should be a valid string",
    ),
    row(
        "str-filter",
        "retriever",
        lambda e: MemOSRetriever(client=e.sync, filter=WORD_X),
        "filter: Input should be a valid dictionary",
    ),
    row(
        "str-client",
        "retriever",
        lambda e: MemOSRetriever(client=WORD_X),
        "client: Input should be an instance of MemOSClient",
    ),
    row(
        "int-agent-id",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, agent_id=NUMBER),
        "agent_id must be a non-empty string",
    ),
    row(
        "str-tags",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, tags=WORD_X),
        "tags must be a list of strings",
    ),
    row(
        "str-info",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, info=WORD_X),
        "info must be a mapping",
    ),
    row(
        "str-async-client",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, async_client=WORD_X),
        "async_client must be an AsyncMemOSClient",
    ),
    row(
        "str-outbox",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, outbox=WORD_X),
        "outbox must be an Outbox",
    ),
    row(
        "int-user-id",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, user_id=NUMBER),
        "user_id must be a non-empty string; got 12345",
    ),
    row(
        "int-conversation-id",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, conversation_id=NUMBER),
        "conversation_id must be a non-empty string; got 12345",
    ),
    row(
        "str-async-client",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, async_client=WORD_X),
        "async_client must be an AsyncMemOSClient; got str",
    ),
    row(
        "str-max-pending",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, max_pending=WORD_X),
        "max_pending must be a positive integer",
    ),
    row(
        "str-client",
        "graph",
        lambda e: MemOSGraphMemory(WORD_X),
        "client must be a MemOSClient; got str",
    ),
    row(
        "str-client",
        "pre-model-hook",
        lambda e: create_memos_pre_model_hook(WORD_X),
        "client must be a MemOSClient; got str",
    ),
    row(
        "int-conversation-id",
        "tools",
        lambda e: create_memory_tools(user_id="u1", conversation_id=NUMBER, client=e.embedded),
        "conversation_id must be a non-empty string",
    ),
    row(
        "str-async-client",
        "tools",
        lambda e: create_memory_tools(user_id="u1", client=e.embedded, async_client=WORD_X),
        "async_client must be an AsyncMemOSClient; got str",
    ),
    row(
        "int-language",
        "prompts",
        lambda e: MemoryPromptBuilder(language=NUMBER),
        "language must be 'auto', 'en' or 'zh'",
    ),
    row(
        "str-timezone",
        "prompts",
        lambda e: MemoryPromptBuilder(timezone=WORD_X),
        "timezone must be a tzinfo; got str",
    ),
    row(
        "str-max-tokens",
        "prompts",
        lambda e: MemoryPromptBuilder(max_tokens=WORD_X),
        "max_tokens must be a positive integer",
    ),
    row(
        "str-token-counter",
        "prompts",
        lambda e: MemoryPromptBuilder(token_counter=WORD_X),
        "token_counter must be a function",
    ),
    row(
        "int-template",
        "prompts",
        lambda e: MemoryPromptBuilder(template=NUMBER),
        "template must be a string or a callable",
    ),
    row(
        "str-now",
        "prompts",
        lambda e: MemoryPromptBuilder(now=WORD_X),
        "now must be a function",
    ),
    row(
        "str-max-pending",
        "outbox",
        lambda e: Outbox(max_pending=WORD_X),
        "max_pending must be a positive integer",
    ),
    row(
        "str-lease",
        "outbox",
        lambda e: Outbox(lease=WORD_X),
        "lease must be a positive number of seconds",
    ),
    row(
        "int-outbox-path",  # once made a file named 12345 in the working directory
        "outbox",
        lambda e: Outbox(NUMBER),
        "path must be a file path",
    ),
    row(
        "none-outbox-path",  # once made a file named None
        "outbox",
        lambda e: Outbox(None),  # type: ignore[arg-type]
        "path must be a file path",
    ),
    row(
        "nan-backoff",
        "outbox",
        lambda e: Outbox(max_backoff=float("nan")),
        "max_backoff must be a positive number of seconds",
    ),
    row(
        "str-concurrency",
        "outbox",
        lambda e: Outbox(concurrency=WORD_X),
        "concurrency must be a positive integer",
    ),
    row(
        "str-clock",
        "outbox",
        lambda e: Outbox(clock=WORD_X),
        "clock must be a function",
    ),
    # ---- flags are booleans, durations finite: "false" is a true value, NaN never expires ------
    row(
        "str-allow-insecure-http",
        "client",
        lambda e: MemOSClient(
            api_key="k", base_url="http://memos.example.com/api", allow_insecure_http=WORD_FALSE
        ),
        "allow_insecure_http must be True or False; got 'false'",
        ConfigurationError,
    ),
    row(
        "str-is-global",
        "client",
        lambda e: MemOSClient(api_key="k", is_global=WORD_FALSE),
        "is_global must be True or False",
        ConfigurationError,
    ),
    row(
        "str-retry-unsafe-writes",
        "async-client",
        lambda e: AsyncMemOSClient(api_key="k", retry_unsafe_writes=WORD_NO),
        "retry_unsafe_writes must be True or False",
        ConfigurationError,
    ),
    row(
        "str-allow-insecure-http",
        "async-client",
        lambda e: AsyncMemOSClient(
            api_key="k", base_url="http://memos.example.com/api", allow_insecure_http=WORD_FALSE
        ),
        "allow_insecure_http must be True or False",
        ConfigurationError,
    ),
    row(
        "nan-timeout",
        "client",
        lambda e: MemOSClient(api_key="k", timeout=float("nan")),
        "timeout must be a positive number of seconds",
        ConfigurationError,
    ),
    row(
        "inf-timeout",
        "async-client",
        lambda e: AsyncMemOSClient(api_key="k", timeout=float("inf")),
        "timeout must be a positive number of seconds",
        ConfigurationError,
    ),
    row(
        "nan-in-httpx-timeout",
        "client",
        lambda e: MemOSClient(api_key="k", timeout=httpx.Timeout(5.0, read=float("nan"))),
        "timeout.read must be a positive number of seconds",
        ConfigurationError,
    ),
    row(
        "nan-wait-timeout",
        "client",
        lambda e: e.sync.wait_for_task("t1", timeout=float("nan")),
        "timeout must be a number of seconds",
    ),
    row(
        "huge-query",
        "client",
        lambda e: e.sync.search_memory("word " * 50_000, user_id="u1"),
        "query is about 62,500 tokens; one request carries at most 40,000",
    ),
    row(
        "huge-feedback",
        "async-client",
        lambda e: e.async_.add_feedback(user_id="u1", feedback_content="word " * 50_000),
        "feedback_content is about 62,500 tokens",
    ),
    row(
        "huge-memory-id",
        "client",
        lambda e: e.sync.get_memory_by_id("m" * 100_000),
        "memory_id is 100,000 characters long",
    ),
    row(
        "huge-memory-id",
        "async-client",
        lambda e: e.async_.update_memory("m" * 100_000, content="x"),
        "memory_id is 100,000 characters long",
    ),
    row(
        "huge-id-in-list",
        "client",
        lambda e: e.sync.delete_memory(memory_ids=["m1", "m" * 100_000]),
        "memory_ids[1] is 100,000 characters long",
    ),
    row(
        "str-wait",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, wait=WORD_FALSE),
        "wait must be True or False",
    ),
    row(
        "str-allow-public",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, allow_public=WORD_NO),
        "allow_public must be True or False",
    ),
    row(
        "nan-wait-timeout",
        "history",
        lambda e: MemOSChatMessageHistory("u1", "c1", client=e.sync, wait_timeout=float("nan")),
        "wait_timeout must be a number of seconds",
    ),
    row(
        "str-flag",
        "retriever",
        lambda e: MemOSRetriever(client=e.sync, include_preference="false"),
        "include_preference: Input should be a valid boolean",
    ),
    row(
        "str-fail-open",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, fail_open=WORD_FALSE),
        "fail_open must be True or False",
    ),
    row(
        "str-write-back",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, write_back=WORD_NO),
        "write_back must be True, False or a function of a message",
    ),
    row(
        "str-full-instruction",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, full_instruction=WORD_YES),
        "full_instruction must be True or False",
    ),
    row(
        "nan-timeout",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, timeout=float("nan")),
        "timeout must be a positive number of seconds",
    ),
    row(
        "inf-timeout",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, timeout=float("inf")),
        "timeout must be a positive number of seconds",
    ),
    row(
        "str-search-options",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, search_options=WORD_X),
        "search_options must be a dict",
    ),
    row(
        "str-builder",
        "middleware",
        lambda e: MemOSMiddleware(e.embedded, builder=WORD_X),
        "builder must be a MemoryPromptBuilder; got str",
    ),
    row(
        "str-builder",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, builder=WORD_X),
        "builder must be a MemoryPromptBuilder; got str",
    ),
    row(
        "str-fail-open",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, fail_open=WORD_FALSE),
        "fail_open must be True or False",
    ),
    row(
        "str-search-options",
        "graph",
        lambda e: MemOSGraphMemory(e.embedded, search_options=WORD_X),
        "search_options must be a dict",
    ),
    row(
        "wrong-client",
        "tools",
        lambda e: create_memory_tools(user_id="u1", client=WORD_X),
        "client must be a MemOSClient; got str",
    ),
    row(
        "str-builder",
        "tools",
        lambda e: create_memory_tools(user_id="u1", client=e.embedded, builder=WORD_X),
        "builder must be a MemoryPromptBuilder",
    ),
    row(
        "str-search-options",
        "tools",
        lambda e: create_memory_tools(user_id="u1", client=e.embedded, search_options=WORD_X),
        "search_options must be a dict",
    ),
    row(
        "str-include-query",
        "prompts",
        lambda e: MemoryPromptBuilder(include_query=WORD_FALSE),
        "include_query must be True or False",
    ),
    row(
        "str-dedupe-threshold",
        "prompts",
        lambda e: MemoryPromptBuilder(dedupe_threshold=WORD_X),
        "dedupe_threshold must be a number",
    ),
    # ---- lone surrogates (as json.loads('"\\udc80"') makes): refused wherever text goes in ------
    row(
        "surrogate-content",
        "client",
        lambda e: e.sync.add_message(said(content=BAD), **CONV),
        "messages[0].content holds a lone surrogate",
    ),
    row(
        "surrogate-content-part",
        "client",
        lambda e: e.sync.add_message(said(content=[{"type": "text", "text": BAD}]), **CONV),
        "messages[0].content[0].text holds a lone surrogate",
    ),
    row(
        "surrogate-tool-arguments",
        "client",
        lambda e: e.sync.add_message(
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"q": "' + BAD + '"}'},
                        }
                    ],
                }
            ],
            **CONV,
        ),
        "messages[0].tool_calls[0].function.arguments holds a lone surrogate",
    ),
    row(
        "surrogate-user-id",
        "client",
        lambda e: e.sync.get_message(user_id=BAD, conversation_id="c1"),
        "user_id holds a lone surrogate",
    ),
    row(
        "surrogate-query",
        "client",
        lambda e: e.sync.search_memory(BAD, user_id="u1"),
        "query holds a lone surrogate",
    ),
    row(
        "surrogate-filter",
        "client",
        lambda e: e.sync.get_memory(user_id="u1", filter=all_of(tag(BAD))),
        "filter.and[0].tags.contains holds a lone surrogate",
    ),
    row(
        "surrogate-info",
        "client",
        lambda e: e.sync.add_message(HI, **CONV, info={"scene": BAD}),
        "info.scene holds a lone surrogate",
    ),
    row(
        "surrogate-tags",
        "client",
        lambda e: e.sync.add_message(HI, **CONV, tags=["ok", BAD]),
        "tags[1] holds a lone surrogate",
    ),
    row(
        "surrogate-memory-id",
        "client",
        lambda e: e.sync.get_memory_by_id(BAD),
        "memory_id holds a lone surrogate",
    ),
    row(
        "surrogate-memory-ids",
        "client",
        lambda e: e.sync.delete_memory(memory_ids=[BAD]),
        "memory_ids[0] holds a lone surrogate",
    ),
    row(
        "surrogate-feedback",
        "client",
        lambda e: e.sync.add_feedback(user_id="u1", feedback_content=BAD),
        "feedback_content holds a lone surrogate",
    ),
    row(
        "surrogate-chat",
        "client",
        lambda e: e.sync.chat(user_id="u1", conversation_id="c1", query="q", system_prompt=BAD),
        "system_prompt holds a lone surrogate",
    ),
    row(
        "surrogate-update",
        "client",
        lambda e: e.sync.update_memory("m1", content=BAD),
        "content holds a lone surrogate",
    ),
    row(
        "surrogate-knowledgebase-name",
        "client",
        lambda e: e.sync.create_knowledgebase(BAD),
        "knowledgebase_name holds a lone surrogate",
    ),
    row(
        "surrogate-file-name",
        "client",
        lambda e: e.sync.upload_knowledgebase_files("kb1", [(BAD, b"text")]),
        "a file name holds a lone surrogate",
    ),
    row(
        "surrogate-rerank",
        "async-client",
        lambda e: e.async_.rerank("q", ["fine", BAD]),
        "documents[1] holds a lone surrogate",
    ),
    row(
        "surrogate-extract",
        "async-client",
        lambda e: e.async_.extract_memory(said(content=BAD)),
        "messages[0].content holds a lone surrogate",
    ),
    row(
        "surrogate-message",
        "history",
        lambda e: e.history.add_messages([HumanMessage(BAD)]),
        "messages[0].content holds a lone surrogate",
    ),
    row(
        "surrogate-tool-call-args",
        "history",
        lambda e: e.ahistory.aadd_messages(
            [AIMessage("", tool_calls=[{"id": "c1", "name": "f", "args": {"q": BAD}}])]
        ),
        "tool call 'f' args.q holds a lone surrogate",
    ),
    row(
        "surrogate-conversation-id",
        "history",
        lambda e: MemOSChatMessageHistory("u1", BAD, client=e.sync),
        "conversation_id holds a lone surrogate",
    ),
    row(
        "surrogate-query",
        "retriever",
        lambda e: e.retriever.invoke(BAD, user_id="u1"),
        "query holds a lone surrogate",
    ),
    row(
        "surrogate-user-id-in-config",
        "retriever",
        lambda e: e.aretriever.ainvoke("q", {"configurable": {"user_id": BAD}}),
        "user_id holds a lone surrogate",
    ),
    row(
        "surrogate-user-id",
        "tools",
        lambda e: create_memory_tools(user_id=BAD, client=e.embedded),
        "user_id holds a lone surrogate",
    ),
    # Under fail_open (the default) such a turn answers without memories (test_middleware.py).
    row(
        "surrogate-turn",
        "middleware",
        lambda e: e.strict_agent().invoke(
            {"messages": [HumanMessage(BAD)]}, {"configurable": {"user_id": "u1"}}
        ),
        "holds a lone surrogate",
    ),
    row(
        "surrogate-turn",
        "graph",
        lambda e: e.strict_graph.recall(
            {"messages": [HumanMessage(BAD)]}, {"configurable": {"user_id": "u1"}}
        ),
        "holds a lone surrogate",
    ),
    row(
        "deeply-nested-tool-arguments",
        "history",
        lambda e: e.history.add_messages(
            [AIMessage("", tool_calls=[{"id": "c1", "name": "f", "args": nested(10_000)}])]
        ),
        "nests more than 100 levels deep",
    ),
    row(
        "deeply-nested-field",
        "client",
        lambda e: e.sync.add_message(said(content="x", meta=nested(10_000)), **CONV),
        "messages[0].meta.a.a",
    ),
    # ---- the embedded engine, through a client and directly -------------------------------------
    row(
        "overlong-id",
        "embedded-client",
        lambda e: e.embedded.search_memory("q", user_id="u" * 101),
        "at most 100",
    ),
    row(
        "fts-syntax-is-no-error-but-a-bad-filter-is",
        "embedded-client",
        lambda e: e.embedded.search_memory(
            '"jazz" OR NEAR(a b', user_id="u1", filter={"and": [{"create_time": {"lt": "soon"}}]}
        ),
        "must be a date",
    ),
    row(
        "non-str-in-agent-id-list",
        "engine",
        lambda e: wire(e.bare, "/add/message", {**CONV, "messages": HI, "agent_id": ["a", 5]}),
        "agent_id is required and must be a non-empty string",
        EngineError,
    ),
    row(
        "non-str-speaker-name",
        "engine",
        lambda e: wire(e.bare, "/add/message", {**CONV, "messages": [{**HI[0], "name": 5}]}),
        "name must be a string",
        EngineError,
    ),
    row(
        "oversize-batch",
        "engine",
        lambda e: wire(e.bare, "/add/message", {**CONV, "messages": TOO_MANY}),
        "code 40013",
        EngineError,
    ),
    row(
        "bad-base64-file",
        "engine",
        lambda e: wire(
            e.bare,
            "/add/knowledgebase-file",
            {
                "knowledgebase_id": wire(
                    e.bare, "/create/knowledgebase", {"knowledgebase_name": "kb"}
                )["id"],
                "file": [{"name": "faq.md", "content": "data:text/markdown;base64,@@"}],
            },
        ),
        "code 40008",
        EngineError,
    ),
    row(
        "body-not-json",
        "engine",
        lambda e: wire(e.bare, "/search/memory", None, raw=b"{'user_id': 'u1'"),
        "not JSON",
        EngineError,
    ),
    row(
        "blank-feedback-conversation",
        "engine",
        lambda e: wire(
            e.bare,
            "/add/feedback",
            {"user_id": "u1", "feedback_content": "x", "conversation_id": ""},
        ),
        "conversation_id",
        EngineError,
    ),
    row(
        "number-as-feedback-time",
        "engine",
        lambda e: wire(
            e.bare, "/add/feedback", {"user_id": "u1", "feedback_content": "x", "feedback_time": 0}
        ),
        "feedback_time must be a string",
        EngineError,
    ),
    row(
        "unknown-extraction-type",
        "engine",
        lambda e: wire(
            e.bare, "/extract/memory", {"messages": HI, "extraction_types": ["memories"]}
        ),
        "extraction_types takes 'memory' and 'preference'; got memories",
        EngineError,
    ),
    row(
        "nan-in-body",
        "engine",
        lambda e: wire(
            e.bare,
            "/edit/profile",
            None,
            raw=b'{"user_id": "u1", "profile_template_id": "t", '
            b'"metadata": {"Stats": {"Score": {"value": NaN}}}}',
        ),
        "the request holds NaN, which is not JSON",
        EngineError,
    ),
    row(
        "non-str-file-type",
        "engine",
        lambda e: wire(
            e.bare,
            "/get/knowledgebase-file",
            {
                "knowledgebase_id": wire(
                    e.bare, "/create/knowledgebase", {"knowledgebase_name": "kb"}
                )["id"],
                "type": ["document"],
            },
        ),
        "code 40006",
        EngineError,
    ),
    row(
        "nan-in-profile",
        "client",
        lambda e: e.sync.edit_profile(
            "t", user_id="u1", metadata={"Stats": {"Score": {"value": float("nan")}}}
        ),
        "metadata.Stats.Score.value is nan, which JSON cannot carry",
    ),
    row(
        "bad-filter-date",
        "engine",
        lambda e: wire(
            e.bare,
            "/get/memory",
            {"user_id": "u1", "filter": {"or": [{"update_time": {"gt": "2025-13-45"}}]}},
        ),
        "must be a date",
        EngineError,
    ),
    row(
        "relativity-method",
        "engine",
        lambda e: e.bare.search_memory({"user_id": "u1", "query": "q", "relativity": 2}),
        "relativity must be between 0 and 1",
    ),
    row(
        "missing-user-method",
        "engine",
        lambda e: e.bare.get_message({"conversation_id": "c1"}),
        "user_id is required",
        EngineError,
    ),
]


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ...}}``, ``depth`` levels deep."""
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def any_of_tag(value: object) -> object:
    from langchain_memos.filters import any_of

    return any_of(tag(value))  # type: ignore[arg-type]


def turn() -> dict[str, Any]:
    return {"messages": [HumanMessage("Where should we travel?")]}


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def perform(case: Bad, env: Env) -> None:
    outcome = case.call(env)
    if inspect.isawaitable(outcome):
        asyncio.run(_awaited(outcome))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_before_anything_is_sent(env: Env, case: Bad) -> None:
    with pytest.raises(case.error) as caught:
        perform(case, env)

    error = caught.value
    assert type(error) is case.error, repr(error)
    assert type(error).__module__.startswith("langchain_memos.")
    assert not isinstance(error, RAW)
    assert case.says in str(error)
    assert env.fake.requests == []
    assert env.engine.paths == []
    assert env.stored() == 0


def test_the_table_covers_every_component_with_enough_kinds() -> None:
    cases = [param.values[0] for param in CASES if not param.marks]
    components = {case.component for case in cases}
    assert components >= {
        "client",
        "async-client",
        "history",
        "retriever",
        "filters",
        "middleware",
        "graph",
        "engine",
        "embedded-client",
        "tools",
        "prompts",
        "outbox",
        "pre-model-hook",
    }
    assert len({param.id for param in CASES if not param.marks}) >= 25
    assert all(issubclass(case.error, (MemOSInputError, EngineError)) for case in cases)
