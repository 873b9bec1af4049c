"""Both clients through the self-hosted mode, against a fake of the open-source MemOS server.

The fake answers ``/product/*`` with bodies shaped as MemoryOS 2.0.33's server answers them
(grouped by cube, raw metadata, ISO times, code 200, failures with code 200); the tests assert
what a caller sees: what reaches the server, the typed results, and the errors.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from langchain_memos import (
    APIResponseValidationError,
    AsyncMemOSClient,
    BadRequestError,
    ConfigurationError,
    MemOSChatMessageHistory,
    MemOSClient,
    MemOSError,
    MemOSInputError,
    MemOSRetriever,
    NotFoundError,
)
from langchain_memos._selfhosted import SelfHostedOptions, SelfHostedTransport
from langchain_memos._selfhosted._scope import issue_task_id, task_owner
from tests.fakes import Client, call

BASE_URL = "http://127.0.0.1:8000"
CREATED = "2025-09-18T08:23:44.625511000+00:00"
CREATED_MS = 1758183824626


def item(memory_id: str, memory: str, memory_type: str, **meta: Any) -> dict[str, Any]:
    metadata = {
        "user_id": "u1",
        "session_id": "c1",
        "status": "activated",
        "key": memory[:20],
        "confidence": 0.99,
        "tags": ["mode:fast"],
        "memory_type": memory_type,
        "sources": ['{"type": "chat", "role": "user", "content": "hi"}'],
        "created_at": CREATED,
        "updated_at": CREATED,
        "info": {"scene": "trip"},
        **meta,
    }
    return {"id": memory_id, "memory": memory, "metadata": metadata}


FACT = item("f1", "The user likes strawberries.", "UserMemory", relativity=0.63)
PREFERENCE = item(
    "p1",
    "likes short answers",
    "PreferenceMemory",
    preference_type="explicit_preference",
    preference="The user likes short answers.",
    relativity=0.5,
)
TOOL = item("t1", '{"name": "get_weather"}', "ToolSchemaMemory", experience="works")
SKILL = item("s1", "Plan a trip", "SkillMemory", name="trip-planner", procedure="1. ask")


def group(cube: str, *memories: dict[str, Any]) -> dict[str, Any]:
    return {"cube_id": cube, "memories": list(memories), "total_nodes": len(memories)}


class FakeServer:
    """Answers what MemoryOS's server answers; records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, tuple[int, Any]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/memos")  # a server behind a path prefix
        if path in self.answers:
            status, body = self.answers[path]
            return httpx.Response(status, json=body)
        if path == "/product/chat/stream":
            events = [{"type": "text", "data": "Straw"}, {"type": "text", "data": "berries"}]
            lines = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
            return httpx.Response(200, text=lines, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json={"code": 200, "message": "ok", "data": self.data(path)})

    def data(self, path: str) -> Any:
        if path == "/product/add":
            return [
                {"memory": "m", "memory_id": "f1", "memory_type": "UserMemory", "cube_id": "u1"}
            ]
        if path == "/product/search":
            return {
                "text_mem": [group("u1", FACT), group("team", FACT | {"id": "f2"})],
                "pref_mem": [group("u1", PREFERENCE)],
                "tool_mem": [group("u1", TOOL)],
                "skill_mem": [group("u1", SKILL)],
                "act_mem": [],
                "para_mem": [],
                "pref_note": "\n# Note:\nFollow the preferences.\n",
            }
        if path == "/product/get_memory":
            # Some storage backends answer every memory type to every list.
            return {key: [group("u1", FACT, PREFERENCE)] for key in ("text_mem", "pref_mem")}
        if path.startswith("/product/get_memory/"):
            return FACT
        if path == "/product/delete_memory":
            return {"status": "success"}
        if path == "/product/feedback":
            return [{"answer": "", "record": {"add": [], "update": []}}]
        if path == "/product/scheduler/status":
            return [
                {
                    "task_id": dict(request_params(self.requests[-1]))["task_id"],
                    "status": "in_progress",
                }
            ]
        if path == "/product/chat/complete":
            return {"response": "You like strawberries.", "reasoning": None}
        raise AssertionError(f"unexpected request to {path}")

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    @property
    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


