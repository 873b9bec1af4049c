"""Every endpoint, through both clients: what is sent, and what the caller gets back."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_memos import (
    APIConnectionError,
    AsyncMemOSClient,
    ClosedError,
    ConfigurationError,
    InternalServerError,
    MemOSClient,
    MemOSInputError,
)
from langchain_memos.types import (
    ChatResult,
    ChatStreamEvent,
    ExtractMemoryResult,
    KnowledgeBase,
    KnowledgeBaseFile,
    KnowledgeBaseFileList,
    MemoryDetail,
    MemoryListResult,
    MessageListResult,
    OperationResult,
    RerankResult,
    SearchMemoryResult,
    TaskResult,
    TaskStatus,
)
from tests.fakes import Client, FakeMemOS, build, call, envelope

TRIP = [
    {"role": "user", "content": "I want to travel during summer vacation."},
    {"role": "assistant", "content": "Alone or with family?"},
]
SEARCH_DATA = {
    "memory_detail_list": [
        {
            "id": "c6c63472",
            "memory_key": "Spicy Food Preference",
            "memory_value": "User likes spicy food.",
            "memory_type": "UserMemory",
            "create_time": 1762674694466,
            "conversation_id": "memos_conversation_123",
            "status": "activated",
            "confidence": 0.99,
            "tags": ["Dietary Preference"],
            "update_time": 1762674694423,
            "relativity": 0.00242424,
        }
    ],
    "preference_detail_list": [
        {
            "id": "46d8372d",
            "preference_type": "explicit_preference",
            "preference": "User likes spicy food.",
            "reasoning": "stated explicitly",
            "create_time": 1762675342352,
        }
    ],
    "tool_memory_detail_list": None,
    "skill_detail_list": [],
    "preference_note": "\n# Note:\nYour reply must not violate any of the user's preferences.\n",
}


@dataclass
class Case:
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    path: str
    body: Any
    data: Any
    result_type: type


CASES = [
    Case(
        "add_message",
        (TRIP,),
        {"user_id": "memos_user_123", "conversation_id": "0610", "tags": ["travel"]},
        "/add/message",
        {
            "user_id": "memos_user_123",
            "conversation_id": "0610",
            "messages": TRIP,
            "tags": ["travel"],
        },
        {"success": True, "task_id": "t-1", "status": "running"},
        TaskResult,
    ),
    Case(
        "search_memory",
        ("Where to go for National Day?",),
        {"user_id": "memos_user_123", "memory_limit_number": 6, "relativity": 0},
        "/search/memory",
        {
            "query": "Where to go for National Day?",
            "user_id": "memos_user_123",
            "memory_limit_number": 6,
            "relativity": 0.0,
        },
        SEARCH_DATA,
        SearchMemoryResult,
    ),
    Case(
        "get_memory",
        (),
        {"user_id": "u1", "page": 2, "size": 50},
        "/get/memory",
        {"user_id": "u1", "page": 2, "size": 50},
        {"memory_detail_list": [], "total": 12, "size": 50, "current": 2, "pages": 1},
        MemoryListResult,
    ),
    Case(
        "get_memory_by_id",
        ("mem/1 x",),
        {},
        "/get/memory/mem%2F1%20x",
        None,
        {"id": "mem/1 x", "memory_value": "v", "metadata": {"sources": []}},
        MemoryDetail,
    ),
    Case(
        "get_message",
        (),
        {"user_id": "u1", "conversation_id": "0610", "message_limit_number": 50},
        "/get/message",
        {"user_id": "u1", "conversation_id": "0610", "message_limit_number": 50},
        {"message_detail_list": [{"role": "user", "content": "hi", "create_time": "x"}]},
        MessageListResult,
    ),
    Case(
        "delete_memory",
        (),
        {"memory_ids": ["m1", "m2"]},
        "/delete/memory",
        {"memory_ids": ["m1", "m2"]},
        {"success": True},
        OperationResult,
    ),
    Case(
        "update_memory",
        ("m1",),
        {"content": "new"},
        "/update/memory",
        {"memory_id": "m1", "content": "new"},
        {"success": True},
        OperationResult,
    ),
    Case(
        "add_feedback",
        (),
        {"user_id": "u1", "feedback_content": "I moved to Nanjing", "conversation_id": "c1"},
        "/add/feedback",
        {"user_id": "u1", "conversation_id": "c1", "feedback_content": "I moved to Nanjing"},
        {"success": True, "status": "running", "task_id": "t-2"},
        TaskResult,
    ),
    Case(
        "get_status",
        ("t-1",),
        {},
        "/get/status",
        {"task_id": "t-1"},
        {"task_id": "t-1", "status": "completed", "memory_views": None},
        TaskStatus,
    ),
    Case(
        "extract_memory",
        ([{"role": "user", "content": "I am vegetarian"}],),
        {"extraction_types": ["memory"]},
        "/extract/memory",
        {
            "messages": [{"role": "user", "content": "I am vegetarian"}],
            "extraction_types": ["memory"],
        },
        {"success": True, "memory_detail_list": [{"memory_value": "vegetarian"}]},
        ExtractMemoryResult,
    ),
    Case(
        "chat",
        (),
        {"user_id": "u1", "conversation_id": "c1", "query": "hello", "temperature": 0.2},
        "/chat",
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "query": "hello",
            "temperature": 0.2,
            "stream": False,
        },
        {"response": "Hi!"},
        ChatResult,
    ),
    Case(
        "create_knowledgebase",
        ("docs",),
        {"knowledgebase_description": "product docs"},
        "/create/knowledgebase",
        {"knowledgebase_name": "docs", "knowledgebase_description": "product docs"},
        {"id": "kb-1"},
        KnowledgeBase,
    ),
    Case(
        "delete_knowledgebase",
        ("kb-1",),
        {},
        "/delete/knowledgebase",
        {"knowledgebase_id": "kb-1"},
        {"success": True},
        OperationResult,
    ),
    Case(
        "add_knowledgebase_files",
        ("kb-1", [{"name": "faq.md", "content": "https://example.com/faq.md"}]),
        {},
        "/add/knowledgebase-file",
        {
            "knowledgebase_id": "kb-1",
            "file": [{"name": "faq.md", "content": "https://example.com/faq.md"}],
        },
        [{"id": "f1", "type": "document", "name": "faq.md", "sizeMB": 0.1, "status": "running"}],
        list,
    ),
    Case(
        "get_knowledgebase_files",
        (),
        {"knowledgebase_id": "kb-1", "page": 1, "page_size": 20},
        "/get/knowledgebase-file",
        {"knowledgebase_id": "kb-1", "page": 1, "page_size": 20},
        {"total": 1, "page": 1, "page_size": 20, "file_detail_list": [{"id": "f1", "size": "1MB"}]},
        KnowledgeBaseFileList,
    ),
    Case(
        "delete_knowledgebase_files",
        (["f1"],),
        {},
        "/delete/knowledgebase-file",
        {"file_ids": ["f1"]},
        {"success": True},
        OperationResult,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.method for case in CASES])
def test_each_endpoint_sends_the_documented_request(kind: str, fake: FakeMemOS, case: Case) -> None:
    fake.replies = [envelope(case.data)]
    client = build(kind, fake, base_url="https://memos.example.com/api/openmem/v1")

    result = call(client, case.method, *case.args, **case.kwargs)

    assert isinstance(result, case.result_type)
    (request,) = fake.requests
    assert request.method == ("GET" if case.body is None else "POST")
    assert request.url.raw_path.decode() == "/api/openmem/v1" + case.path
    assert request.headers["authorization"] == "Token test-key"
    assert fake.bodies == [case.body]


CLIENT_TIMEOUT = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}  # the default


@pytest.mark.parametrize("case", CASES, ids=[case.method for case in CASES])
def test_each_endpoint_takes_a_timeout_for_one_call(kind: str, fake: FakeMemOS, case: Case) -> None:
    fake.replies = [envelope(case.data)]
    client = build(kind, fake)

    call(client, case.method, *case.args, **case.kwargs, timeout=1.5)
    call(client, case.method, *case.args, **case.kwargs)

    first, second = (request.extensions["timeout"] for request in fake.requests)
    assert first == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}
    assert second == CLIENT_TIMEOUT  # the next call is back to the client's


def test_a_timeout_for_one_call_may_set_each_phase(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [envelope(SEARCH_DATA)]
    call(client, "search_memory", "q", user_id="u1", timeout=httpx.Timeout(4.0, connect=0.5))
    assert fake.requests[0].extensions["timeout"] == {
        "connect": 0.5,
        "read": 4.0,
        "write": 4.0,
        "pool": 4.0,
    }


@pytest.mark.parametrize(
    ("timeout", "says"),
    [
        (0, "timeout must be a positive number of seconds"),
        (-1, "timeout must be a positive number of seconds"),
        (float("nan"), "timeout must be a positive number of seconds"),
        (float("inf"), "timeout must be a positive number of seconds"),
        ("2", "timeout must be a positive number of seconds"),
        (True, "timeout must be a positive number of seconds"),
        (httpx.Timeout(2.0, read=-1), "timeout.read must be a positive number of seconds"),
    ],
)
def test_a_bad_timeout_for_one_call_fails_before_sending(
    client: Client, fake: FakeMemOS, timeout: object, says: str
) -> None:
    with pytest.raises(MemOSInputError, match=says):
        call(client, "search_memory", "q", user_id="u1", timeout=timeout)
    assert fake.requests == []


def test_with_options_changes_only_the_copy(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [envelope(None, code=50000, status=500)]  # retried while retries remain
    client = build(kind, fake, max_retries=2, default_headers={"X-App": "demo"})
    quick = client.with_options(timeout=1.5, max_retries=0, extra_headers={"X-Trace": "t1"})

    with pytest.raises(InternalServerError):
        call(quick, "search_memory", "q", user_id="u1")
    [sent] = fake.requests
    assert sent.headers["x-trace"] == "t1"
    assert sent.headers["x-app"] == "demo"
    assert sent.headers["authorization"] == "Token test-key"
    assert sent.extensions["timeout"]["read"] == 1.5

    with pytest.raises(InternalServerError):
        call(client, "search_memory", "q", user_id="u1")
    assert len(fake.requests) == 1 + 3  # the original still retries twice
    assert "x-trace" not in fake.requests[-1].headers
    assert fake.requests[-1].extensions["timeout"] == CLIENT_TIMEOUT
    assert (quick.max_retries, client.max_retries) == (0, 2)
    assert type(quick) is type(client)
    assert quick.base_url == client.base_url


def test_with_options_keeps_what_is_not_given(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [envelope(None, code=50000, status=500)]
    client = build(kind, fake, max_retries=1, timeout=7.0)
    traced = client.with_options(extra_headers={"X-Trace": "t1"})
    with pytest.raises(InternalServerError):
        call(traced, "search_memory", "q", user_id="u")
    assert len(fake.requests) == 2
    assert fake.requests[0].extensions["timeout"]["read"] == 7.0


@pytest.mark.parametrize("spelled", ["Authorization", "authorization", "AUTHORIZATION"])
def test_a_header_replaces_the_one_of_the_same_name_whatever_its_case(
    kind: str, fake: FakeMemOS, spelled: str
) -> None:
    client = build(kind, fake, default_headers={"x-app": "demo"})
    other = client.with_options(extra_headers={spelled: "Token other-key", "X-App": "mine"})
    call(other, "search_memory", "q", user_id="u1")
    built = build(kind, fake, default_headers={spelled: "Token other-key"})
    call(built, "search_memory", "q", user_id="u1")

    for sent in fake.requests:
        assert sent.headers.get_list("authorization") == ["Token other-key"]
    assert fake.requests[0].headers.get_list("x-app") == ["mine"]
    # The identity (what an outbox files writes under) is the key's that is sent.
    elsewhere = build(kind, fake).with_options(extra_headers={"Authorization": "Token other-key"})
    assert other.identity == built.identity == elsewhere.identity != client.identity


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
        ({"timeout": float("nan")}, "timeout must be a positive number of seconds"),
        ({"timeout": "5"}, "timeout must be a positive number of seconds"),
        ({"max_retries": -1}, "max_retries must be between 0 and 10"),
        ({"max_retries": 1.5}, "max_retries must be an integer"),
        ({"max_retries": True}, "max_retries must be an integer"),
        ({"extra_headers": {"X-Count": 1}}, "extra_headers must map header names to string"),
        ({"extra_headers": "X-Trace: t1"}, "extra_headers must map header names to string"),
        ({"extra_headers": {"X-Trace": "t1\r\nX-Evil: 1"}}, "the value of 'X-Trace' holds a"),
        ({"extra_headers": {"X-Trace": "t1\n"}}, "the value of 'X-Trace' holds a line break"),
        ({"extra_headers": {"X-Trace": "café"}}, "a non-ASCII character"),
        ({"extra_headers": {"X-Trace\r\nX-Evil": "1"}}, "beginning 'X-Trace' holds another"),
        ({"extra_headers": {"X-A": "1", "x-a": "2"}}, "names the header 'x-a' twice"),
    ],
)
def test_with_options_checks_them_as_the_constructor_does(
    client: Client, fake: FakeMemOS, options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        client.with_options(**options)


def test_with_options_refuses_unknown_names(client: Client) -> None:
    with pytest.raises(MemOSInputError, match="'timout' \\(did you mean 'timeout'\\?\\)"):
        client.with_options(timout=2.0)  # type: ignore[call-arg]
    with pytest.raises(MemOSInputError, match="base_url"):
        client.with_options(base_url="https://elsewhere.example.com")  # type: ignore[call-arg]


def test_a_copy_of_an_embedded_client_shares_its_engine() -> None:
    client = MemOSClient(embedded=":memory:")
    copy = client.with_options(timeout=5.0)
    copy.add_message(
        [{"role": "user", "content": "I always travel with my kids."}],
        user_id="u1",
        conversation_id="c1",
        async_mode=False,
    )
    copy.close()  # not the copy's to close
    assert client.get_message(user_id="u1", conversation_id="c1").message_detail_list
    client.close()
    with pytest.raises(ClosedError, match="is closed"):
        copy.get_message(user_id="u1", conversation_id="c1")


def test_search_results_are_typed(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [envelope(SEARCH_DATA)]
    result = call(client, "search_memory", "spicy?", user_id="u1")

    (fact,) = result.memory_detail_list
    assert fact.memory_value == "User likes spicy food."
    assert fact.tags == ["Dietary Preference"]
    assert isinstance(fact.created_at, datetime)
    assert fact.created_at.tzinfo is not None
    assert result.preference_detail_list[0].preference_type == "explicit_preference"
    assert result.tool_memory_detail_list == []  # null in the answer
    assert "preferences" in result.preference_note
    assert len(result) == 2


def test_upload_sends_multipart_with_query_parameters(
    client: Client, fake: FakeMemOS, tmp_path: Path
) -> None:
    fake.replies = [envelope({"id": "f1", "status": "PROCESSING"})]  # the older, object answer
    document = tmp_path / "notes.md"
    document.write_text("# notes")

    files = call(
        client, "upload_knowledgebase_files", "kb-1", [document, ("b.txt", b"bee")], type="document"
    )

    assert files == [KnowledgeBaseFile(id="f1", status="PROCESSING")]
    (request,) = fake.requests
    assert request.url.params["knowledgebase_id"] == "kb-1"
    assert request.url.params["type"] == "document"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'filename="notes.md"' in request.content
    assert b"# notes" in request.content
    assert b'filename="b.txt"' in request.content


def test_rerank_accepts_top_level_and_enveloped_answers(client: Client, fake: FakeMemOS) -> None:
    answer = {
        "id": "r1",
        "results": [{"index": 1, "document": {"text": "b"}, "relevance_score": 0.9}],
    }
    fake.replies = [httpx.Response(200, json=answer), envelope(answer)]

    for _ in range(2):
        result = call(client, "rerank", "q", ["a", "b"], top_n=1)
        assert isinstance(result, RerankResult)
        assert result.results[0].text == "b"


def test_legacy_list_task_status_is_normalised(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [envelope([{"status": "completed"}])]
    status = call(client, "get_status", "task-9")
    assert status == TaskStatus(task_id="task-9", status="completed")
    assert status.done


def test_wait_for_task_polls_until_done(
    client: Client, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [
        envelope({"task_id": "t", "status": "running"}),
        envelope({"task_id": "t", "status": "running"}),
        envelope({"task_id": "t", "status": "completed"}),
    ]
    status = call(client, "wait_for_task", "t", timeout=30, interval=0.25)
    assert status.status == "completed"
    assert len(fake.requests) == 3
    assert sleeps == [0.25, 0.25]


def test_wait_for_task_gives_up_after_its_timeout(client: Client, fake: FakeMemOS) -> None:
    from langchain_memos import APITimeoutError, DeadlineExceededError

    fake.replies = [envelope({"task_id": "t", "status": "running"})]
    with pytest.raises(DeadlineExceededError, match="still 'running'") as caught:
        call(client, "wait_for_task", "t", timeout=0.05, interval=0.01)
    # Every poll was answered: a deadline, not a request without an answer. Code written
    # against the built-in still catches it.
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value, TimeoutError)


def sse(*events: str) -> httpx.Response:
    body = "".join(f"event: message\ndata: {event}\n\n" for event in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def test_chat_stream_yields_events_until_end(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [
        sse(
            '{"type": "reasoning", "data": "thinking"}',
            '{"type": "text", "data": "Hel"}',
            '{"type": "text", "data": "lo"}',
            '{"type": "end", "data": ""}',
            '{"type": "text", "data": "after the end"}',
        )
    ]
    events = call(client, "chat_stream", user_id="u", conversation_id="c", query="hi")
    assert events == [
        ChatStreamEvent(type="reasoning", data="thinking"),
        ChatStreamEvent(type="text", data="Hel"),
        ChatStreamEvent(type="text", data="lo"),
    ]
    assert fake.bodies[0]["stream"] is True


def test_chat_stream_raises_the_services_error(client: Client, fake: FakeMemOS) -> None:
    from langchain_memos import AuthenticationError

    fake.replies = [envelope(None, code=40132, message="invalid API key", status=401)]
    with pytest.raises(AuthenticationError, match="invalid API key"):
        call(client, "chat_stream", user_id="u", conversation_id="c", query="hi")


def test_both_clients_have_the_same_methods_and_signatures() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in inspect.getmembers(cls, callable)
            if not name.startswith("_")
        }

    sync, asynchronous = public(MemOSClient), public(AsyncMemOSClient)
    sync.pop("close")
    asynchronous.pop("aclose")
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        other = asynchronous[name]
        assert list(signature.parameters) == list(other.parameters), name
        assert [p.default for p in signature.parameters.values()] == [
            p.default for p in other.parameters.values()
        ], name
    for name in sync:
        member = getattr(AsyncMemOSClient, name)
        assert inspect.iscoroutinefunction(member) or name in ("chat_stream", "with_options"), name
    assert "search_memory" in sync
    assert MemOSClient.search_memory.__doc__ == AsyncMemOSClient.search_memory.__doc__


def test_close_closes_only_the_pool_the_client_owns() -> None:
    owned = MemOSClient(api_key="k")
    owned.close()
    assert owned._http.is_closed

    mine = httpx.Client()
    with MemOSClient(api_key="k", http_client=mine):
        pass
    assert not mine.is_closed
    mine.close()


async def test_async_client_context_manager_closes_its_pool() -> None:
    async with AsyncMemOSClient(api_key="k") as client:
        pass
    assert client._http.is_closed


IDENTITY_KEY = "sk-identity-test-key"


@pytest.mark.parametrize("client_type", [MemOSClient, AsyncMemOSClient])
def test_identity_names_the_service_and_project_never_the_key(
    client_type: type[MemOSClient] | type[AsyncMemOSClient],
) -> None:
    client = client_type(api_key=f"Token {IDENTITY_KEY}")
    identity = client.identity
    # The value outbox files have recorded with each write since the first version: a change
    # would leave their writes waiting for a client that never comes.
    assert identity == "https://memos.memtensor.cn/api/openmem/v1#7bd8f203353c1243"
    assert IDENTITY_KEY not in identity
    assert IDENTITY_KEY[3:11] not in identity  # no fragment of it either
    assert client.with_options(timeout=1, max_retries=0).identity == identity
    assert client_type(api_key=IDENTITY_KEY).identity == identity  # with or without "Token"
    assert client_type(api_key="another-key").identity != identity
    assert client_type(api_key="k", base_url="https://memos.example/v1").identity.startswith(
        "https://memos.example/v1#"
    )
    # The key that is sent decides, even when default_headers replace api_key's.
    replaced = client_type(api_key="k", default_headers={"Authorization": f"Token {IDENTITY_KEY}"})
    assert replaced.identity == identity


def test_is_closed_says_whether_the_sync_client_can_still_send() -> None:
    owned = MemOSClient(api_key="k")
    copy = owned.with_options(max_retries=0)
    copy.close()
    assert (owned.is_closed, copy.is_closed) == (False, False)  # the pool stays open
    owned.close()
    assert (owned.is_closed, copy.is_closed) == (True, True)

    mine = httpx.Client()
    given = MemOSClient(api_key="k", http_client=mine)
    given.close()
    assert not given.is_closed  # not its pool to close: it can still send
    mine.close()
    assert given.is_closed


async def test_is_closed_says_whether_the_async_client_can_still_send() -> None:
    owned = AsyncMemOSClient(api_key="k")
    copy = owned.with_options(max_retries=0)
    assert not owned.is_closed
    await copy.aclose()
    assert (owned.is_closed, copy.is_closed) == (False, False)
    await owned.aclose()
    assert (owned.is_closed, copy.is_closed) == (True, True)

    mine = httpx.AsyncClient()
    given = AsyncMemOSClient(api_key="k", http_client=mine)
    await given.aclose()
    assert not given.is_closed
    await mine.aclose()
    assert given.is_closed


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "Connection refused"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "Name or service not known"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.RemoteProtocolError("Server disconnected"), "may have been processed"),
    ],
)
def test_an_unanswered_request_names_the_url_it_was_sent_to(
    kind: str, fake: FakeMemOS, failure: Exception, says: str
) -> None:
    fake.replies = [failure]
    client = build(
        kind,
        fake,
        api_key="sk-secret-key",
        base_url="https://admin:hunter2@memos.example.com/api/openmem/v1",
        max_retries=0,
    )

    with pytest.raises(APIConnectionError) as caught:
        call(client, "search_memory", "q", user_id="u1")

    message = str(caught.value)
    assert "https://memos.example.com/api/openmem/v1/search/memory" in message
    assert says in message
    assert "hunter2" not in message
    assert "sk-secret-key" not in message
