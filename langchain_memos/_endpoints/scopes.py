"""What several endpoints share: the JSON ``POST`` most of them make, and the request fields
they have in common (filters, recall limits, write and recall scopes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, get_args

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._config import check_timeout
from langchain_memos._constants import MAX_RECALL_LIMIT
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_fraction,
    check_id,
    check_info,
    check_int,
    check_optional_id,
    check_str_list,
)
from langchain_memos.filters import validate_filter
from langchain_memos.types import Filter, MemoryView

MEMORY_VIEWS: tuple[str, ...] = get_args(MemoryView)
"""The memory views MemOS documents, by the names its requests use."""

# What include_memory_view replaces: MemOS ignores these once views are named.
_PER_KIND_OPTIONS = (
    "include_preference",
    "preference_limit_number",
    "include_tool_memory",
    "tool_memory_limit_number",
    "include_skill",
    "skill_limit_number",
)

T = TypeVar("T")


def post(
    path: str,
    response_type: type[T],
    body: dict[str, Any],
    *,
    timeout: float | httpx.Timeout | None,
    write: bool = False,
    enveloped: bool = True,
    finish: Callable[[T], T] | None = None,
) -> APIRequest[T]:
    """A JSON ``POST`` of ``body`` to ``path``, with this call's ``timeout`` checked.

    ``write`` marks a call that is not idempotent (see :class:`APIRequest`); ``timeout`` is the
    caller's option for this call, ``None`` for the client's.
    """
    return APIRequest(
        "POST",
        path,
        response_type,
        body=body,
        write=write,
        enveloped=enveloped,
        finish=finish,
        timeout=check_timeout(timeout),
    )


def check_filter(value: Filter | None) -> dict[str, Any] | None:
    """A filter checked by :func:`validate_filter`; ``None`` stays ``None``."""
    return None if value is None else validate_filter(value)


def check_recall_limit(name: str, value: object) -> int | None:
    """How many items of one kind a recall may return: 1 to ``MAX_RECALL_LIMIT``."""
    return check_int(name, value, low=1, high=MAX_RECALL_LIMIT)


def write_scope(
    agent_id: str | None,
    app_id: str | None,
    allow_public: bool | None,
    allow_knowledgebase_ids: Sequence[str] | None,
    *,
    tags: Sequence[str] | None = None,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields that say where a write's memories go (add/message, chat, add/feedback)."""
    return drop_none(
        agent_id=check_optional_id("agent_id", agent_id),
        app_id=check_optional_id("app_id", app_id),
        tags=check_str_list("tags", tags),
        info=check_info(info),
        allow_public=check_bool("allow_public", allow_public),
        allow_knowledgebase_ids=check_str_list("allow_knowledgebase_ids", allow_knowledgebase_ids),
    )


def recall_scope(
    filter: Filter | None,
    knowledgebase_ids: Sequence[str] | None,
    memory_limit_number: int | None,
    relativity: float | None,
) -> dict[str, Any]:
    """The fields that say what a recall may return (search/memory, chat); which kinds of
    memory, :func:`view_scope`."""
    return drop_none(
        filter=check_filter(filter),
        knowledgebase_ids=check_str_list("knowledgebase_ids", knowledgebase_ids),
        memory_limit_number=check_recall_limit("memory_limit_number", memory_limit_number),
        relativity=check_fraction("relativity", relativity),
    )


def check_ids(name: str, value: object) -> str | list[str] | None:
    """One id, or a non-empty list of them (``add_message``'s ``user_id`` and ``agent_id``)."""
    if value is None or isinstance(value, str):
        return check_optional_id(name, value)
    return check_str_list(name, value, allow_empty=False, check=check_id)


def one_subject(
    operation: str, user_id: object, agent_id: object, *, reads: bool = False
) -> dict[str, Any]:
    """Exactly one of ``user_id`` and ``agent_id``: whose memories or profile a call is for.

    An agent alone needs the project's independent agent memory. A read (``reads``) of one
    user's memories of one agent is the user's, scoped by a filter, and the error says so.
    """
    if (user_id is None) == (agent_id is None):
        given = "both" if user_id is not None else "neither"
        hint = (
            " (for one user's memories of one agent, pass user_id and "
            "filter={'and': [{'agent_id': ...}]})"
            if reads and given == "both"
            else ""
        )
        raise MemOSInputError(
            f"{operation} takes exactly one of user_id or agent_id; got {given}{hint}"
        )
    if user_id is not None:
        return {"user_id": check_id("user_id", user_id)}
    return {"agent_id": check_id("agent_id", agent_id)}


def check_views(name: str, value: object) -> list[str] | None:
    """A list of memory views, each one MemOS documents, none twice."""
    views = check_str_list(name, value, allow_empty=False)
    if views is None:
        return None
    unknown = [view for view in views if view not in MEMORY_VIEWS]
    if unknown:
        raise MemOSInputError(
            f"{name} holds unknown memory views {unknown}; MemOS knows {list(MEMORY_VIEWS)}"
        )
    if len(set(views)) != len(views):
        raise MemOSInputError(f"{name} names a view twice: {views}")
    return views


def view_scope(include_memory_view: object, **per_kind: object) -> dict[str, Any]:
    """``include_memory_view``, or the per-kind options it replaces: never both.

    Once views are named, MemOS ignores ``include_preference``, ``include_tool_memory``,
    ``include_skill`` and their limits, and ``memory_limit_number`` is the budget of all the
    views together; a per-kind option passed with views would be silently dropped, so it is
    refused.
    """
    views = check_views("include_memory_view", include_memory_view)
    given = [name for name in _PER_KIND_OPTIONS if per_kind.get(name) is not None]
    if views is not None and given:
        raise MemOSInputError(
            f"include_memory_view replaces {', '.join(given)}: MemOS ignores them once views are "
            "named, and memory_limit_number is then the budget of all the views together; name "
            "the views instead, e.g. include_memory_view=['detail_factual', 'preference']"
        )
    return drop_none(
        include_memory_view=views,
        include_preference=check_bool("include_preference", per_kind.get("include_preference")),
        preference_limit_number=check_recall_limit(
            "preference_limit_number", per_kind.get("preference_limit_number")
        ),
        include_tool_memory=check_bool("include_tool_memory", per_kind.get("include_tool_memory")),
        tool_memory_limit_number=check_recall_limit(
            "tool_memory_limit_number", per_kind.get("tool_memory_limit_number")
        ),
        include_skill=check_bool("include_skill", per_kind.get("include_skill")),
        skill_limit_number=check_recall_limit(
            "skill_limit_number", per_kind.get("skill_limit_number")
        ),
    )
