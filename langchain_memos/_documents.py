"""A search result as LangChain ``Document``s: one per recalled item of every memory view."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from langchain_core.documents import Document

from langchain_memos._memory_lines import tool_value_text
from langchain_memos.types import (
    EventDetail,
    MemoryDetail,
    MemoryItem,
    PreferenceDetail,
    ProfileDetail,
    SearchMemoryResult,
    SkillDetail,
    ToolMemoryDetail,
)

__all__ = ["to_documents"]


def _metadata(item: MemoryItem, kind: str, **extra: Any) -> dict[str, Any]:
    created, updated = item.created_at, item.updated_at
    metadata = {
        "kind": kind,
        "conversation_id": item.conversation_id,
        "status": item.status,
        "relativity": item.relativity,
        "created_at": created.isoformat() if created else None,
        "updated_at": updated.isoformat() if updated else None,
        **extra,
    }
    return {key: value for key, value in metadata.items() if value is not None}


def _fact(item: MemoryDetail) -> Document:
    return Document(
        id=item.id,
        page_content=item.memory_value or item.memory_key or "",
        metadata=_metadata(
            item,
            "fact",
            memory_key=item.memory_key,
            memory_type=item.memory_type,
            tags=item.tags,
            confidence=item.confidence,
        ),
    )


def _preference(item: PreferenceDetail) -> Document:
    return Document(
        id=item.id,
        page_content=item.preference or "",
        metadata=_metadata(
            item, "preference", preference_type=item.preference_type, reasoning=item.reasoning
        ),
    )


def _profile(item: ProfileDetail) -> Document:
    return Document(
        id=item.id,
        page_content=item.memory or item.profile_path or "",
        metadata=_metadata(
            item,
            "profile",
            profile_path=item.profile_path,
            profile_category=item.profile_category,
            profile_field=item.profile_field,
            template_id=item.template_id,
            algorithm_updatable=item.algorithm_updatable,
            memory_type=item.memory_type,
            confidence=item.confidence,
        ),
    )


def _event(item: EventDetail) -> Document:
    return Document(
        id=item.id,
        page_content=item.event_value or item.event_key or "",
        metadata=_metadata(
            item,
            "event",
            event_key=item.event_key,
            event_type=item.event_type,
            event_time=item.event_time,
            event_location=item.event_location,
            event_roles=item.event_roles,
            confidence=item.confidence,
        ),
    )


def _tool(item: ToolMemoryDetail) -> Document:
    text = tool_value_text(item.tool_value)
    return Document(
        id=item.id,
        page_content=text or item.experience or "",
        metadata=_metadata(item, "tool", tool_type=item.tool_type, experience=item.experience),
    )


def _skill(item: SkillDetail) -> Document:
    skill = item.skill_value
    text = ""
    if skill is not None:
        text = ": ".join(part for part in (skill.name, skill.description) if part)
    return Document(
        id=item.id,
        page_content=text,
        metadata=_metadata(
            item,
            "skill",
            skill_name=skill.name if skill else None,
            skill_url=item.skill_url,
            skill_type=item.skill_type,
            tags=item.tags,
            confidence=item.confidence,
        ),
    )


def to_documents(result: SearchMemoryResult, k: int | None = None) -> list[Document]:
    """One ``Document`` per recalled item, most relevant first; at most ``k`` of them.

    Each view's list (facts, preferences, tool memories, skills, profile fields, events) keeps
    the service's order. When every item has a ``relativity``, the lists are merged by it: the
    next Document is the head of a list with the highest relativity (ties go to the kinds in
    that order). Otherwise relativities cannot be compared (the cloud documents none for
    preferences), and the lists take turns: the first fact, the first preference, the first
    tool memory, ..., the second fact, and so on.

    ``Document.id`` is the memory id, ``page_content`` the memory's text, and ``metadata`` keeps
    what the API returned: ``kind`` (fact, preference, tool, skill, profile or event),
    ``relativity``, ``conversation_id``, ``status``, ISO-8601 ``created_at`` / ``updated_at``,
    and the kind's own fields: ``memory_key``, ``memory_type``, ``tags`` and ``confidence`` of
    a fact; ``preference_type`` and ``reasoning`` of a preference; ``tool_type`` and
    ``experience`` of a tool memory; ``skill_name``, ``skill_url`` and ``skill_type`` of a
    skill; ``profile_path`` (``"Basic Info.City"``), ``profile_category``, ``profile_field``,
    ``template_id`` and ``algorithm_updatable`` of a profile field (its ``page_content`` reads
    ``"Basic Info.City: Porto"``); ``event_key``, ``event_type``, ``event_time`` (the times
    said, e.g. ``["last Tuesday"]``), ``event_location`` and ``event_roles`` of an event.
    """
    kinds: list[list[tuple[float | None, Document]]] = [
        [(item.relativity, _fact(item)) for item in result.memory_detail_list],
        [(item.relativity, _preference(item)) for item in result.preference_detail_list],
        [(item.relativity, _tool(item)) for item in result.tool_memory_detail_list],
        [(item.relativity, _skill(item)) for item in result.skill_detail_list],
        [(item.relativity, _profile(item)) for item in result.profile_detail_list],
        [(item.relativity, _event(item)) for item in result.event_detail_list],
    ]
    if all(score is not None for kind in kinds for score, _ in kind):
        docs = _merge_by_relativity(kinds)
    else:
        docs = [pair[1] for turn in zip_longest(*kinds) for pair in turn if pair is not None]
    return docs if k is None else docs[:k]


def _merge_by_relativity(kinds: Sequence[list[tuple[float | None, Document]]]) -> list[Document]:
    """Merge lists MemOS ranked, each kept in order, taking the most relevant head each time."""
    queues = [deque(kind) for kind in kinds]
    merged: list[Document] = []
    while any(queues):
        # max() keeps the first of equals: ties go to the kind listed first.
        best = max((queue for queue in queues if queue), key=lambda queue: queue[0][0] or 0.0)
        merged.append(best.popleft()[1])
    return merged