def request_params(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode())


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def selfhosted(kind: str, server: FakeServer, base_url: str = BASE_URL, **options: Any) -> Client:
    mock = httpx.MockTransport(server.handler)
    transport = SelfHostedTransport(
        SelfHostedOptions.of(**options), transport=mock, async_transport=mock
    )
    if kind == "sync":
        return MemOSClient(base_url=base_url, http_client=httpx.Client(transport=transport))
    return AsyncMemOSClient(base_url=base_url, http_client=httpx.AsyncClient(transport=transport))


@pytest.fixture
def client(kind: str, server: FakeServer) -> Client:
    return selfhosted(kind, server)


MESSAGES = [{"role": "user", "content": "I like strawberries.", "chat_time": "2025-06-10 10:00:00"}]


def test_an_add_goes_to_the_users_cube_and_its_task_can_be_polled(
    client: Client, server: FakeServer
) -> None:
    task = call(
        client, "add_message", MESSAGES, user_id="u1", conversation_id="c1",
        tags=["fruit"], info={"scene": "trip"}, agent_id="a1",
    )  # fmt: skip
    sent = server.body()
    assert server.paths == ["/product/add"]
    assert sent["session_id"] == "c1"
    assert sent["writable_cube_ids"] == ["u1"]
    assert sent["async_mode"] == "async"
    assert sent["custom_tags"] == ["fruit"]
    assert sent["info"] == {"scene": "trip", "agent_id": "a1"}
    assert sent["messages"] == MESSAGES
    assert task.status == "running"
    assert task.task_id == sent["task_id"]

    status = call(client, "get_status", task.task_id)
    assert server.paths[-1] == "/product/scheduler/status"
    assert dict(request_params(server.requests[-1])) == {"user_id": "u1", "task_id": task.task_id}
    assert status.status == "running"
    assert not status.done


def test_a_synchronous_add_sends_the_chosen_mode_and_is_complete(
    kind: str, server: FakeServer
) -> None:
    client = selfhosted(kind, server, add_mode="fine")
    task = call(
        client, "add_message", MESSAGES, user_id="u1", conversation_id="c1", async_mode=False
    )
    assert server.body()["async_mode"] == "sync"
    assert server.body()["mode"] == "fine"
    assert task.status == "completed"
    assert task.task_id is None


def test_a_search_translates_its_options_and_flattens_the_cubes(
    client: Client, server: FakeServer
) -> None:
    result = call(
        client, "search_memory", "fruit", user_id="u1", conversation_id="c1",
        memory_limit_number=3, preference_limit_number=2, relativity=0.2,
        include_tool_memory=True, tool_memory_limit_number=4,
        filter={"and": [{"agent_id": "a1"}, {"create_time": {"gte": "2025-12-10"}}]},
    )  # fmt: skip
    assert server.body() == {
        "query": "fruit",
        "user_id": "u1",
        "readable_cube_ids": ["u1"],
        "session_id": "c1",
        "filter": {
            "and": [{"info.agent_id": "a1"}, {"created_at": {"gte": "2025-12-10T00:00:00+08:00"}}]
        },
        "top_k": 3,
        "pref_top_k": 2,
        "relativity": 0.2,
        "search_tool_memory": True,
        "include_skill_memory": False,
        "tool_mem_top_k": 4,
    }
    assert [m.id for m in result.memory_detail_list] == ["f1", "f2"]
    fact = result.memory_detail_list[0]
    assert fact.memory_value == "The user likes strawberries."
    assert fact.conversation_id == "c1"
    assert fact.relativity == 0.63
    assert fact.created_at == datetime.fromtimestamp(CREATED_MS / 1000, tz=timezone.utc)
    assert fact.sources == [{"type": "chat", "role": "user", "content": "hi"}]
    (preference,) = result.preference_detail_list
    assert preference.preference == "The user likes short answers."
    assert preference.preference_type == "explicit_preference"
    (tool,) = result.tool_memory_detail_list
    assert tool.is_schema
    assert tool.tool_value == {"name": "get_weather"}
    assert result.skill_detail_list[0].skill_value.name == "trip-planner"
    assert result.preference_note.startswith("\n# Note:")


