"""A memory's body as stored (index formats 5 and 8): without what its row's columns already hold.

A fast-mode fact used to store its id, conversation, times and tags twice (in the row's columns
and in the body), its turn four times (the ``text`` column, in its ``memory_value`` after the
speaker's marker, as its first source's ``content``, and cut short as its ``memory_key``), and
constants every fact has (``status``, ``confidence``). The body keeps only what differs from
what :func:`_derived` rebuilds from the row; a derivable key the memory does not have is listed
under ``~absent``, so that reading it back gives the memory as written, key for key and value
for value (keys in another order). A message is stored without its ``create_time`` and
``update_time``, which are the row's ``create_time``.

Format 8 derives three more things, each only where the value derived is the value written (so
that nothing reads back changed): a short answer's ``memory_value``, which quotes the turn it
answers (its second source, see _turns.with_question); a fact's ``memory_type`` when it is fast
mode's (``WorkingMemory``; :func:`of_type` selects by it); and a message's ``chat_time`` when it is
the row's ``create_time`` as the service writes times, as this package's clients send it. A
message sent without a ``chat_time`` lists it under ``~absent``. At 100k memories of
bench/engine_scale.py's conversations the three were 19, 22 and 24 bytes a memory.

Format 9 stores a memory id that is a UUID in its canonical text (every id this engine makes) as
its 16 bytes (:func:`stored_id`), in the row and in the unique index of ids: 36 characters
became 16 bytes in each, about 40 bytes a memory. Any other id is stored as it is, and matches
only itself, as before.

Format 10 leaves out of the ``tags`` column the tags fast mode writes (:func:`fast_tags`: a
turn's keywords for its fact, "mode:fast" for its event, none for anything else) when they are
the memory's tags: the column then holds ``""`` (:data:`DERIVED_TAGS`), read as
:func:`fast_tags` of the row's kind and text, in SQL by the function ``memory_tags`` (filters by
tag). About 45 bytes a memory of bench/engine_scale.py's conversations. What :func:`fast_tags`
gives for a text must not change without an upgrade that first writes the old tags out.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Container, Mapping
from datetime import timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from langchain_memos.embedded._text import EPOCH, is_word, keywords, title, viewpoint
from langchain_memos.embedded._turns import Turn, with_question
from langchain_memos.types import format_service_time

ABSENT = "~absent"
"""The key of a stored body listing the derivable keys the memory (or message) does not have."""
WHOLE = "~whole"
"""The key of a stored message body that holds the message whole, deriving nothing."""
RESERVED = "~"
"""A message key beginning with this is the engine's (refused in what callers send)."""
DERIVED_TAGS = ""
"""What the ``tags`` column holds when the memory's tags are :func:`fast_tags` of its row."""
FAST_TAG = "mode:fast"
"""The tag of every memory fast mode writes but a preference."""
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def stored_id(memory_id: str | bytes | int | float | None) -> str | bytes | int | float | None:
    """A memory id as the ``id`` column holds it: a UUID written as this engine writes ids
    (lowercase, hyphenated) as its 16 bytes, anything else as given (registered as the SQL
    function ``memory_key`` for lists of ids read in SQL)."""
    if isinstance(memory_id, str) and _CANONICAL_UUID.match(memory_id):
        return bytes.fromhex(memory_id.replace("-", ""))
    return memory_id


def read_id(value: str | bytes) -> str:
    """A memory id as callers see it, from what the ``id`` column holds."""
    if isinstance(value, bytes):
        h = value.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return value


_CONSTANTS: dict[str, dict[str, Any]] = {
    "fact": {"status": "activated", "confidence": 0.0, "memory_type": "WorkingMemory"},
    "preference": {"status": "activated", "preference_type": "explicit_preference"},
    "event": {"status": "activated", "event_type": "EventMemory"},
    "tool": {"status": "activated"},
    "skill": {"status": "activated"},
}


