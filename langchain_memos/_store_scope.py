"""How a LangGraph namespace and value map onto MemOS: scope, info fields, filters, records.

The rule (:class:`NamespaceRule`) says which namespace element is the MemOS user, the agent, the
app and the conversation. Every element is also written into the memory's ``info``, one field
per depth (``lgs_ns1`` = ``"memories"``, ``lgs_ns2`` = ``"memories.u1"``, ...), with the depth
(``lgs_depth``), the key (``lgs_key``), namespace and key as one value (``lgs_item``) and the
user (``lgs_user``). Every request carries a filter on them (a read by MemOS id is checked
against them), so no request reaches outside the namespace (or prefix) it was given, whichever
elements are the scope.
LangGraph forbids ``.`` in labels, so the joined prefixes are unambiguous.

A value is a record of one MemOS memory: its text (``content``, ``text`` or ``memory``; a dict
there is stored as JSON; a value with none of them is stored whole as JSON) is the memory's
content, and its other fields travel, verbatim, as JSON in the memory's title, behind
:data:`TITLE_MARK`. Its top-level strings, numbers and booleans (other than the text; of a value
stored whole, all of them) are also copied into ``info`` as ``lgv.<field>`` (JSON-encoded, so
``"1"`` and ``1`` stay apart), which is what value filters compile to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_memos._constants import MAX_MEMOS_ID_LENGTH, STORE_TITLE_MARK
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    MAX_REQUEST_TOKENS,
    check_id,
    check_json_value,
    check_unicode,
    message_tokens,
)

TITLE_MARK = STORE_TITLE_MARK
"""How the title of a memory that holds a store record begins."""
TEXT_FIELDS = ("content", "text", "memory")
"""The value fields that hold a record's text, in the order they are looked for."""
NS_FIELD = "lgs_ns"
DEPTH_FIELD = "lgs_depth"
KEY_FIELD = "lgs_key"
ITEM_FIELD = "lgs_item"
USER_FIELD = "lgs_user"
PUT_FIELD = "lgs_put"
"""The put that made a memory (a random id each put): what tells one put's memories from
another's when two puts of one key run at once."""
SEQ_FIELD = "lgs_seq"
"""A put's place among the puts of its key: one more than that of every memory it found."""
VALUE_PREFIX = "lgv."
# A value field longer than this (JSON-encoded) is not copied into info, and cannot be filtered.
MAX_FILTER_VALUE = 256
MAX_KEY_LENGTH = MAX_MEMOS_ID_LENGTH
EMPTY_TEXT = "(empty)"
"""What the memory of a record with an empty text holds."""
ROLES = ("user", "agent", "app", "conversation")


def check_namespace(
    namespace: Sequence[str], what: str = "namespace", *, writing: bool = False
) -> tuple[str, ...]:
    """A namespace (or prefix) as MemOS can hold it: each label an id as MemOS takes it (any
    label may become the user, agent, app or conversation id), without ``.``; ``writing``:
    one a put may write to, as LangGraph's own ``put`` checks (not empty, not under its
    reserved ``langgraph``)."""
    if isinstance(namespace, str) or not isinstance(namespace, Sequence):
        raise MemOSInputError(f"{what} must be a tuple of strings; got {namespace!r}")
    if writing and not namespace:
        raise MemOSInputError(f"a put needs a namespace; {what} is empty")
    if writing and namespace[0] == "langgraph":
        raise MemOSInputError(f"{what} {tuple(namespace)!r}: LangGraph reserves 'langgraph'")
    for index, label in enumerate(namespace):
        check_id(f"{what}[{index}]", label)
        if "." in label:
            raise MemOSInputError(f"{what}[{index}] must not contain '.'; got {label!r}")
    return tuple(namespace)


def check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise MemOSInputError(f"key must be a non-blank string; got {key!r}")
    check_unicode("key", key)
    if len(key) > MAX_KEY_LENGTH:
        raise MemOSInputError(f"key is {len(key)} characters; at most {MAX_KEY_LENGTH}")
    return key


def joined(namespace: Sequence[str]) -> str:
    return ".".join(namespace)