def test_a_search_recalls_no_tool_memory_or_skill_unless_asked(
    client: Client, server: FakeServer
) -> None:
    call(client, "search_memory", "fruit", user_id="u1")
    assert server.body()["search_tool_memory"] is False
    assert server.body()["include_skill_memory"] is False


def test_a_listing_pages_one_cube_and_keeps_each_kind_in_its_list(
    client: Client, server: FakeServer
) -> None:
    page = call(client, "get_memory", user_id="u1")
    assert server.body()["mem_cube_id"] == "u1"
    assert (server.body()["page"], server.body()["page_size"]) == (1, 10)
    assert [m.id for m in page.memory_detail_list] == ["f1"]
    assert [p.id for p in page.preference_detail_list] == ["p1"]
    assert (page.total, page.current, page.size, page.pages) == (2, 1, 10, 1)


def test_cube_ids_are_options_with_the_user_in_them(kind: str, server: FakeServer) -> None:
    client = selfhosted(
        kind, server, readable_cube_ids=["{user_id}", "team"], writable_cube_ids="team-{user_id}"
    )
    call(client, "search_memory", "fruit", user_id="u7")
    assert server.body()["readable_cube_ids"] == ["u7", "team"]
    call(client, "add_message", MESSAGES, user_id="u7", conversation_id="c1")
    assert server.body()["writable_cube_ids"] == ["team-u7"]


def test_one_memory_by_id_and_a_missing_one(client: Client, server: FakeServer) -> None:
    memory = call(client, "get_memory_by_id", "f1")
    assert server.paths == ["/product/get_memory/f1"]
    assert memory.memory_value == "The user likes strawberries."
    server.answers["/product/get_memory/gone"] = (
        200,
        {"code": 200, "message": "Memory with ID gone not found", "data": None},
    )
    with pytest.raises(NotFoundError, match="gone not found"):
        call(client, "get_memory_by_id", "gone")


def test_deletes_by_ids_user_and_agent(client: Client, server: FakeServer) -> None:
    assert call(client, "delete_memory", memory_ids=["f1"]).success
    assert server.body() == {"memory_ids": ["f1"]}
    call(client, "delete_memory", user_id="u1")
    assert server.body() == {"user_id": "u1", "writable_cube_ids": ["u1"]}
    call(client, "delete_memory", agent_id="a1")
    assert server.body() == {"filter": {"and": [{"info.agent_id": "a1"}]}}


def test_a_delete_the_server_reports_failed_with_code_200_raises(
    kind: str, server: FakeServer
) -> None:
    server.answers["/product/delete_memory"] = (
        200,
        {"code": 200, "message": "Failed to delete memories", "data": {"status": "failure"}},
    )
    client = selfhosted(kind, server).with_options(max_retries=0)
    with pytest.raises(MemOSError, match="did not delete: Failed to delete memories"):
        call(client, "delete_memory", memory_ids=["f1"])


def test_feedback_is_written_to_the_users_cube_with_a_task(
    client: Client, server: FakeServer
) -> None:
    task = call(
        client, "add_feedback", user_id="u1", conversation_id="c1", feedback_content="Blue."
    )
    sent = server.body()
    assert sent["history"] == []
    assert sent["feedback_content"] == "Blue."
    assert sent["session_id"] == "c1"
    assert sent["writable_cube_ids"] == ["u1"]
    assert task.status == "running"
    assert task_owner(str(task.task_id)) == "u1"


