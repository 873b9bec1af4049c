"""The endpoints of messages and memories: add, search, list, read, update and delete them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._config import check_timeout
from langchain_memos._constants import MAX_MESSAGE_LIMIT, MAX_PAGE_SIZE
from langchain_memos._endpoints.scopes import (
    check_filter,
    check_ids,
    check_views,
    one_subject,
    post,
    recall_scope,
    view_scope,
    write_scope,
)
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_id,
    check_int,
    check_memos_id,
    check_messages,
    check_optional_id,
    check_optional_str,
    check_optional_text,
    check_str_list,
    check_text,
    exactly_one,
)
from langchain_memos.types import (
    Filter,
    MemoryDetail,
    MemoryListResult,
    MemoryView,
    MessageInput,
    MessageListResult,
    OperationResult,
    SearchMemoryResult,
    TaskResult,
)


def add_message(
    messages: Sequence[MessageInput],
    *,
    user_id: str | Sequence[str] | None = None,
    conversation_id: str | None = None,
    agent_id: str | Sequence[str] | None = None,
    app_id: str | None = None,
    tags: Sequence[str] | None = None,
    info: dict[str, str | int | float | list[str]] | None = None,
    allow_public: bool | None = None,
    allow_knowledgebase_ids: Sequence[str] | None = None,
    allow_memory_view: Sequence[MemoryView] | None = None,
    async_mode: bool | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[TaskResult]:
    """Hand raw conversation turns to MemOS, which abstracts them into memories.

    The SDK's ``add_message``, with the same names. At least one of ``user_id`` and ``agent_id``
    says whose memories these become; either may be a list, to write the same turns for several.

    Args:
        messages: OpenAI-style messages (``role`` user/assistant/system/tool, ``content`` a string
            or text/image_url/file parts, optional ``chat_time``, ``tool_calls``,
            ``tool_call_id``). One request carries at most 40k tokens.
        user_id: Whose memories these become (at most 100 characters), or a list of users.
        conversation_id: The conversation the turns belong to (at most 100 characters);
            without it MemOS makes one.
        agent_id: Isolates memories per agent, or alone makes them the agent's own (the
            project's independent agent memory); a list for several agents.
        app_id: Isolates memories per application.
        tags: Candidate tags; MemOS picks the matching ones.
        info: Flat metadata, filterable by key.
        allow_public: Also write to the project's public memory.
        allow_knowledgebase_ids: Also write the memories into these knowledge bases.
        allow_memory_view: Generate only these views (``detail_factual``, ``preference``,
            ``profile``, ``event``, ``skill``, ``tool_memory``; default: all of them).
        async_mode: ``True`` (the service default) returns at once with a ``task_id`` to poll;
            ``False`` returns after processing.
        source: A channel tag.
        timeout: Seconds or an ``httpx.Timeout`` for this call (default: the client's).

    Returns:
        The task: ``status`` is ``running`` in async mode, ``completed`` in sync mode.

    Example:
        >>> client.add_message(
        ...     [{"role": "user", "content": "I always travel with my kids."}],
        ...     user_id="u1",
        ...     conversation_id="c1",
        ... )
    """
    if user_id is None and agent_id is None:
        raise MemOSInputError("add_message needs user_id or agent_id: whose memories these become")
    body = drop_none(
        user_id=check_ids("user_id", user_id),
        conversation_id=check_optional_id("conversation_id", conversation_id),
        messages=check_messages(messages),
        agent_id=check_ids("agent_id", agent_id),
        **write_scope(None, app_id, allow_public, allow_knowledgebase_ids, tags=tags, info=info),
        allow_memory_view=check_views("allow_memory_view", allow_memory_view),
        async_mode=check_bool("async_mode", async_mode),
        source=check_optional_str("source", source),
    )
    return post("/add/message", TaskResult, body, write=True, timeout=timeout)


def search_memory(
    query: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    conversation_id: str | None = None,
    filter: Filter | None = None,
    knowledgebase_ids: Sequence[str] | None = None,
    include_memory_view: Sequence[MemoryView] | None = None,
    memory_limit_number: int | None = None,
    include_preference: bool | None = None,
    preference_limit_number: int | None = None,
    include_tool_memory: bool | None = None,
    tool_memory_limit_number: int | None = None,
    include_skill: bool | None = None,
    skill_limit_number: int | None = None,
    relativity: float | None = None,
    context_format: str | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[SearchMemoryResult]:
    """Recall the memories relevant to ``query``, from every view asked for.

    The SDK's ``search_memory``, with the same names. Unset options take the service's
    defaults (facts and preferences, 9 of each, relativity 0.45).

    Args:
        query: What to recall memories for.
        user_id: Whose memories to search (exactly one of ``user_id`` and ``agent_id``).
        agent_id: Search an agent's own memories instead (independent agent memory).
        conversation_id: Boosts (does not restrict to) this conversation's memories.
        filter: Scope the search first; see :mod:`langchain_memos.filters`.
        knowledgebase_ids: Knowledge bases to search too (``["all"]`` for every linked one).
        include_memory_view: The views to recall (``detail_factual``, ``preference``,
            ``profile``, ``event``, ``skill``, ``tool_memory``). It replaces the per-kind
            ``include_*`` options and limits below, which cannot be combined with it, and makes
            ``memory_limit_number`` the budget of all the views together.
        memory_limit_number: At most this many facts (1-25), or memories of all the named views.
        include_preference: Recall preferences too.
        preference_limit_number: At most this many preferences (1-25).
        include_tool_memory: Recall tool memories too.
        tool_memory_limit_number: At most this many tool memories (1-25).
        include_skill: Recall skills too.
        skill_limit_number: At most this many skills (1-25).
        relativity: Minimum relevance in 0..1 (the service's default is 0.45); 0 disables
            the threshold. On the embedded engine a memory's relativity is the share of the
            query it and the turns said around it answer, counting query words no memory
            holds, so 0.45 keeps memories answering about half the question (README,
            "relativity").
        context_format: How the service formats the recalled context (the SDK's default is
            ``"memory"``).
        source: A channel tag.
        timeout: Seconds or an ``httpx.Timeout`` for this call (default: the client's).

    Example:
        >>> result = client.search_memory("Where should we travel?", user_id="u1")
        >>> [m.memory_value for m in result.memory_detail_list]
    """
    body = drop_none(
        query=check_text("query", query),
        **one_subject("search_memory", user_id, agent_id, reads=True),
        conversation_id=check_optional_id("conversation_id", conversation_id),
        **recall_scope(filter, knowledgebase_ids, memory_limit_number, relativity),
        **view_scope(
            include_memory_view,
            include_preference=include_preference,
            preference_limit_number=preference_limit_number,
            include_tool_memory=include_tool_memory,
            tool_memory_limit_number=tool_memory_limit_number,
            include_skill=include_skill,
            skill_limit_number=skill_limit_number,
        ),
        context_format=check_optional_text("context_format", context_format),
        source=check_optional_str("source", source),
    )
    return post("/search/memory", SearchMemoryResult, body, timeout=timeout)


def get_memory(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    page: int | None = None,
    size: int | None = None,
    filter: Filter | None = None,
    include_memory_view: Sequence[MemoryView] | None = None,
    include_preference: bool | None = None,
    include_tool_memory: bool | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[MemoryListResult]:
    """List one page of a user's (or an agent's) memories.

    The SDK's ``get_memory``, with the same names.

    Args:
        user_id: Whose memories to list (exactly one of ``user_id`` and ``agent_id``).
        agent_id: List an agent's own memories instead.
        page: Page number, from 1 (default 1).
        size: Memories per kind and page, 1-50 (default 10).
        filter: Only memories matching this filter.
        include_memory_view: The views to list; replaces ``include_preference`` and
            ``include_tool_memory``, which cannot be combined with it.
        include_preference: List preferences too (default true).
        include_tool_memory: List tool memories too (default true).
    """
    body = drop_none(
        **one_subject("get_memory", user_id, agent_id, reads=True),
        page=check_int("page", page, low=1),
        size=check_int("size", size, low=1, high=MAX_PAGE_SIZE),
        filter=check_filter(filter),
        **view_scope(
            include_memory_view,
            include_preference=include_preference,
            include_tool_memory=include_tool_memory,
        ),
    )
    return post("/get/memory", MemoryListResult, body, timeout=timeout)


def get_memory_by_id(
    memory_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[MemoryDetail]:
    """Fetch one memory by id, with its ``metadata.sources`` (where it came from).

    The SDK's ``get_memory_by_id``; its ``memid`` is ``memory_id`` here. Events can be fetched
    so, profile fields cannot (the event memory page).
    """
    path = "/get/memory/" + quote(check_memos_id("memory_id", memory_id), safe="")
    return APIRequest("GET", path, MemoryDetail, timeout=check_timeout(timeout))


def get_message(
    *,
    user_id: str,
    conversation_id: str,
    message_limit_number: int | None = None,
    conversation_limit_number: int | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[MessageListResult]:
    """Read the raw messages of one conversation, oldest first.

    The SDK's ``get_message``, with the same names (the SDK requires ``conversation_id`` too).

    Args:
        user_id: Whose conversation.
        conversation_id: Which conversation.
        message_limit_number: At most this many of the latest messages, 1-50 (default 6).
        conversation_limit_number: At most this many conversations (the SDK sends it; the API
            reference does not document it).
        source: A channel tag.
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_id("conversation_id", conversation_id),
        message_limit_number=check_int(
            "message_limit_number", message_limit_number, low=1, high=MAX_MESSAGE_LIMIT
        ),
        conversation_limit_number=check_int(
            "conversation_limit_number", conversation_limit_number, low=1
        ),
        source=check_optional_str("source", source),
    )
    return post("/get/message", MessageListResult, body, timeout=timeout)


def delete_memory(
    *,
    memory_ids: Sequence[str] | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    filter: Filter | None = None,
    memory_type: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Delete memories: pass exactly one of ``memory_ids``, ``user_id``, ``agent_id`` or ``filter``.

    The SDK's ``delete_memory``; its ``user_ids`` (a list the API allows one user in) is
    ``user_id`` here. ``user_id`` deletes **every** memory of that user in the project (facts,
    preferences, tool memories and skills); ``agent_id`` every memory of that agent; ``filter``
    every memory matching it. ``memory_type`` narrows any of them to the memories of one type,
    as the records carry it in ``memory_type`` (``UserMemory``, ``LongTermMemory``,
    ``PreferenceMemory``, ``ToolTrajectoryMemory``, ...): a type, not a view name.
    """
    mode = exactly_one(memory_ids=memory_ids, user_id=user_id, agent_id=agent_id, filter=filter)
    if mode == "memory_ids":
        body: dict[str, Any] = {
            "memory_ids": check_str_list(
                "memory_ids", memory_ids, allow_empty=False, check=check_memos_id
            )
        }
    elif mode == "filter":
        body = {"filter": check_filter(filter)}
    else:
        body = one_subject("delete_memory", user_id, agent_id)
    body.update(drop_none(memory_type=check_optional_text("memory_type", memory_type)))
    return post("/delete/memory", OperationResult, body, timeout=timeout)


def update_memory(
    memory_id: str,
    *,
    content: str | None = None,
    title: str | None = None,
    status: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Edit one memory's content, title or status (at least one of them).

    The SDK's ``update_memory``, with the same names.
    """
    if content is None and title is None and status is None:
        raise MemOSInputError("update_memory needs at least one of content, title or status")
    body = drop_none(
        memory_id=check_memos_id("memory_id", memory_id),
        content=check_optional_str("content", content),
        title=check_optional_str("title", title),
        status=check_optional_str("status", status),
    )
    return post("/update/memory", OperationResult, body, timeout=timeout)