@dataclass(frozen=True)
class NamespaceRule:
    """Which namespace element is the MemOS user, agent, app and conversation.

    Each is an index into the namespace (negative counts from the end, except the user's), or
    ``None``: the user then comes from the store's ``user_id`` or the run's config, the others
    are not sent. A search or listing finds the user in a prefix, which does not say where the
    namespace ends: counted from the end, it could not.
    """

    user: int | None = None
    agent: int | None = None
    app: int | None = None
    conversation: int | None = None

    def __post_init__(self) -> None:
        for role in ROLES:
            index = getattr(self, role)
            if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
                raise MemOSInputError(f"{role} must be a namespace index (an int) or None")
        if self.user is not None and self.user < 0:
            raise MemOSInputError(
                f"user={self.user}: the user's index must be 0 or more. A search or listing "
                "finds the user in a prefix, which does not say where the namespace ends"
            )

    def element(self, role: str, namespace: Sequence[str], what: str) -> str | None:
        """The element that plays ``role`` in ``namespace``; refused when it is not there."""
        index: int | None = getattr(self, role)
        if index is None:
            return None
        if not -len(namespace) <= index < len(namespace) or (index < 0 and what != "namespace"):
            raise MemOSInputError(
                f"the store takes the MemOS {role} from element {index} of the namespace; "
                f"{what} {tuple(namespace)!r} has no such element (a search or listing needs a "
                "prefix that reaches it: MemOS searches one user at a time)"
            )
        if namespace[index] == "*" and what != "namespace":  # a listing's wildcard
            raise MemOSInputError(
                f"the store takes the MemOS {role} from element {index} of the namespace, "
                f"which is '*' in {what} {tuple(namespace)!r}: MemOS lists one user at a time"
            )
        return namespace[index]

    def write_scope(self, namespace: Sequence[str]) -> dict[str, str]:
        """``agent_id`` / ``app_id`` of a write into ``namespace`` (those the rule names)."""
        scope = {}
        for role in ("agent", "app"):
            value = self.element(role, namespace, "namespace")
            if value is not None:
                scope[f"{role}_id"] = value
        return scope


def namespace_info(namespace: Sequence[str], key: str, user_id: str) -> dict[str, str | int]:
    """The info fields that place a memory at ``namespace`` / ``key`` of ``user_id``."""
    info: dict[str, str | int] = {
        f"{NS_FIELD}{depth}": joined(namespace[:depth]) for depth in range(1, len(namespace) + 1)
    }
    info[DEPTH_FIELD] = str(len(namespace))
    info[KEY_FIELD] = key
    info[ITEM_FIELD] = item_id(namespace, key)
    info[USER_FIELD] = user_id
    return info


def item_id(namespace: Sequence[str], key: str) -> str:
    """One value that names ``namespace`` / ``key`` exactly: what finds a record by its key,
    with one filter condition (an indexed lookup in the embedded engine)."""
    return json.dumps([*namespace, key], ensure_ascii=False)


