"""What each store operation asks of MemOS, written once for the sync and the async store.

Each operation is a flow (a *plan*, see :mod:`langchain_memos._flows`) that yields the client
calls it needs and receives each answer (or, thrown into it, each error);
:mod:`langchain_memos.store` drives a plan with a ``MemOSClient`` or an ``AsyncMemOSClient``.
A put, and how puts of one key at once settle, is in :mod:`langchain_memos._store_puts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from langgraph.store.base import Item, SearchItem

from langchain_memos._codes import MEMORY_NOT_FOUND
from langchain_memos._constants import MAX_PAGE_SIZE, MAX_RECALL_LIMIT
from langchain_memos._exceptions import MemOSInputError, NotFoundError
from langchain_memos._flows import Call, Flow
from langchain_memos._store_scope import (
    ITEM_FIELD,
    KEY_FIELD,
    PUT_FIELD,
    SEQ_FIELD,
    USER_FIELD,
    NamespaceRule,
    item_id,
    join_value,
    namespace_of,
    scope_filter,
)
from langchain_memos.types import MemoryDetail, MemoryItem, PreferenceDetail

Plan = Flow[Any]


def ask(method: str, kwargs: dict[str, Any]) -> Call[Any]:
    """The client call ``method(**kwargs)``, for a plan to yield."""
    return Call(method, (), kwargs)


# MemOS ids are UUIDs: only a key of that shape may name a memory that holds no record.
_MEMOS_ID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_KEY_PAGES = 20  # at most this many pages of one key's memories are read (1,000 a kind)


@dataclass(frozen=True)
class Target:
    """Where an operation goes: the MemOS user, and the rule that placed it there."""

    user_id: str
    rule: NamespaceRule


def _when(moment: datetime | None) -> datetime:
    return moment or _EPOCH


def to_item(
    memory: MemoryItem, namespace: tuple[str, ...], score: float | None = None, *, ranked: bool
) -> SearchItem | Item | None:
    """The store item a memory is: a record (its own key and value), or an item MemOS made
    from one (a fact or preference, keyed by its MemOS id); ``None`` for neither."""
    record = None
    if isinstance(memory, MemoryDetail):
        record = join_value(memory.memory_key, memory.memory_value)
    if record is not None:
        key, value = record
    elif memory.id is None:
        return None
    else:
        key, value = memory.id, abstraction(memory)
    created, updated = _when(memory.created_at), _when(memory.updated_at)
    if ranked:
        return SearchItem(namespace, key, value, created, updated, score)
    return Item(value=value, key=key, namespace=namespace, created_at=created, updated_at=updated)


def abstraction(memory: MemoryItem) -> dict[str, Any]:
    """The value of a memory MemOS abstracted from a record: its kind says which it is."""
    info = getattr(memory, "info", None) or {}
    if isinstance(memory, PreferenceDetail):
        value: dict[str, Any] = {
            "kind": "preference",
            "content": memory.preference or "",
            "preference_type": memory.preference_type,
            "reasoning": memory.reasoning,
        }
    else:
        assert isinstance(memory, MemoryDetail)
        value = {"kind": "fact", "content": memory.memory_value or "", "title": memory.memory_key}
    return {**value, "memos_id": memory.id, "source_key": info.get(KEY_FIELD)}


def _placed(
    memories: Sequence[MemoryItem], target: Target, namespace: Sequence[str]
) -> list[MemoryItem]:
    """Only the memories of the target's user at ``namespace``: a second check of what the
    filter chose, and the only check of a memory read by its id (ids are project-wide)."""
    return [
        m
        for m in memories
        if namespace_of(getattr(m, "info", None)) == tuple(namespace)
        and (getattr(m, "info", None) or {}).get(USER_FIELD) == target.user_id
    ]


def _of_key(
    target: Target, namespace: tuple[str, ...], key: str, put_id: str | None = None
) -> Plan:
    """Every memory (records and what MemOS made of them) filed under ``namespace`` / ``key``
    (by the put ``put_id`` only, given one)."""
    conditions = [{ITEM_FIELD: item_id(namespace, key)}]
    if put_id is not None:
        conditions.append({PUT_FIELD: put_id})
    memories: list[MemoryItem] = []
    for number in range(1, _KEY_PAGES + 1):  # a text stating many preferences fills pages
        page = yield ask(
            "get_memory",
            {
                "user_id": target.user_id,
                "filter": {"and": conditions},
                "page": number,
                "size": MAX_PAGE_SIZE,
                "include_tool_memory": False,
            },
        )
        memories += [*page.memory_detail_list, *page.preference_detail_list]
        if max(len(page.memory_detail_list), len(page.preference_detail_list)) < MAX_PAGE_SIZE:
            break
    return _placed(memories, target, namespace)


def _by_id(target: Target, namespace: tuple[str, ...], key: str) -> Plan:
    """The abstraction whose MemOS id is ``key``, if it is at ``namespace``. A record is only
    ever addressed by its own key, never by its MemOS id."""
    if not _MEMOS_ID.match(key):
        return None
    try:
        memory = yield ask("get_memory_by_id", {"memory_id": key})
    except NotFoundError:
        return None
    placed = _placed([memory], target, namespace)
    title, text = getattr(memory, "memory_key", None), getattr(memory, "memory_value", None)
    if not placed or join_value(title, text) is not None:
        return None
    if isinstance(memory, MemoryDetail) and memory.memory_value is None:
        memory = PreferenceDetail.model_validate(memory.model_dump())
    return placed[0] if isinstance(memory, MemoryDetail) else memory


def _is_record(memory: MemoryItem) -> bool:
    """Whether ``memory`` holds a record (not what MemOS abstracted from one)."""
    return (
        isinstance(memory, MemoryDetail)
        and join_value(memory.memory_key, memory.memory_value) is not None
    )


def _record(memories: Sequence[MemoryItem], key: str) -> MemoryDetail | None:
    """The record of ``key`` among ``memories``: of two (puts of the key under way), the one
    whose put comes last, which is the one they leave (see :func:`_settle`)."""
    records = [
        memory
        for memory in memories
        if isinstance(memory, MemoryDetail)
        and (record := join_value(memory.memory_key, memory.memory_value)) is not None
        and record[0] == key
    ]
    return max(records, key=_place, default=None)


def get(target: Target, namespace: tuple[str, ...], key: str) -> Plan:
    memories = yield from _of_key(target, namespace, key)
    found: MemoryItem | None = _record(memories, key)
    if found is None:
        found = yield from _by_id(target, namespace, key)
    return None if found is None else to_item(found, namespace, ranked=False)


def delete(target: Target, namespace: tuple[str, ...], key: str) -> Plan:
    memories = yield from _of_key(target, namespace, key)
    if not memories:
        found = yield from _by_id(target, namespace, key)
        memories = [] if found is None else [found]
    yield from _forget([m.id for m in memories if m.id])


def _forget(ids: Sequence[str]) -> Plan:
    """Delete these memories; ids another put or delete of the key removed since they were
    read are what was asked for, not an error (as in InMemoryStore, where deleting twice is
    deleting once)."""
    if not ids:
        return
    try:
        yield ask("delete_memory", {"memory_ids": list(ids)})
    except NotFoundError as error:
        if error.code != MEMORY_NOT_FOUND:  # not MemOS's "none of these exists"
            raise


def _place(memory: MemoryItem) -> tuple[int, str]:
    """The place of the put that made ``memory`` among the puts of its key, and its put id
    ((0, ""): made before puts had them)."""
    info = getattr(memory, "info", None) or {}
    seq, put_id = info.get(SEQ_FIELD), info.get(PUT_FIELD)
    try:
        place = int(seq) if isinstance(seq, (int, str)) else 0
    except ValueError:
        place = 0
    return place, put_id if isinstance(put_id, str) else ""


def search(
    target: Target,
    prefix: tuple[str, ...],
    conditions: list[dict[str, str]],
    query: str | None,
    limit: int,
    offset: int,
) -> Plan:
    """Ranked by MemOS with ``query``; without one, the records under ``prefix``, newest first.
    Refused here, before the plan makes any request, if MemOS cannot answer it."""
    all_conditions = [*scope_filter(prefix, exact=False), *conditions]
    where = {"and": all_conditions} if all_conditions else None
    if query is None:
        return _listed(target, where, limit, offset)
    if offset + limit > MAX_RECALL_LIMIT:
        raise MemOSInputError(
            f"a search with a query returns at most the {MAX_RECALL_LIMIT} best matches "
            f"(MemOS's recall limit); offset + limit is {offset + limit}. Page through a "
            "namespace with query=None"
        )
    return _ranked(target, prefix, where, query, limit, offset, records_only=bool(conditions))


def _listed(target: Target, where: dict[str, Any] | None, limit: int, offset: int) -> Plan:
    found = yield from _listing(target, where, offset + limit, records_only=True)
    return [to_item(m, ns, ranked=True) for m, ns in found[offset:]]


def _ranked(
    target: Target,
    prefix: tuple[str, ...],
    where: dict[str, Any] | None,
    query: str,
    limit: int,
    offset: int,
    *,
    records_only: bool,
) -> Plan:
    """``records_only``: leave out what MemOS abstracted from records (a filter on value
    fields finds it by its record's fields, which its own value does not hold)."""
    result = yield ask(
        "search_memory",
        {
            "query": query,
            "user_id": target.user_id,
            "filter": where,
            "memory_limit_number": offset + limit,
            "include_preference": True,
            "preference_limit_number": offset + limit,
            "relativity": 0.0,
        },
    )
    ranked: list[tuple[float, int, SearchItem]] = []
    for order, memory in enumerate([*result.memory_detail_list, *result.preference_detail_list]):
        namespace = namespace_of(memory.info)
        if namespace is None or namespace[: len(prefix)] != prefix:
            continue
        item = to_item(memory, namespace, memory.relativity, ranked=True)
        if records_only and not _is_record(memory):
            continue
        if isinstance(item, SearchItem):
            ranked.append((-(memory.relativity or 0.0), order, item))
    ranked.sort(key=lambda entry: entry[:2])
    return [item for *_, item in ranked[offset : offset + limit]]


def _listing(
    target: Target, where: dict[str, Any] | None, wanted: int | None, *, records_only: bool
) -> Plan:
    """Memories matching ``where``, newest first, page by page until ``wanted`` are found."""
    found: list[tuple[MemoryDetail, tuple[str, ...]]] = []
    page_number = 1
    while wanted is None or len(found) < wanted:
        page = yield ask(
            "get_memory",
            {
                "user_id": target.user_id,
                "filter": where,
                "page": page_number,
                "size": MAX_PAGE_SIZE,
                "include_preference": False,
                "include_tool_memory": False,
            },
        )
        for memory in page.memory_detail_list:
            namespace = namespace_of(memory.info)
            if namespace is not None and (_is_record(memory) or not records_only):
                found.append((memory, namespace))
        if len(page.memory_detail_list) < MAX_PAGE_SIZE:
            break
        page_number += 1
    return found if wanted is None else found[:wanted]


def namespaces(target: Target, prefix: tuple[str, ...]) -> Plan:
    """Every namespace that holds a record under ``prefix`` (a listing of the whole prefix)."""
    conditions = scope_filter(prefix, exact=False)
    where = {"and": conditions} if conditions else None
    found = yield from _listing(target, where, None, records_only=True)
    return sorted({namespace for _, namespace in found})