def test_chat_as_json_and_as_a_stream(client: Client, server: FakeServer) -> None:
    answer = call(client, "chat", user_id="u1", conversation_id="c1", query="What do I like?")
    assert server.paths == ["/product/chat/complete"]
    assert server.body()["session_id"] == "c1"
    assert server.body()["writable_cube_ids"] == ["u1"]
    assert answer.response == "You like strawberries."
    events = call(client, "chat_stream", user_id="u1", conversation_id="c1", query="What?")
    assert server.paths[-1] == "/product/chat/stream"
    assert "".join(event.data for event in events) == "Strawberries"


ADD = {"user_id": "u1", "conversation_id": "c"}
REFUSED: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("get_message", (), {"user_id": "u1", "conversation_id": "c1"}, "get/message"),
    ("create_knowledgebase", ("kb",), {}, "knowledge bases"),
    ("extract_memory", (MESSAGES,), {}, "extract/memory"),
    ("rerank", ("q", ["a"]), {}, "rerank"),
    ("update_memory", ("f1",), {"content": "x"}, "add_feedback"),
    ("add_message", (MESSAGES,), {**ADD, "allow_public": True}, "public memory"),
    ("add_message", (MESSAGES,), {**ADD, "source": "x"}, "info.source"),
    ("add_message", (MESSAGES,), {**ADD, "info": {"tags": "x"}}, "drops them"),
    ("search_memory", ("q",), {"user_id": "u1", "knowledgebase_ids": ["all"]}, "knowledge"),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "filter": {"public": {"and": [{"a": "x"}]}}},
        "public",
    ),
    ("chat", (), {**ADD, "query": "q", "tags": ["t"]}, "chat tags"),
    ("get_status", ("00000000-0000-0000-0000-000000000000",), {}, "not issued"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "says"), REFUSED)
def test_what_the_server_does_not_offer_is_refused_before_any_request(
    client: Client,
    server: FakeServer,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    says: str,
) -> None:
    with pytest.raises(MemOSInputError, match=says):
        call(client, method, *args, **kwargs)
    assert server.requests == []


def test_the_servers_validation_errors_and_unknown_tasks_become_the_clouds(
    client: Client, server: FakeServer
) -> None:
    server.answers["/product/search"] = (
        422,
        {"code": 422, "message": "Parameter validation error on POST /product/search"},
    )
    with pytest.raises(BadRequestError, match="Parameter validation error") as caught:
        call(client, "search_memory", "q", user_id="u1")
    assert caught.value.code == 40000
    server.answers["/product/scheduler/status"] = (
        404,
        {"code": 404, "message": "Task t not found for user u1", "data": None},
    )
    with pytest.raises(NotFoundError) as missing:
        call(client, "get_status", issue_task_id("u1"))
    assert missing.value.code == 50131


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000/memos", "http://127.0.0.1:8000/memos/product"]
)
def test_a_server_behind_a_path_prefix_keeps_it(
    kind: str, server: FakeServer, base_url: str
) -> None:
    call(selfhosted(kind, server, base_url=base_url), "search_memory", "q", user_id="u1")
    assert server.paths == ["/memos/product/search"]


def test_the_servers_api_key_travels_in_the_authorization_header(server: FakeServer) -> None:
    mock = httpx.MockTransport(server.handler)
    http = httpx.Client(transport=SelfHostedTransport(transport=mock))
    client = MemOSClient(api_key="krlk_test_not_a_secret", base_url=BASE_URL, http_client=http)
    client.search_memory("q", user_id="u1")
    assert server.requests[0].headers["authorization"] == "Token krlk_test_not_a_secret"


def test_task_ids_name_their_user_whatever_it_holds() -> None:
    for user in ("u1", "名字", "a.b/c d"):
        assert task_owner(issue_task_id(user)) == user


# ---- the mode chosen on the client ---------------------------------------------------------


