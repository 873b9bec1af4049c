"""What each store operation asks of MemOS, written once for the sync and the async store.

Each operation is a flow (a *plan*, see :mod:`langchain_memos._flows`) that yields the client
calls it needs and receives each answer (or, thrown into it, each error);
:mod:`langchain_memos.store` drives a plan with a ``MemOSClient`` or an ``AsyncMemOSClient``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from langgraph.store.base import Item, SearchItem

from langchain_memos._codes import MEMORY_NOT_FOUND
from langchain_memos._constants import MAX_PAGE_SIZE, MAX_RECALL_LIMIT
from langchain_memos._exceptions import MemOSInputError, NotFoundError, WriteRefusedError
from langchain_memos._flows import Call, Flow
from langchain_memos._store_scope import (
    ITEM_FIELD,
    KEY_FIELD,
    PUT_FIELD,
    SEQ_FIELD,
    USER_FIELD,
    NamespaceRule,
    Record,
    item_id,
    join_value,
    namespace_info,
    namespace_of,
    record_turns,
    scope_filter,
)
from langchain_memos.types import MemoryDetail, MemoryItem, PreferenceDetail

Plan = Flow[Any]


def ask(method: str, kwargs: dict[str, Any]) -> Call[Any]:
    """The client call ``method(**kwargs)``, for a plan to yield."""
    return Call(method, (), kwargs)


def record_conversation(namespace: Sequence[str], key: str) -> str:
    """The conversation of a record when the rule names no conversation element: its own, so
    that records are not read as turns of one conversation (neighbours, answers)."""
    digest = hashlib.blake2b(f"{namespace!r}/{key}".encode(), digest_size=8).hexdigest()
    return f"langgraph-store-{digest}"


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


def put(
    target: Target,
    namespace: tuple[str, ...],
    key: str,
    record: Record,
    conversation_id: str | None,
) -> Plan:
    """Write a record: update it in place, or add it through ``add/message`` in sync mode (so
    that it can be read back at once) and make the memory MemOS made of it hold it verbatim.

    What replaces a record is made before the record is deleted, and what a failed put made
    is deleted again (as far as MemOS lets us: what a put cut short leaves, the key's next
    put that makes its record deletes with the rest). Every memory at the key before such a
    put, whoever made it, goes once its record is made. Puts of one key at once each mark
    what they make with a put id and a place among the key's puts (:func:`_settle`)."""
    memories = yield from _of_key(target, namespace, key)
    current = _record(memories, key)
    replaced: list[str] = []
    if current is None and not memories:
        # A put on the id of what MemOS abstracted replaces it with a record of that key.
        abstracted = yield from _by_id(target, namespace, key)
        replaced = [abstracted.id] if abstracted is not None and abstracted.id else []
    if (
        current is not None
        and _same_fields(current, record.fields)
        and _alone(memories, current, key)
    ):
        # What MemOS made of the old text no longer holds: only the record is kept.
        stale = [m.id for m in memories if m is not current and m.id]
        try:
            yield ask(
                "update_memory",
                {"memory_id": current.id, "content": record.text, "title": record.title},
            )
        except NotFoundError as error:
            if error.code != MEMORY_NOT_FOUND:
                raise
            # Deleted since it was read (a delete or put of the key at the same time): the
            # record is made anew, as for a new key.
        else:
            yield from _forget(stale)
            return
    # A new key, a changed filterable field, or another put's memories at the key: MemOS
    # cannot change a memory's info, so the record is made again (a new MemOS id), and only
    # then are the old ones deleted.
    put_id = uuid.uuid4().hex
    # After every memory found at the key (made by a put under way, too): those are deleted
    # once the record is made, so they must come before it (see _settle).
    seq = 1 + max((_place(m)[0] for m in memories), default=0)
    found = {m.id for m in memories if m.id}
    try:
        done = yield from _make(
            target, namespace, key, record, conversation_id, (seq, put_id), found
        )
    except Exception:
        # The new copy goes and the old one stays: never two.
        yield from _discard(target, namespace, key, put_id)
        raise
    if not done:
        return
    # Made: from here a failure leaves the new record (a read gives the newer), and the old
    # ones until the key's next put or delete.
    yield from _forget(sorted(found | set(replaced)))
    yield from _settle(target, namespace, key)


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


def _alone(memories: Sequence[MemoryItem], current: MemoryItem, key: str) -> bool:
    """Whether ``current`` is the key's only record and every other memory there is what
    MemOS made of it: only then is it updated in place (an update cannot move a record's
    place, see :func:`_settle`)."""
    return all(
        m is current or (_place(m) == _place(current) and _record([m], key) is None)
        for m in memories
    )