def namespace_of(info: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The namespace a memory's info places it in, or ``None`` if it holds no store record."""
    if not info or DEPTH_FIELD not in info:
        return None
    try:
        depth = int(info[DEPTH_FIELD])
        return tuple(str(info[f"{NS_FIELD}{depth}"]).split("."))
    except (KeyError, ValueError):
        return None


def scope_filter(prefix: Sequence[str], *, exact: bool) -> list[dict[str, str]]:
    """The conditions selecting the memories under ``prefix`` (or exactly at it); none for the
    empty prefix, which is every record of the user."""
    if not prefix:
        return []
    conditions = [{f"{NS_FIELD}{len(prefix)}": joined(prefix)}]
    if exact:
        conditions.append({DEPTH_FIELD: str(len(prefix))})
    return conditions


# ---- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A value split as MemOS holds it: the memory's text and title, and its info fields."""

    text: str
    title: str
    fields: dict[str, str]


def record_turns(key: str, text: str) -> list[str]:
    """The user turns a put offers MemOS, in order, until it keeps a memory of one: the text,
    then the text with its key, which gives a bare reply (``"Thanks!"``) something to hold."""
    return [text, f"Store record {key}: {text}"]


def split_value(key: str, value: object, indexed: frozenset[str] | None = None) -> Record:
    """The text, title and filterable fields of ``value`` (those named in ``indexed``, or all
    when it is ``None``); refused if it cannot be stored, before any request."""
    if not isinstance(value, Mapping):
        raise MemOSInputError(f"a store value must be a dict; got {type(value).__name__}")
    if not all(isinstance(name, str) for name in value):
        raise MemOSInputError("a store value's keys must be strings")
    check_json_value("value", value)  # NaN, infinities, lone surrogates: wherever they are
    field = next((name for name in TEXT_FIELDS if name in value), None)
    rest = {name: item for name, item in value.items() if name != field}
    raw = value[field] if field is not None else dict(value)
    try:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, allow_nan=False)
        meta: dict[str, object] = {
            "key": key,
            "field": field,
            "json": not isinstance(raw, str),
            "rest": rest if field is not None else {},
        }
        if field is not None:  # where the text field was, for the value to read back as put
            meta["at"] = list(value).index(field)
        if not text.strip():
            # MemOS holds no blank memory: the title says it is one, and holds the blank text.
            meta["empty"] = True
            if text:
                meta["blank"] = text
        title = TITLE_MARK + json.dumps(meta, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise MemOSInputError(f"a store value must be JSON-serializable: {error}") from None
    stored = text if text.strip() else EMPTY_TEXT
    _check_fits(key, stored)
    fields = {}
    # Every top-level field is filterable, whether or not the value has a text field.
    for name, item in (rest if field is not None else value).items():
        if (indexed is not None and name not in indexed) or not name or "\x00" in name:
            continue
        if isinstance(item, (str, int, float, bool)) or item is None:
            encoded = json.dumps(item, ensure_ascii=False)
            if len(encoded) <= MAX_FILTER_VALUE:
                fields[VALUE_PREFIX + name] = encoded
    return Record(stored, title, fields)


def _check_fits(key: str, text: str) -> None:
    """A record is one memory, made by one ``add/message``: its text must fit one request."""
    tokens = max(message_tokens([{"role": "user", "content": t}]) for t in record_turns(key, text))
    if tokens > MAX_REQUEST_TOKENS:
        raise MemOSInputError(
            f"the value put at key {key!r} holds about {tokens:,} tokens of text; a record is one "
            f"MemOS memory, made by one add/message request of at most {MAX_REQUEST_TOKENS:,}: "
            "split the text over several keys"
        )


def join_value(title: str | None, text: str | None) -> tuple[str, dict[str, Any]] | None:
    """The key and value of a memory that holds a record, or ``None`` for any other memory."""
    if not title or not title.startswith(TITLE_MARK):
        return None
    try:
        meta = json.loads(title[len(TITLE_MARK) :])
        text = str(meta.get("blank", "")) if meta.get("empty") else text
        raw: Any = json.loads(text or "null") if meta["json"] else (text or "")
        field = meta["field"]
        if field is None:
            return str(meta["key"]), dict(raw)
        items = list(meta["rest"].items())
        items.insert(int(meta.get("at", len(items))), (field, raw))  # older records: text last
        return str(meta["key"]), dict(items)
    except (ValueError, KeyError, TypeError):
        return None


def value_filter(
    filter: Mapping[str, Any] | None, indexed: frozenset[str] | None = None
) -> list[dict[str, str]]:
    """``search(filter=...)`` compiled to MemOS conditions; what MemOS cannot express is refused.

    MemOS compares info fields for equality, so a filter may name top-level value fields with a
    string, number, boolean or ``None``, or ``{"$eq": ...}`` of one.
    """
    if filter is None:
        return []
    if not isinstance(filter, Mapping):
        raise MemOSInputError(f"filter must be a dict; got {type(filter).__name__}")
    conditions = []
    for name, test in filter.items():
        if not isinstance(name, str) or not name:
            raise MemOSInputError(f"filter field names must be non-empty strings; got {name!r}")
        if name in TEXT_FIELDS:
            raise MemOSInputError(
                f"filter on {name!r}, the text of a record, is not supported by MemOSStore: "
                "search it with query= instead"
            )
        if "." in name:
            raise MemOSInputError(
                f"filter on the nested field {name!r}: MemOS filters compare top-level fields only"
            )
        if "\x00" in name:
            raise MemOSInputError(f"filter on {name!r}: a field name with NUL is not filterable")
        if indexed is not None and name not in indexed:
            raise MemOSInputError(
                f"filter on {name!r}: this store copies only {sorted(indexed)} into MemOS for "
                "filters (its index_fields)"
            )
        if isinstance(test, Mapping):
            operators = set(test)
            if not all(str(op).startswith("$") for op in operators):
                raise MemOSInputError(
                    f"filter[{name!r}] is a nested path ({test!r}): MemOS filters compare "
                    "top-level fields only"
                )
            if operators != {"$eq"}:
                unsupported = sorted(str(op) for op in operators - {"$eq"})
                raise MemOSInputError(
                    f"filter[{name!r}] uses {', '.join(unsupported)}: MemOS filters compare "
                    "values for equality only ({'field': value} or {'$eq': value})"
                )
            test = test["$eq"]
        if not (isinstance(test, (str, int, float, bool)) or test is None):
            raise MemOSInputError(
                f"filter[{name!r}] compares with {type(test).__name__}: MemOS filters compare "
                "strings, numbers, booleans and None"
            )
        encoded = json.dumps(test, ensure_ascii=False)
        if len(encoded) > MAX_FILTER_VALUE:
            raise MemOSInputError(
                f"filter[{name!r}] compares with a value of {len(encoded)} characters; values "
                f"over {MAX_FILTER_VALUE} are not filterable"
            )
        conditions.append({VALUE_PREFIX + name: encoded})
    return conditions