class Row(NamedTuple):
    """The columns of a memory's row that its body need not repeat."""

    kind: str
    id: str
    conversation_id: str | None
    create_time: int
    update_time: int
    tags: str  # JSON, or DERIVED_TAGS
    text: str

    @classmethod
    def of(cls, row: sqlite3.Row) -> Row:
        return cls(
            row["kind"],
            read_id(row["id"]),
            row["conversation_id"],
            row["create_time"],
            row["update_time"],
            row["tags"],
            row["text"],
        )


ROW_COLUMNS = ("kind", "id", "conversation_id", "create_time", "update_time", "tags", "text")
"""The columns :meth:`Row.of` reads, in order."""


def columns(alias: str = "") -> str:
    """The columns of ``memories`` (aliased ``alias``) that :func:`read` reads."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{column}" for column in (*ROW_COLUMNS, "body"))


def read(row: sqlite3.Row) -> dict[str, Any]:
    """The memory a row selected with :func:`columns` holds."""
    return unpack(Row.of(row), row["body"])


def of_type(kind: str, field: str, name: str) -> str:
    """SQL (on ``memories m``) true for a memory of ``kind`` whose ``field`` is ``name``, given
    as the one parameter: stored in its body, or left out of it as the kind's constant."""
    stored = f"json_extract(m.body, '$.{field}') = ?"
    if _CONSTANTS.get(kind, {}).get(field) != name:
        return stored
    return (
        f"({stored} OR (json_type(m.body, '$.{field}') IS NULL AND NOT EXISTS "
        f"(SELECT 1 FROM json_each(m.body, '$.\"{ABSENT}\"') WHERE value = '{field}')))"
    )


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def fast_tags(kind: str, text: str) -> list[str]:
    """The tags fast mode writes for a memory of ``kind`` stored with ``text`` (see _produce.py
    and _events.py): a turn's fact, its keywords; an event, "mode:fast"; anything else, none."""
    if kind == "fact" and text:
        return [*keywords(text), FAST_TAG]
    return [FAST_TAG] if kind == "event" else []


def tags_column(kind: str, text: str, tags: object) -> str:
    """What the ``tags`` column holds for a memory of these ``tags`` (as written: None or none
    is no tags) in a row of ``kind`` and ``text``."""
    written = tags or []
    if _same(written, fast_tags(kind, text)):
        return DERIVED_TAGS
    return json.dumps(written, ensure_ascii=False, separators=(",", ":"))


def row_tags(kind: str, tags: str, text: str) -> str:
    """A row's tags as JSON, from its ``tags`` column (registered as the SQL function
    ``memory_tags`` for filters by tag)."""
    if tags != DERIVED_TAGS:
        return tags
    return json.dumps(fast_tags(kind, text), ensure_ascii=False, separators=(",", ":"))


def _derived(row: Row, memory: Mapping[str, Any], known: Container[str] = ()) -> dict[str, Any]:
    """What the row says of the memory's keys (``memory``: what the body stores of it), but for
    the ``known`` keys, which need not be worked out."""
    derived: dict[str, Any] = {
        "conversation_id": row.conversation_id,
        "create_time": row.create_time,
        "update_time": row.update_time,
        "id": row.id,
        **_CONSTANTS.get(row.kind, {}),
    }
    if "tags" not in known:
        derived["tags"] = _column_tags(row)
    if row.text and row.kind == "fact":
        if "memory_key" not in known:
            derived["memory_key"] = title(row.text)
        sources, role = _sources_and_role(memory)
        if "memory_value" not in known and role is not None:
            # A turn of a speaker without a name, as fast mode writes it (see _produce.py).
            derived["memory_value"] = _value(row.text, role, sources)
    if row.kind == "event" and "event_key" not in known:
        value = memory.get("event_value")
        if isinstance(value, str):
            derived["event_key"] = title(value)
    return derived


def memory_text(memory: Mapping[str, Any]) -> str:
    """A memory's text: its value, preference, tool value, event or skill, whichever it has."""
    return str(
        memory.get("memory_value")
        or memory.get("preference")
        or memory.get("tool_value")
        or memory.get("event_value")
        or skill_text(memory)
    )


