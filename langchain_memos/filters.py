"""Validation of MemOS filters (the filter language of search/get/chat/delete).

A filter has ``and`` or ``or`` at its root, holding a list of conditions; logical operators
cannot nest. The source-specific form puts such a root under ``user``, ``public`` and/or
``knowledgebase``. Conditions are::

    {"agent_id": "a1"}                       equality on agent_id, app_id or any info key
    {"tags": {"contains": "finance"}}        tag membership
    {"create_time": {"gte": "2025-12-10"}}   lt / gt / lte / gte on create_time, update_time

Build filters with the small typed helpers below, or pass raw dicts: both are checked by the same
rules before any request.

Example:
    >>> all_of(tag("travel"), info("scene", "trip"))
    {'and': [{'tags': {'contains': 'travel'}}, {'scene': 'trip'}]}
    >>> validate_filter({"and": [{"tags": {"contains": "travel"}}, {"scene": "trip"}]})
    {'and': [{'tags': {'contains': 'travel'}}, {'scene': 'trip'}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeAlias

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._service_time import checked_service_time
from langchain_memos.types import parse_timestamp

__all__ = [
    "Condition",
    "agent",
    "all_of",
    "any_of",
    "app",
    "by_source",
    "created",
    "info",
    "tag",
    "updated",
    "validate_filter",
]

Condition: TypeAlias = dict[str, Any]
"""One condition of a filter, such as ``{"agent_id": "a1"}``."""
TimeBound: TypeAlias = str | date | datetime

LOGICAL_OPERATORS = frozenset({"and", "or"})
SOURCE_KEYS = frozenset({"user", "public", "knowledgebase"})
TIME_FIELDS = frozenset({"create_time", "update_time"})
TIME_OPERATORS = frozenset({"lt", "gt", "lte", "gte"})


def validate_filter(value: object) -> dict[str, Any]:
    """Check a raw filter against the MemOS filter rules and return it as a plain dict.

    The copy returned is made of plain dicts, lists and strings, ready for JSON.

    Raises:
        MemOSInputError: the filter is empty, nests logical operators, uses an unknown operator,
            filters on user_id, compares with a non-string value, or bounds a time with
            something that is not a date (``2025-12-10``, ``2025-12-10 08:30:00``, ISO-8601).
    """
    if not isinstance(value, Mapping):
        raise MemOSInputError(f"filter must be a dict; got {type(value).__name__}")
    if not value:
        raise MemOSInputError("filter must not be empty: omit it (None) to search without one")
    keys = set(value)
    if keys <= SOURCE_KEYS:
        return {source: _check_root(value[source], f"filter[{source!r}]") for source in value}
    if keys & SOURCE_KEYS:
        raise MemOSInputError(
            "filter mixes the source-specific form (user/public/knowledgebase) with a plain root"
        )
    return _check_root(value, "filter")


def _check_root(root: object, where: str) -> dict[str, Any]:
    if not isinstance(root, Mapping) or len(root) != 1:
        raise MemOSInputError(f"{where} must have exactly one of 'and' or 'or' at its root")
    ((operator, conditions),) = root.items()
    if operator not in LOGICAL_OPERATORS:
        raise MemOSInputError(f"{where} must have 'and' or 'or' at its root; got {operator!r}")
    if not isinstance(conditions, list) or not conditions:
        raise MemOSInputError(f"{where}[{operator!r}] must be a non-empty list of conditions")
    return {
        operator: [
            _check_condition(condition, f"{where}[{operator!r}][{index}]")
            for index, condition in enumerate(conditions)
        ]
    }


def _check_condition(condition: object, where: str) -> Condition:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise MemOSInputError(f"{where} must be a dict with exactly one field")
    ((field, test),) = condition.items()
    if not isinstance(field, str) or not field or "\x00" in field:
        raise MemOSInputError(f"{where}: field names must be non-empty strings without NUL")
    if field in LOGICAL_OPERATORS:
        raise MemOSInputError(f"{where}: MemOS filters cannot nest '{field}' inside a condition")
    if field == "user_id":
        raise MemOSInputError(f"{where}: user_id cannot be filtered on; pass user_id instead")
    if field == "tags":
        if not isinstance(test, Mapping) or set(test) != {"contains"}:
            raise MemOSInputError(f"{where}: tags takes {{'contains': <tag>}}")
        _check_string(test["contains"], f"{where}['tags']['contains']")
        return {field: {"contains": test["contains"]}}
    if field in TIME_FIELDS:
        if not isinstance(test, Mapping) or not test or not set(test) <= TIME_OPERATORS:
            raise MemOSInputError(
                f"{where}: {field} takes one or more of {sorted(TIME_OPERATORS)}, "
                f"e.g. {{'gte': '2025-12-10'}}"
            )
        for operator, bound in test.items():
            _check_string(bound, f"{where}[{field!r}][{operator!r}]")
            if parse_timestamp(bound) is None:
                raise MemOSInputError(
                    f"{where}[{field!r}][{operator!r}] must be a date such as '2025-12-10' or "
                    f"'2025-12-10 08:30:00'; got {bound!r}"
                )
        return {field: dict(test)}
    _check_string(test, f"{where}[{field!r}]")
    return {field: test}


def _check_string(value: object, where: str) -> None:
    if not isinstance(value, str) or not value:
        raise MemOSInputError(
            f"{where} must be a non-empty string (MemOS compares strings; convert numbers "
            f"with str()); got {value!r}"
        )


# ---- builder -------------------------------------------------------------------------------


def tag(name: str) -> Condition:
    """Memories carrying the tag ``name``."""
    return {"tags": {"contains": name}}


def agent(agent_id: str) -> Condition:
    """Memories written for ``agent_id``."""
    return {"agent_id": agent_id}


def app(app_id: str) -> Condition:
    """Memories written for ``app_id``."""
    return {"app_id": app_id}


def info(key: str, value: str) -> Condition:
    """Memories whose ``info[key]`` equals ``value`` (MemOS compares strings)."""
    if key in LOGICAL_OPERATORS or key in TIME_FIELDS or key in {"tags", "user_id"}:
        raise MemOSInputError(f"{key!r} is not an info key; use the helper for that field")
    return {key: value}


def _bound(value: TimeBound) -> str:
    if isinstance(value, datetime):
        return checked_service_time(value, "a filter's time")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _time(field: str, bounds: dict[str, TimeBound | None]) -> Condition:
    given = {op: _bound(value) for op, value in bounds.items() if value is not None}
    if not given:
        raise MemOSInputError(f"give {field} at least one of lt, gt, lte or gte")
    return {field: given}


def created(
    *,
    lt: TimeBound | None = None,
    gt: TimeBound | None = None,
    lte: TimeBound | None = None,
    gte: TimeBound | None = None,
) -> Condition:
    """Memories created in a time range; bounds are dates, datetimes or date strings.

    An aware datetime is converted to the service's timezone (UTC+8); a naive one is taken as
    already in it (see :func:`~langchain_memos.types.format_service_time`).
    """
    return _time("create_time", {"lt": lt, "gt": gt, "lte": lte, "gte": gte})


def updated(
    *,
    lt: TimeBound | None = None,
    gt: TimeBound | None = None,
    lte: TimeBound | None = None,
    gte: TimeBound | None = None,
) -> Condition:
    """Memories last updated in a time range; datetimes as in :func:`created`."""
    return _time("update_time", {"lt": lt, "gt": gt, "lte": lte, "gte": gte})


def all_of(*conditions: Condition) -> dict[str, Any]:
    """A filter that matches memories meeting every condition."""
    return validate_filter({"and": list(conditions)})


def any_of(*conditions: Condition) -> dict[str, Any]:
    """A filter that matches memories meeting at least one condition."""
    return validate_filter({"or": list(conditions)})


def by_source(
    *,
    user: Mapping[str, Any] | None = None,
    public: Mapping[str, Any] | None = None,
    knowledgebase: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A source-specific filter: one ``all_of`` / ``any_of`` per memory source.

    ``knowledgebase`` applies only within the search's ``knowledgebase_ids``.
    """
    sources = {"user": user, "public": public, "knowledgebase": knowledgebase}
    return validate_filter({key: value for key, value in sources.items() if value is not None})
