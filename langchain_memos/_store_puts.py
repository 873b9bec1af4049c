"""How a put writes a record, written once for the sync and the async store (see
:mod:`langchain_memos._store_plans`): in place, or made again through ``add/message``; and how
puts of one key at the same moment settle on one record, MemOS having no conditional write.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence

from langchain_memos._codes import MEMORY_NOT_FOUND
from langchain_memos._exceptions import NotFoundError, WriteRefusedError
from langchain_memos._flows import Flow
from langchain_memos._store_plans import (
    Plan,
    Target,
    _by_id,
    _forget,
    _of_key,
    _place,
    _record,
    ask,
)
from langchain_memos._store_scope import (
    PUT_FIELD,
    SEQ_FIELD,
    Record,
    namespace_info,
    record_turns,
)
from langchain_memos.types import MemoryDetail, MemoryItem


def record_conversation(namespace: Sequence[str], key: str) -> str:
    """The conversation of a record when the rule names no conversation element: its own, so
    that records are not read as turns of one conversation (neighbours, answers)."""
    digest = hashlib.blake2b(f"{namespace!r}/{key}".encode(), digest_size=8).hexdigest()
    return f"langgraph-store-{digest}"


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
        # What never became a record goes, and the old one stays (a record made with only
        # its answer lost stays too, see _discard).
        yield from _discard(target, namespace, key, put_id)
        raise
    if not done:
        return
    # Made: from here a failure leaves the new record (a read gives the newer), and the old
    # ones until the key's next put or delete.
    yield from _forget(sorted(found | set(replaced)))
    yield from _settle(target, namespace, key)


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
