"""The SDK-parity calls through both clients on the embedded engine, which serves them all.

Until the engine learnt them (branch ``engineparity``) it refused what it did not implement with
a 400 naming the field, or a 404 for an endpoint it lacked; a row the engine does not serve is to
be marked with what it waits for, as ``xfail(strict=True)``, so that the mark fails the run the
day the engine serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from langchain_memos import AsyncMemOSClient, BadRequestError, MemOSClient
from langchain_memos.types import MemoryListResult, ProfileDetail, SearchMemoryResult
from tests.fakes import call

HI = [{"role": "user", "content": "I'm a product manager based in Hangzhou."}]
CONV = {"user_id": "u1", "conversation_id": "c1"}


def _no_facts(result: Any) -> None:
    """A call naming other views than ``detail_factual`` answers no facts."""
    assert isinstance(result, SearchMemoryResult | MemoryListResult)
    assert result.memory_detail_list == []


# (what the row shows, method, args, kwargs, check of the result)
ROWS: list[Any] = [
    pytest.param(
        "get_message",
        (),
        {**CONV, "conversation_limit_number": 2},
        None,
        id="get-message-conversation-limit",
    ),
    pytest.param(
        "delete_memory",
        (),
        {"user_id": "u1", "memory_type": "UserMemory"},
        None,
        id="delete-by-type",
    ),
    pytest.param(
        "add_feedback",
        (),
        {**CONV, "feedback_content": "I moved to Shanghai"},
        None,
        id="feedback-conversation",
    ),
    pytest.param(
        "add_message",
        (HI,),
        {"agent_id": "a1", "conversation_id": "c1"},
        None,
        id="add-agent-alone",
    ),
    pytest.param(
        "add_message",
        (HI,),
        {"user_id": "u1"},
        None,
        id="add-no-conversation",
    ),
    pytest.param(
        "add_message",
        (HI,),
        {"user_id": ["u1", "u2"], "conversation_id": "c1"},
        None,
        id="add-user-list",
    ),
    pytest.param(
        "add_message",
        (HI,),
        {**CONV, "allow_memory_view": ["event"]},
        None,
        id="add-views",
    ),
    pytest.param(
        "search_memory",
        ("q",),
        {"agent_id": "a1"},
        None,
        id="search-agent-alone",
    ),
    pytest.param(
        "get_memory",
        (),
        {"agent_id": "a1"},
        None,
        id="get-agent-alone",
    ),
    pytest.param(
        "search_memory",
        ("Hangzhou",),
        {"user_id": "u1", "include_memory_view": ["profile"], "relativity": 0},
        _no_facts,
        id="search-views",
    ),
    pytest.param(
        "get_memory",
        (),
        {"user_id": "u1", "include_memory_view": ["profile"]},
        _no_facts,
        id="get-views",
    ),
    pytest.param(
        "delete_memory",
        (),
        {"filter": {"and": [{"agent_id": "a1"}]}},
        None,
        id="delete-by-filter",
    ),
    pytest.param(
        "bind_profile_template",
        ([{"user_id": "u1", "profile_template_id": "tpl"}],),
        {},
        None,
        id="bind-profile",
    ),
]


@pytest.fixture(params=["sync", "async"])
def engine_client(request: pytest.FixtureRequest) -> Iterator[MemOSClient | AsyncMemOSClient]:
    """A client on a fresh embedded engine holding one fact of ``u1`` in ``c1``."""
    client = _client(request.param)
    call(client, "add_message", HI, **CONV, async_mode=False)
    yield client
    _close(client)


def _client(kind: str) -> MemOSClient | AsyncMemOSClient:
    return (
        MemOSClient(embedded=":memory:")
        if kind == "sync"
        else AsyncMemOSClient(embedded=":memory:")
    )


def _close(client: MemOSClient | AsyncMemOSClient) -> None:
    call(client, "close" if isinstance(client, MemOSClient) else "aclose")


@pytest.mark.parametrize(("method", "args", "kwargs", "check"), ROWS)
def test_the_engine_serves_the_sdk_parity_calls(
    engine_client: MemOSClient | AsyncMemOSClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    check: Callable[[Any], None] | None,
) -> None:
    result = call(engine_client, method, *args, **kwargs)
    if check is not None:
        check(result)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_chat_with_the_sdk_fields_answers_the_hosted_model_error(kind: str) -> None:
    # Chat needs a MemOS-hosted model: the engine answers the documented error envelope, and
    # the SDK's chat fields do not change that into something else.
    client = (
        MemOSClient(embedded=":memory:")
        if kind == "sync"
        else AsyncMemOSClient(embedded=":memory:")
    )
    with pytest.raises(BadRequestError, match="hosted model"):
        call(
            client,
            "chat",
            **CONV,
            query="q",
            internet_search=False,
            include_tool_memory=True,
            tool_memory_limit_number=3,
        )


def test_a_profile_is_bound_edited_recalled_and_deleted(
    engine_client: MemOSClient | AsyncMemOSClient,
) -> None:
    location = {"Basic Info": {"Location": {"value": "Shanghai", "algorithm_updatable": False}}}
    profile = {"user_id": "u1", "include_memory_view": ["profile"], "relativity": 0}
    call(engine_client, "bind_profile_template", [{"user_id": "u1", "profile_template_id": "tpl"}])
    call(engine_client, "edit_profile", "tpl", user_id="u1", metadata=location)

    found = call(engine_client, "search_memory", "Where does the user live?", **profile)
    (field,) = found.profile_detail_list
    assert isinstance(field, ProfileDetail)
    assert (field.profile_path, field.algorithm_updatable) == ("Basic Info.Location", False)
    assert field.memory is not None
    assert "Shanghai" in field.memory

    call(engine_client, "delete_profile", "tpl", user_id="u1")
    after = call(engine_client, "search_memory", "Where does the user live?", **profile)
    assert after.profile_detail_list == []