@pytest.fixture
def wired(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    """The self-hosted mode's own connection to the server goes to ``server``."""

    def mock() -> httpx.MockTransport:
        return httpx.MockTransport(server.handler)

    monkeypatch.setattr("langchain_memos._selfhosted.transport.HTTP_TRANSPORT", mock)
    monkeypatch.setattr("langchain_memos._selfhosted.transport.ASYNC_HTTP_TRANSPORT", mock)
    return server


def chosen(kind: str, **options: Any) -> Client:
    if kind == "sync":
        return MemOSClient(**options)
    return AsyncMemOSClient(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"base_url": "http://memos.internal:8000", "selfhosted": True},
        {"base_url": "selfhosted+http://memos.internal:8000"},
        {"base_url": "http://memos.internal:8000", "selfhosted": SelfHostedOptions.of()},
    ],
)
def test_the_mode_is_one_option_or_one_url(
    kind: str, wired: FakeServer, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    client = chosen(kind, **options)
    call(client, "search_memory", "fruit", user_id="u1")
    assert [str(r.url) for r in wired.requests] == ["http://memos.internal:8000/product/search"]
    assert "authorization" not in wired.requests[0].headers


def test_every_component_switches_with_the_environment(
    wired: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMOS_BASE_URL", "selfhosted+http://memos.internal:8000")
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    docs = MemOSRetriever(user_id="u1", k=2).invoke("fruit")
    assert wired.paths == ["/product/search"]
    assert [doc.id for doc in docs] == ["f1", "p1"]


def test_the_cube_options_reach_the_server(kind: str, wired: FakeServer) -> None:
    options = SelfHostedOptions.of(readable_cube_ids=["{user_id}", "shared"])
    client = chosen(kind, base_url="http://127.0.0.1:8000", selfhosted=options)
    call(client, "search_memory", "fruit", user_id="u1")
    assert wired.body()["readable_cube_ids"] == ["u1", "shared"]


def test_a_key_over_plain_http_is_refused_and_no_key_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    MemOSClient(base_url="selfhosted+http://memos.internal:8000")
    with pytest.raises(ConfigurationError, match="clear text"):
        MemOSClient(api_key="krlk_x1", base_url="selfhosted+http://memos.internal:8000")
    MemOSClient(api_key="krlk_x1", base_url="selfhosted+https://memos.internal")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"selfhosted": True}, "needs the server's address"),
        ({"base_url": "selfhosted+http://127.0.0.1:8000", "embedded": ":memory:"}, "two places"),
        ({"base_url": "http://127.0.0.1:8000", "selfhosted": "yes"}, "True or a SelfHostedOptions"),
    ],
)
def test_a_contradictory_choice_is_refused(
    options: dict[str, Any], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMOS_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match=says):
        MemOSClient(**options)


def test_the_mode_mounts_its_own_transport_not_a_given_http_client() -> None:
    with httpx.Client() as http, pytest.raises(ConfigurationError, match="SelfHostedTransport"):
        MemOSClient(base_url="http://127.0.0.1:8000", selfhosted=True, http_client=http)


def test_a_conversations_clear_asks_for_no_views_the_server_has_not(
    wired: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cloud clear lists events and skills by view too; the server's get_memory takes none."""
    monkeypatch.setenv("MEMOS_BASE_URL", "selfhosted+http://memos.internal:8000")
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    MemOSChatMessageHistory("u1", "c1").clear()
    assert wired.paths.count("/product/get_memory") == 1  # one listing, no refusal


@pytest.mark.parametrize(
    "content",
    [
        b"<html>maintenance</html>",  # a proxy's page: an empty listing before
        b'{"code": 200, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError
    ],
)
def test_an_answer_that_is_not_the_servers_is_reported(
    kind: str, server: FakeServer, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setattr(server, "handler", lambda request: httpx.Response(200, content=content))
    with pytest.raises(APIResponseValidationError):
        call(selfhosted(kind, server), "get_memory", user_id="u1")
