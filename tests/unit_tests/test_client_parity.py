"""What the official SDK's ``MemOSClient`` can send, both clients send, and check first.

One row per parameter or endpoint the SDK has that this package lacked: what the caller passes,
the body that goes out. Then the rules checked before any request (memory views, subjects,
delete modes, profiles), and the response lists of the newer views, as typed models.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos import MemOSInputError
from langchain_memos.types import (
    EventDetail,
    MemoryListResult,
    MessageDetail,
    OperationResult,
    ProfileDetail,
    SearchMemoryResult,
    TaskResult,
)
from tests.fakes import Client, FakeMemOS, call, envelope
from tests.integration_tests.doc_views import EVENT as DOCUMENTED_EVENT
from tests.integration_tests.doc_views import PROFILE_FIELDS

HI = [{"role": "user", "content": "I'm a product manager based in Hangzhou."}]
TASK = {"success": True, "task_id": "t-1", "status": "running"}
CHAT = {
    "user_id": "u1",
    "conversation_id": "c1",
    "query": "hi",
    "internet_search": True,
    "force_stop": False,
    "use_mem_os_cube": False,
    "async_mode": False,
    "include_tool_memory": True,
    "tool_memory_limit_number": 4,
}

# (method, args, kwargs, path, body sent)
SENT: list[tuple[str, tuple[Any, ...], dict[str, Any], str, dict[str, Any]]] = [
    # add/message: an agent's own memories, several users, no conversation, chosen views
    ("add_message", (HI,), {"agent_id": "a1"}, "/add/message", {"agent_id": "a1", "messages": HI}),
    (
        "add_message",
        (HI,),
        {"user_id": ["u1", "u2"], "agent_id": ["a1", "a2"]},
        "/add/message",
        {"user_id": ["u1", "u2"], "agent_id": ["a1", "a2"], "messages": HI},
    ),
    (
        "add_message",
        (HI,),
        {"user_id": "u1", "allow_memory_view": ["profile", "detail_factual", "preference"]},
        "/add/message",
        {
            "user_id": "u1",
            "messages": HI,
            "allow_memory_view": ["profile", "detail_factual", "preference"],
        },
    ),
    # search/memory: by agent, views with one shared budget, the context format
    (
        "search_memory",
        ("q",),
        {"agent_id": "a1"},
        "/search/memory",
        {"query": "q", "agent_id": "a1"},
    ),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["event", "profile"], "memory_limit_number": 25},
        "/search/memory",
        {
            "query": "q",
            "user_id": "u1",
            "include_memory_view": ["event", "profile"],
            "memory_limit_number": 25,
        },
    ),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "context_format": "json"},
        "/search/memory",
        {"query": "q", "user_id": "u1", "context_format": "json"},
    ),
    # get/memory: by agent, views, a filter
    (
        "get_memory",
        (),
        {
            "agent_id": "a1",
            "include_memory_view": ["profile"],
            "filter": {"and": [{"tags": {"contains": "x"}}]},
        },
        "/get/memory",
        {
            "agent_id": "a1",
            "include_memory_view": ["profile"],
            "filter": {"and": [{"tags": {"contains": "x"}}]},
        },
    ),
    # get/message: how many conversations, a channel
    (
        "get_message",
        (),
        {"user_id": "u1", "conversation_id": "c1", "conversation_limit_number": 3, "source": "web"},
        "/get/message",
        {"user_id": "u1", "conversation_id": "c1", "conversation_limit_number": 3, "source": "web"},
    ),
    # delete/memory: by filter, by type
    (
        "delete_memory",
        (),
        {"filter": {"and": [{"agent_id": "a1"}]}},
        "/delete/memory",
        {"filter": {"and": [{"agent_id": "a1"}]}},
    ),
    (
        "delete_memory",
        (),
        {"user_id": "u1", "memory_type": "UserMemory"},
        "/delete/memory",
        {"user_id": "u1", "memory_type": "UserMemory"},
    ),
    (
        "delete_memory",
        (),
        {"memory_ids": ["m1"], "memory_type": "PreferenceMemory"},
        "/delete/memory",
        {"memory_ids": ["m1"], "memory_type": "PreferenceMemory"},
    ),
    (
        "delete_memory",
        (),
        {"filter": {"and": [{"scene": "chat"}]}, "memory_type": "EventMemory"},
        "/delete/memory",
        {"filter": {"and": [{"scene": "chat"}]}, "memory_type": "EventMemory"},
    ),
    # chat: the fields the SDK sends
    ("chat", (), CHAT, "/chat", {**CHAT, "stream": False}),
    # add/feedback: the conversation that gives the correction its context
    (
        "add_feedback",
        (),
        {"user_id": "u1", "conversation_id": "c1", "feedback_content": "I moved to Nanjing"},
        "/add/feedback",
        {"user_id": "u1", "conversation_id": "c1", "feedback_content": "I moved to Nanjing"},
    ),
    # the profile endpoints
    (
        "bind_profile_template",
        (
            [
                {"user_id": "u1", "profile_template_id": "tpl_user_001"},
                {"agent_id": "a1", "profile_template_id": "tpl_agent"},
            ],
        ),
        {},
        "/bind/profile_template",
        {
            "bind_list": [
                {"profile_template_id": "tpl_user_001", "user_id": "u1"},
                {"profile_template_id": "tpl_agent", "agent_id": "a1"},
            ]
        },
    ),
    (
        "edit_profile",
        ("tpl_user_001",),
        {
            "user_id": "u1",
            "metadata": {
                "Basic Info": {"Location": {"value": "Shanghai", "algorithm_updatable": False}}
            },
            "remove_fields": ["Basic Info.Occupation"],
        },
        "/edit/profile",
        {
            "user_id": "u1",
            "profile_template_id": "tpl_user_001",
            "metadata": {
                "Basic Info": {"Location": {"value": "Shanghai", "algorithm_updatable": False}}
            },
            "remove_fields": ["Basic Info.Occupation"],
        },
    ),
    (
        "delete_profile",
        ("tpl_user_001",),
        {"agent_id": "a1"},
        "/delete/profile",
        {"agent_id": "a1", "profile_template_id": "tpl_user_001"},
    ),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "path", "body"),
    SENT,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(SENT)],
)
def test_what_the_sdk_sends_both_clients_send(
    client: Client,
    fake: FakeMemOS,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
    body: dict[str, Any],
) -> None:
    fake.replies = [
        envelope(TASK if path in ("/add/message", "/add/feedback") else {"success": True})
    ]
    call(client, method, *args, **kwargs)
    assert fake.paths == [path]
    assert fake.bodies == [body]


@pytest.mark.parametrize("method", ["bind_profile_template", "edit_profile", "delete_profile"])
def test_the_profile_endpoints_answer_an_operation_result(
    client: Client, fake: FakeMemOS, method: str
) -> None:
    row = next(row for row in SENT if row[0] == method)
    fake.replies = [envelope({"success": True})]
    result = call(client, method, *row[1], **row[2])
    assert isinstance(result, OperationResult)
    assert result.success is True


def test_an_add_without_a_conversation_returns_the_task(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [envelope(TASK)]
    result = call(client, "add_message", HI, user_id="u1")
    assert isinstance(result, TaskResult)
    assert "conversation_id" not in fake.bodies[0]


# ---- refused before any request -------------------------------------------------------------

REFUSED: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("add_message", (HI,), {}, "add_message needs user_id or agent_id"),
    ("add_message", (HI,), {"user_id": []}, "user_id must not be empty"),
    ("add_message", (HI,), {"user_id": ["u1", " u2"]}, "user_id[1]"),
    ("add_message", (HI,), {"agent_id": "a1", "conversation_id": ""}, "conversation_id must be"),
    (
        "add_message",
        (HI,),
        {"user_id": "u1", "allow_memory_view": ["facts"]},
        "unknown memory views ['facts']",
    ),
    ("add_message", (HI,), {"user_id": "u1", "allow_memory_view": "profile"}, "list of strings"),
    ("search_memory", ("q",), {}, "exactly one of user_id or agent_id; got neither"),
    ("search_memory", ("q",), {"user_id": "u1", "agent_id": "a1"}, "filter={'and': [{'agent_id'"),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["profiles"]},
        "unknown memory views",
    ),
    ("search_memory", ("q",), {"user_id": "u1", "include_memory_view": []}, "must not be empty"),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["event", "event"]},
        "names a view twice",
    ),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["event"], "include_preference": True},
        "include_memory_view replaces include_preference",
    ),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["skill"], "skill_limit_number": 3},
        "replaces skill_limit_number",
    ),
    (
        "search_memory",
        ("q",),
        {"user_id": "u1", "include_memory_view": ["event", "profile"], "memory_limit_number": 26},
        "between 1 and 25",
    ),
    ("search_memory", ("q",), {"user_id": "u1", "context_format": " "}, "context_format must be"),
    ("get_memory", (), {"user_id": "u1", "agent_id": "a1"}, "got both"),
    (
        "get_memory",
        (),
        {"agent_id": "a1", "include_memory_view": ["tool_memory"], "include_tool_memory": False},
        "replaces include_tool_memory",
    ),
    (
        "get_message",
        (),
        {"user_id": "u1", "conversation_id": "c1", "conversation_limit_number": 0},
        "conversation_limit_number must be at least 1",
    ),
    (
        "delete_memory",
        (),
        {"memory_ids": ["m1"], "filter": {"and": [{"agent_id": "a"}]}},
        "pass exactly one of",
    ),
    ("delete_memory", (), {"user_id": "u1", "agent_id": "a1"}, "pass exactly one of"),
    ("delete_memory", (), {"user_id": "u1", "memory_type": ""}, "memory_type must be"),
    ("delete_memory", (), {"filter": {}}, "filter"),
    ("delete_memory", (), {"memory_type": "UserMemory"}, "got none"),
    (
        "chat",
        (),
        {"user_id": "u1", "conversation_id": "c1", "query": "q", "internet_search": "yes"},
        "internet_search must be True or False",
    ),
    (
        "chat",
        (),
        {"user_id": "u1", "conversation_id": "c1", "query": "q", "tool_memory_limit_number": 26},
        "between 1 and 25",
    ),
    ("bind_profile_template", ([],), {}, "bind_list must not be empty"),
    (
        "bind_profile_template",
        ({"user_id": "u1", "profile_template_id": "t"},),
        {},
        "bind_list must be a list",
    ),
    (
        "bind_profile_template",
        ([{"user_id": "u1"}],),
        {},
        "profile_template_id must be a non-empty string",
    ),
    (
        "bind_profile_template",
        ([{"user_id": "u1", "agent_id": "a1", "profile_template_id": "t"}],),
        {},
        "bind_list[0] takes exactly one of user_id or agent_id; got both",
    ),
    (
        "bind_profile_template",
        ([{"user": "u1", "profile_template_id": "t"}],),
        {},
        "bind_list[0] holds ['user']",
    ),
    ("edit_profile", ("t",), {"user_id": "u1"}, "needs metadata, remove_fields or both"),
    ("edit_profile", ("t",), {"metadata": {"A": {"B": {"value": "x"}}}}, "got neither"),
    (
        "edit_profile",
        ("t",),
        {"user_id": "u1", "metadata": {}},
        "metadata must be a non-empty dict",
    ),
    (
        "edit_profile",
        ("t",),
        {"user_id": "u1", "metadata": {"A": "x"}},
        "metadata['A'] must be a category",
    ),
    (
        "edit_profile",
        ("t",),
        {"user_id": "u1", "metadata": {"A": {"B": {"value": "x", "algorithm_updatable": "no"}}}},
        "['algorithm_updatable'] must be True or False",
    ),
    (
        "edit_profile",
        ("t",),
        {"user_id": "u1", "metadata": {"A": {"B": {"C": {"D": "x"}}}}},
        "nests deeper than a profile template's 3 levels",
    ),
    (
        "edit_profile",
        ("t",),
        {"user_id": "u1", "remove_fields": []},
        "remove_fields must not be empty",
    ),
    ("delete_profile", ("",), {"user_id": "u1"}, "profile_template_id must be a non-empty string"),
    ("delete_profile", ("t",), {}, "delete_profile takes exactly one of user_id or agent_id"),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "says"),
    REFUSED,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(REFUSED)],
)
def test_rules_are_checked_before_any_request(
    client: Client,
    fake: FakeMemOS,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    says: str,
) -> None:
    with pytest.raises(MemOSInputError) as caught:
        call(client, method, *args, **kwargs)
    assert says in str(caught.value)
    assert fake.requests == []


# ---- the newer views' lists, typed ----------------------------------------------------------

# The profile page's search example, and the event memory page's.
PROFILE, EVENT = PROFILE_FIELDS[0], DOCUMENTED_EVENT


def test_search_returns_profiles_events_and_messages_as_models(
    client: Client, fake: FakeMemOS
) -> None:
    fake.replies = [
        envelope(
            {
                "profile_detail_list": [PROFILE],
                "event_detail_list": [EVENT],
                "message_detail_list": [{"role": "user", "content": "hi", "create_time": 1}],
            }
        )
    ]
    found = call(
        client, "search_memory", "q", user_id="u1", include_memory_view=["profile", "event"]
    )
    assert isinstance(found, SearchMemoryResult)
    (profile,) = found.profile_detail_list
    assert isinstance(profile, ProfileDetail)
    assert profile.profile_path == "Basic Info.Occupation"
    assert profile.algorithm_updatable is True
    assert profile.relativity == pytest.approx(0.6782)
    (event,) = found.event_detail_list
    assert isinstance(event, EventDetail)
    assert event.event_time == ["上周二下午", "七月底"]
    assert event.event_roles == ["用户", "李四", "客户"]
    assert event.created_at is not None
    assert isinstance(found.message_detail_list[0], MessageDetail)
    assert len(found) == 2  # recalled memories; a message is not one


def test_listing_returns_profiles_and_events_and_null_lists_read_empty(
    client: Client, fake: FakeMemOS
) -> None:
    fake.replies = [
        envelope(
            {
                "profile_detail_list": [PROFILE],
                "event_detail_list": None,
                "skill_detail_list": [{"id": "s1", "skill_value": {"name": "trip planning"}}],
                "total": 1,
            }
        )
    ]
    listing = call(client, "get_memory", agent_id="a1", include_memory_view=["profile"])
    assert isinstance(listing, MemoryListResult)
    assert listing.profile_detail_list[0].template_id == "tpl_bb0948b22fe7"
    assert listing.event_detail_list == []
    skill = listing.skill_detail_list[0]
    assert skill.skill_value is not None
    assert skill.skill_value.name == "trip planning"