def skill_text(memory: Mapping[str, Any]) -> str:
    """A skill's text: its name, description and procedure, hyphens as spaces."""
    value = memory.get("skill_value") or {}
    parts = (value.get("name"), value.get("description"), value.get("procedure"))
    return " ".join(str(part).replace("-", " ") for part in parts if part)


def memory_value(row: Row, stored: Mapping[str, Any]) -> Any:
    """The memory's ``memory_value`` as :func:`unpack` gives it (None if it has none), from its
    stored body (parsed), without working out the rest of it."""
    if "memory_value" in stored:
        return stored["memory_value"]
    if "memory_value" in stored.get(ABSENT, ()) or not row.text or row.kind != "fact":
        return None
    sources, role = _sources_and_role(stored)
    return None if role is None else _value(row.text, role, sources)


def _sources_and_role(memory: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """A memory's sources (a list, else none) and the role of the first, who said its turn."""
    given = memory.get("sources")
    sources: list[Any] = given if isinstance(given, list) else []
    first = sources[0] if sources else None
    role = first.get("role") if isinstance(first, dict) else None
    return sources, role if isinstance(role, str) else None


def dump(stored: Mapping[str, Any]) -> str:
    """A body as stored: compact JSON, in its own characters."""
    return json.dumps(stored, ensure_ascii=False, separators=(",", ":"))


def plain_answer(text: str, stored: Mapping[str, Any]) -> str | None:
    """The value formats 5 to 7 derived for a fact of ``text`` whose stored body (``stored``)
    leaves its value to be derived: its turn alone (None: they derived none)."""
    _, role = _sources_and_role(stored)
    if role is None or "memory_value" in stored.get(ABSENT, ()):
        return None
    return _plain_value(text, role)


def _value(text: str, role: str, sources: list[Any]) -> str:
    """The memory_value fast mode writes for a turn of ``role`` (no name), with these sources:
    the turn, and what a short answer answers (see _produce.py and _turns.with_question)."""
    answered = sources[1] if len(sources) > 1 and isinstance(sources[1], dict) else {}
    asker, question = answered.get("role"), answered.get("content")
    if answered.get("relation") != "answers" or not isinstance(asker, str):
        return _plain_value(text, role)
    if not isinstance(question, str):
        return _plain_value(text, role)
    return with_question(viewpoint(role, None, text), text, Turn(asker, asker, question))


def _plain_value(text: str, role: str) -> str:
    """A turn's memory_value (speaker without a name), as formats 5 to 7 derived every one."""
    return f"{viewpoint(role, None, text)} {text.strip()}"


def _first_source(row: Row, memory: Mapping[str, Any]) -> dict[str, Any] | None:
    """The memory's first source, if the row's turn can stand in for part of it."""
    sources = memory.get("sources")
    if not row.text or row.kind != "fact" or not isinstance(sources, list) or not sources:
        return None
    return sources[0] if isinstance(sources[0], dict) else None


def pack(row: Row, memory: Mapping[str, Any]) -> str:
    """The body to store for ``memory`` in a row with these columns."""
    stored = dict(memory)
    absent = []
    for key, value in _derived(row, memory).items():
        if key not in memory:
            absent.append(key)
        elif _same(memory[key], value):
            del stored[key]
    source = _first_source(row, memory)
    if source is not None:
        first = dict(source)
        # The first source of a fast-mode fact is its turn: the row's text, at its create_time.
        for key, value in (("content", row.text), ("chat_time", row.create_time)):
            if key not in first:
                absent.append(f"sources.{key}")
            elif _same(first[key], value):
                del first[key]
        stored["sources"] = [first, *memory["sources"][1:]]
    if absent:
        stored[ABSENT] = absent
    return dump(stored)


def unpack(row: Row, body: str) -> dict[str, Any]:
    """The memory as it was written, from its stored ``body`` and its row."""
    stored = json.loads(body)
    absent = stored.pop(ABSENT, ())
    memory = _derived(row, stored, stored)
    for key in absent:
        memory.pop(key, None)
    memory.update(stored)
    if "sources" in stored:
        memory["sources"] = sources(row, stored, absent)
    return memory


def sources(row: Row, stored: Mapping[str, Any], absent: Container[str] = ()) -> Any:
    """The ``sources`` of the memory whose stored body is ``stored`` (parsed; ``absent``: its
    list of absent keys), as :func:`unpack` gives them, without working out the rest of it."""
    source = _first_source(row, stored)
    if source is None or ("content" in source and "chat_time" in source):
        return stored.get("sources")
    first = {"role": source["role"]} if "role" in source else {}
    if "sources.content" not in absent:
        first["content"] = row.text
    if "sources.chat_time" not in absent:
        first["chat_time"] = row.create_time
    first.update(source)
    return [first, *stored["sources"][1:]]


def may_have_tag(row: Row, body: str, tag: str) -> bool:
    """False when the memory of this row and stored ``body`` (its JSON text, unparsed) surely
    lacks ``tag``: one it has is written in its body or its row's ``tags`` column (both JSON
    written by :func:`dump` and :func:`tags_column`, which escape only quotes, backslashes and
    control characters), or derived from its row (:func:`fast_tags`: words and
    :data:`FAST_TAG`). A search asks each of dozens of candidates, most of which it never
    parses otherwise."""
    if tag in body or tag in row.tags or not _as_written(tag):
        return True
    return row.tags == DERIVED_TAGS and _derivable(tag)


@lru_cache(maxsize=64)
def _as_written(tag: str) -> bool:
    """Whether JSON holds ``tag`` character for character (nothing in it is escaped)."""
    return json.dumps(tag, ensure_ascii=False)[1:-1] == tag


@lru_cache(maxsize=64)
def _derivable(tag: str) -> bool:
    """Whether :func:`fast_tags` can give ``tag``: a word, or :data:`FAST_TAG`."""
    return tag == FAST_TAG or is_word(tag)


def has_tag(row: Row, stored: Mapping[str, Any], tag: str) -> bool:
    """Whether the memory whose stored body is ``stored`` (parsed) has ``tag``, as :func:`unpack`
    gives its tags; a fact's keywords are worked out only when ``tag`` could be one."""
    if "tags" in stored:
        return tag in (stored["tags"] or ())
    if "tags" in stored.get(ABSENT, ()):
        return False
    if row.tags == DERIVED_TAGS and tag != FAST_TAG and not is_word(tag):
        return False  # fast mode's tags are words and FAST_TAG
    return tag in _column_tags(row)


def _column_tags(row: Row) -> list[Any]:
    """The tags the row's ``tags`` column holds (see :data:`DERIVED_TAGS`)."""
    return json.loads(row.tags) if row.tags != DERIVED_TAGS else fast_tags(row.kind, row.text)


def pack_message(message: Mapping[str, Any], create_time: int) -> str:
    """A message as stored in a row of this ``create_time``: its times are the row's, and so is
    its ``chat_time`` when that is the row's time as the service writes times."""
    stored = {k: v for k, v in message.items() if k not in ("create_time", "update_time")}
    if "chat_time" not in stored:
        stored[ABSENT] = ["chat_time"]
    elif _same(stored["chat_time"], _chat_time(create_time)):
        del stored["chat_time"]
    return dump(stored)


def unpack_message(body: str, create_time: int) -> dict[str, Any]:
    """The message a row stores, as it was written (and its times)."""
    message = json.loads(body)
    if WHOLE in message:  # a message of formats 1-7 with a key of the engine's (see _migrations)
        message = message[WHOLE]
    elif "chat_time" not in message.pop(ABSENT, ()):
        message.setdefault("chat_time", _chat_time(create_time))
    return {**message, "create_time": create_time, "update_time": create_time}


def _chat_time(create_time: int) -> str:
    # Not datetime.fromtimestamp, which refuses times before 1970 on Windows.
    return format_service_time(EPOCH + timedelta(milliseconds=create_time))
