"""Clearing one conversation's memories: every memory MemOS derived from it, found by listing the
user's memories and deleted by id (the API deletes by id, user or filter, not by conversation).

A listing without views holds facts, preferences and tool memories; events and skills, which
newer MemOS derives from a conversation too, are listed only when ``include_memory_view`` names
them, so a second listing does. A self-hosted MemOS server lists neither (its ``get_memory``
takes no views) and is not asked.
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_memos._codes import MEMORY_NOT_FOUND
from langchain_memos._constants import MAX_PAGE_SIZE
from langchain_memos._exceptions import BadRequestError, MemOSInputError, NotFoundError
from langchain_memos._flows import Flow, call
from langchain_memos.client import MemOSClient
from langchain_memos.types import MemoryListResult, MemoryView

__all__ = ["conversation_cleared"]

logger = logging.getLogger("langchain_memos")

_MAX_PAGES = 1_000
_DELETE_CHUNK = 100
# The views a listing without views leaves out that a conversation's memories can be in.
_MORE_VIEWS: list[MemoryView] = ["event", "skill"]


def conversation_cleared(
    user_id: str, conversation_id: str, *, selfhosted: bool = False
) -> Flow[None]:
    """Delete every memory of ``user_id`` whose ``conversation_id`` is this one. Ids already
    gone when their delete is sent (another clear went first) are what was asked for.

    The default listing's memories are deleted first: a server that refuses the views (one
    older than events, a gateway that checks them) leaves those cleared, and a warning says
    that its events and skills, if it has any, could not be listed."""
    ids = yield from _conversation_ids(user_id, conversation_id, None)
    yield from _deleted(ids)
    if selfhosted:
        return
    try:
        more = yield from _conversation_ids(user_id, conversation_id, _MORE_VIEWS)
    except (BadRequestError, MemOSInputError) as error:
        logger.warning(
            "cleared conversation %s of user %s of its facts, preferences and tool memories; "
            "its events and skills could not be listed, and were not deleted if it has any: %s",
            conversation_id,
            user_id,
            error,
        )
        return
    done = set(ids)
    yield from _deleted([memory_id for memory_id in more if memory_id not in done])


def _deleted(ids: list[str]) -> Flow[None]:
    for start in range(0, len(ids), _DELETE_CHUNK):
        try:
            yield call(MemOSClient.delete_memory, memory_ids=ids[start : start + _DELETE_CHUNK])
        except NotFoundError as error:  # "none of these memories exists": gone already
            if error.code != MEMORY_NOT_FOUND:
                raise


def _conversation_ids(
    user_id: str, conversation_id: str, views: list[MemoryView] | None
) -> Flow[list[str]]:
    """The ids of the conversation's memories in a listing of ``views`` (None: the default)."""
    ids: list[str] = []
    number = 1
    while True:
        page = yield call(
            MemOSClient.get_memory,
            user_id=user_id,
            page=number,
            size=MAX_PAGE_SIZE,
            include_memory_view=views,
        )
        ids += [
            item.id
            for items in _kinds(page)
            for item in items
            if item.id is not None and item.conversation_id == conversation_id
        ]
        if _last_page(page, number):
            return ids
        number += 1


def _kinds(page: MemoryListResult) -> tuple[list[Any], ...]:
    """A page's lists of the memories a conversation's clear deletes (profile fields are the
    user's, not a conversation's)."""
    return (
        page.memory_detail_list,
        page.preference_detail_list,
        page.tool_memory_detail_list,
        page.event_detail_list,
        page.skill_detail_list,
    )


def _last_page(page: MemoryListResult, number: int) -> bool:
    counts = [len(items) for items in _kinds(page)]
    if number >= _MAX_PAGES or not any(counts):
        return True
    if page.pages is not None:
        return number >= page.pages
    # No page count in the answer: a page that is not full is the last one.
    return max(counts) < MAX_PAGE_SIZE
