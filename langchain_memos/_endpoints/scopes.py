"""What several endpoints share: the JSON ``POST`` most of them make, and the request fields
they have in common (filters, recall limits, write and recall scopes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._config import check_timeout
from langchain_memos._constants import MAX_RECALL_LIMIT
from langchain_memos._validation import (
    check_bool,
    check_fraction,
    check_info,
    check_int,
    check_optional_id,
    check_str_list,
)
from langchain_memos.filters import validate_filter
from langchain_memos.types import Filter

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


def check_recall_limit(name: str, value: int | None) -> int | None:
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
    include_preference: bool | None,
    preference_limit_number: int | None,
    relativity: float | None,
) -> dict[str, Any]:
    """The fields that say what a recall may return (search/memory, chat)."""
    return drop_none(
        filter=check_filter(filter),
        knowledgebase_ids=check_str_list("knowledgebase_ids", knowledgebase_ids),
        memory_limit_number=check_recall_limit("memory_limit_number", memory_limit_number),
        include_preference=check_bool("include_preference", include_preference),
        preference_limit_number=check_recall_limit(
            "preference_limit_number", preference_limit_number
        ),
        relativity=check_fraction("relativity", relativity),
    )
