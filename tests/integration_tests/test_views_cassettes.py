"""Both clients against recorded answers of the newer endpoint families: profiles, memory views
and agent-scoped memory, and the fields the official SDK sends (see ``cassettes/README.md``).

As in ``test_client_cassettes.py``, the sync and async test of a family replay one cassette,
and the assertions check what a caller relies on, not example text.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.types import (
    EventDetail,
    MemoryListResult,
    MessageInput,
    ProfileDetail,
    SearchMemoryResult,
    TaskResult,
)

# The profile page's add/message example, and its template.
PROFILE_TURNS: list[MessageInput] = [
    {
        "role": "user",
        "content": "I'm a product manager based in Hangzhou. "
        "I usually enjoy reading sci-fi novels and camping.",
    },
    {
        "role": "assistant",
        "content": "Got it — Hangzhou is a great place, with plenty of camping spots nearby.",
    },
]
TEMPLATE = "tpl_user_001"
LOCATION = {"Basic Info": {"Location": {"value": "Shanghai", "algorithm_updatable": False}}}
# The event memory page's add/message example.
EVENT_TURNS: list[MessageInput] = [
    {
        "role": "user",
        "content": "Last Tuesday afternoon I did a proposal review with Li Si. The customer liked "
        "the second version and wants delivery moved up to the end of July.",
    },
    {"role": "assistant", "content": "Got it. Want me to summarize the key conclusions?"},
]


def _user(family: str) -> str:
    return f"langchain-memos-cassettes-{family}"


AGENT = "langchain-memos-cassettes-agent"


def check_task(task: TaskResult) -> None:
    assert isinstance(task, TaskResult)
    assert task.success is True
    assert task.status in {"running", "completed"}


def profile_fields(found: SearchMemoryResult) -> dict[str, ProfileDetail]:
    """The recalled profile fields by path; nothing but the profile view was asked for."""
    assert isinstance(found, SearchMemoryResult)
    assert found.memory_detail_list == []
    assert found.preference_detail_list == []
    for field in found.profile_detail_list:
        assert isinstance(field, ProfileDetail)
        assert isinstance(field.memory, str)
        assert isinstance(field.profile_path, str)
        assert isinstance(field.algorithm_updatable, bool)
    return {field.profile_path or "": field for field in found.profile_detail_list}


def check_event(found: SearchMemoryResult) -> None:
    assert found.event_detail_list
    for event in found.event_detail_list:
        assert isinstance(event, EventDetail)
        assert isinstance(event.event_value, str)
        assert event.event_value
        assert all(isinstance(moment, str) for moment in event.event_time)
        assert event.created_at is not None


def check_budget(found: SearchMemoryResult, budget: int) -> None:
    """With views named, memory_limit_number bounds all of them together."""
    assert 0 < len(found) <= budget


def check_listing(listing: MemoryListResult) -> None:
    assert isinstance(listing, MemoryListResult)
    assert listing.memory_detail_list == []
    assert listing.event_detail_list
    assert isinstance(listing.event_detail_list[0], EventDetail)


# ---- profiles: bind, fill from a conversation, recall, edit and lock a field, delete -----------


def _profile_calls(user: str) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [
        ("bind_profile_template", ([{"user_id": user, "profile_template_id": TEMPLATE}],), {}),
        (
            "add_message",
            (PROFILE_TURNS,),
            {
                "user_id": user,
                "conversation_id": "conv_0624",
                "allow_memory_view": ["profile", "detail_factual", "preference"],
                "async_mode": False,
            },
        ),
        (
            "search_memory",
            ("What's this user's basic background?",),
            {"user_id": user, "include_memory_view": ["profile"]},
        ),
        ("edit_profile", (TEMPLATE,), {"user_id": user, "metadata": LOCATION}),
        (
            "search_memory",
            ("Where does the user live?",),
            {"user_id": user, "include_memory_view": ["profile"]},
        ),
        ("delete_profile", (TEMPLATE,), {"user_id": user}),
        (
            "search_memory",
            ("What's this user's basic background?",),
            {"user_id": user, "include_memory_view": ["profile"]},
        ),
        ("delete_memory", (), {"user_id": user}),
    ]


def check_profiles(results: list[Any]) -> None:
    bound, added, recalled, edited, moved, deleted, gone, cleared = results
    assert bound.success is True
    check_task(added)
    assert profile_fields(recalled)
    assert edited.success is True
    location = profile_fields(moved)["Basic Info.Location"]
    assert location.memory is not None
    assert "Shanghai" in location.memory
    assert location.algorithm_updatable is False  # locked by the edit
    assert deleted.success is True
    assert profile_fields(gone) == {}
    assert cleared.success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("profiles")
def test_profiles_sync(sync_client: MemOSClient) -> None:
    calls = _profile_calls(_user("profiles"))
    check_profiles([getattr(sync_client, name)(*args, **kwargs) for name, args, kwargs in calls])


@pytest.mark.vcr
@pytest.mark.default_cassette("profiles")
async def test_profiles_async(async_client: AsyncMemOSClient) -> None:
    calls = _profile_calls(_user("profiles"))
    check_profiles(
        [await getattr(async_client, name)(*args, **kwargs) for name, args, kwargs in calls]
    )


# ---- views and agents: an agent's own conversation-less memories, events, one shared budget ----


def _view_calls(user: str) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [
        (
            "add_message",
            (EVENT_TURNS,),
            {"agent_id": AGENT, "allow_memory_view": ["event", "detail_factual", "preference"]},
        ),
        (
            "search_memory",
            ("Any recent reviews or meetings?",),
            {"agent_id": AGENT, "include_memory_view": ["event"]},
        ),
        (
            "search_memory",
            ("国庆去哪玩",),
            {
                "user_id": user,
                "include_memory_view": ["detail_factual", "preference", "event"],
                "memory_limit_number": 3,
                "context_format": "memory",
            },
        ),
        (
            "get_memory",
            (),
            {"agent_id": AGENT, "include_memory_view": ["event"], "page": 1, "size": 10},
        ),
        (
            "get_message",
            (),
            {
                "user_id": user,
                "conversation_id": "0610",
                "conversation_limit_number": 1,
                "source": "langchain",
            },
        ),
        (
            "chat",
            (),
            {
                "user_id": user,
                "conversation_id": "0928",
                "query": "国庆去哪玩",
                "add_message_on_answer": False,
                "internet_search": False,
                "force_stop": False,
                "use_mem_os_cube": False,
                "async_mode": True,
                "include_tool_memory": True,
                "tool_memory_limit_number": 3,
            },
        ),
        (
            "delete_memory",
            (),
            {"filter": {"and": [{"agent_id": AGENT}]}, "memory_type": "EventMemory"},
        ),
        ("delete_memory", (), {"agent_id": AGENT}),
    ]


def check_views(results: list[Any]) -> None:
    added, agent_events, budgeted, listing, messages, answer, by_filter, by_agent = results
    check_task(added)
    check_event(agent_events)
    check_budget(budgeted, 3)
    check_listing(listing)
    assert messages.message_detail_list
    assert isinstance(answer.response, str)
    assert answer.response
    assert by_filter.success is True
    assert by_agent.success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("views")
def test_views_sync(sync_client: MemOSClient) -> None:
    calls = _view_calls(_user("views"))
    check_views([getattr(sync_client, name)(*args, **kwargs) for name, args, kwargs in calls])


@pytest.mark.vcr
@pytest.mark.default_cassette("views")
async def test_views_async(async_client: AsyncMemOSClient) -> None:
    calls = _view_calls(_user("views"))
    check_views(
        [await getattr(async_client, name)(*args, **kwargs) for name, args, kwargs in calls]
    )