def _settle(target: Target, namespace: tuple[str, ...], key: str) -> Plan:
    """After a put made its record and deleted the old ones: of the records at the key, keep
    the one whose put comes last, and delete what the puts before it made.

    A put comes after every put whose memories it found (its place is one more than theirs),
    and of two that found neither the other's, the greater put id comes last: so no put ever
    deletes the record of the put that comes last of all, and that put, settling once its
    record is made, sees the others and deletes them (or they, settling later, see it and
    delete their own), whatever order MemOS's times and ids give. What a put with no record
    yet made (under way, or cut short) is left: it settles itself, or the key's next put
    deletes it."""
    memories = yield from _of_key(target, namespace, key)
    places = {_place(m) for m in memories if _record([m], key) is not None}
    if len(places) < 2:
        return
    last = max(places)
    yield from _forget([m.id for m in memories if m.id and _place(m) in places - {last}])


def _make(
    target: Target,
    namespace: tuple[str, ...],
    key: str,
    record: Record,
    conversation_id: str | None,
    place: tuple[int, str],
    old: set[str],
) -> Flow[bool]:
    """Add the record's text, marked with its put's ``place`` (see :func:`_settle`), and make
    the memory MemOS made of it hold the record verbatim; False when a later put or delete
    of the key took that memory away first (the put is done, and superseded). ``old``: the
    ids found at the key before."""
    seq, put_id = place
    info = {
        **namespace_info(namespace, key, target.user_id),
        **record.fields,
        PUT_FIELD: put_id,
        SEQ_FIELD: seq,
    }
    scope = {
        "user_id": target.user_id,
        "conversation_id": conversation_id or record_conversation(namespace, key),
        "info": info,
        "async_mode": False,
        **target.rule.write_scope(namespace),
    }
    texts, again = record_turns(key, record.text), True
    while texts:
        yield ask("add_message", {"messages": [{"role": "user", "content": texts[0]}], **scope})
        made = yield from _of_key(target, namespace, key, put_id)
        facts = [m for m in made if isinstance(m, MemoryDetail) and m.id]
        if not facts:
            texts = texts[1:]
            continue
        try:
            yield ask(
                "update_memory",
                {"memory_id": facts[-1].id, "content": record.text, "title": record.title},
            )
        except NotFoundError as error:
            if error.code != MEMORY_NOT_FOUND:
                raise
            if (yield from _superseded(target, namespace, key, place, old)):
                return False
            if not again:
                raise WriteRefusedError(
                    f"the memory MemOS made of the value put at {namespace!r} / {key!r} was "
                    "deleted twice before the put could finish (a delete of the key at the same "
                    "time, or MemOS retiring it); it was not stored"
                ) from None
            again = False  # taken by something else (MemOS reorganising its memories): again
            continue
        return True
    raise WriteRefusedError(
        f"MemOS made no memory of the value put at {namespace!r} / {key!r}; it was not stored"
    )


def _superseded(
    target: Target, namespace: tuple[str, ...], key: str, place: tuple[int, str], old: set[str]
) -> Flow[bool]:
    """Whether what took a put's memory away was a later put of the key (a memory placed
    after it is there) or a delete of it (what the put found there is gone too), not MemOS
    itself (fine mode can retire a memory as obsolete)."""
    memories = yield from _of_key(target, namespace, key)
    if any(_place(m) > place for m in memories):
        return True
    return bool(old) and not any(m.id in old for m in memories)


def _discard(target: Target, namespace: tuple[str, ...], key: str, put_id: str) -> Plan:
    """Delete what a failed put (``put_id``) made, as far as MemOS lets us: the put's own
    error is what the caller sees. A record it made stays: its update was done and only the
    answer lost, and other puts of the key may have deleted theirs for it (see _settle)."""
    try:
        made = yield from _of_key(target, namespace, key, put_id)
        ids = [m.id for m in made if m.id and _record([m], key) is None]
        if ids:
            yield ask("delete_memory", {"memory_ids": ids})
    except Exception:  # the put's own error is what the caller sees, not the clean-up's
        return


def _same_fields(memory: MemoryItem, fields: Mapping[str, str]) -> bool:
    info = getattr(memory, "info", None) or {}
    stored = {name: str(v) for name, v in info.items() if name.startswith("lgv.")}
    return stored == dict(fields)


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
