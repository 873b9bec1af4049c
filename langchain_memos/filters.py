"""Validation of MemOS filters (the filter language of search/get/chat/delete).

A filter has ``and`` or ``or`` at its root, holding a list of conditions; logical operators
cannot nest. The source-specific form puts such a root under ``user``, ``public`` and/or
``knowledgebase``. Conditions are::

    {"agent_id": "a1"}                       equality on agent_id, app_id or any info key
    {"tags": {"contains": "finance"}}        tag membership
    {"create_time": {"gte": "2025-12-10"}}   lt / gt / lte / gte on create_time, update_time

Example:
    >>> validate_filter({"and": [{"tags": {"contains": "travel"}}, {"scene": "trip"}]})
    {'and': [{'tags': {'contains': 'travel'}}, {'scene': 'trip'}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_memos._exceptions import MemOSInputError

__all__ = ["validate_filter"]

LOGICAL_OPERATORS = frozenset({"and", "or"})
SOURCE_KEYS = frozenset({"user", "public", "knowledgebase"})
TIME_FIELDS = frozenset({"create_time", "update_time"})
TIME_OPERATORS = frozenset({"lt", "gt", "lte", "gte"})


def validate_filter(value: object) -> dict[str, Any]:
    """Check a raw filter against the MemOS filter rules and return it as a plain dict.

    Raises:
        MemOSInputError: the filter is empty, nests logical operators, uses an unknown operator,
            filters on user_id, or compares with a non-string value.
    """
    if not isinstance(value, Mapping):
        raise MemOSInputError(f"filter must be a dict; got {type(value).__name__}")
    if not value:
        raise MemOSInputError("filter must not be empty: omit it (None) to search without one")
    keys = set(value)
    if keys <= SOURCE_KEYS:
        for source in value:
            _check_root(value[source], f"filter[{source!r}]")
        return {key: value[key] for key in value}
    if keys & SOURCE_KEYS:
        raise MemOSInputError(
            "filter mixes the source-specific form (user/public/knowledgebase) with a plain root"
        )
    _check_root(value, "filter")
    return dict(value)


def _check_root(root: object, where: str) -> None:
    if not isinstance(root, Mapping) or len(root) != 1:
        raise MemOSInputError(f"{where} must have exactly one of 'and' or 'or' at its root")
    ((operator, conditions),) = root.items()
    if operator not in LOGICAL_OPERATORS:
        raise MemOSInputError(f"{where} must have 'and' or 'or' at its root; got {operator!r}")
    if not isinstance(conditions, list) or not conditions:
        raise MemOSInputError(f"{where}[{operator!r}] must be a non-empty list of conditions")
    for index, condition in enumerate(conditions):
        _check_condition(condition, f"{where}[{operator!r}][{index}]")


def _check_condition(condition: object, where: str) -> None:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise MemOSInputError(f"{where} must be a dict with exactly one field")
    ((field, test),) = condition.items()
    if not isinstance(field, str) or not field:
        raise MemOSInputError(f"{where}: field names must be non-empty strings")
    if field in LOGICAL_OPERATORS:
        raise MemOSInputError(f"{where}: MemOS filters cannot nest '{field}' inside a condition")
    if field == "user_id":
        raise MemOSInputError(f"{where}: user_id cannot be filtered on; pass user_id instead")
    if field == "tags":
        if not isinstance(test, Mapping) or set(test) != {"contains"}:
            raise MemOSInputError(f"{where}: tags takes {{'contains': <tag>}}")
        _check_string(test["contains"], f"{where}['tags']['contains']")
    elif field in TIME_FIELDS:
        if not isinstance(test, Mapping) or not test or not set(test) <= TIME_OPERATORS:
            raise MemOSInputError(
                f"{where}: {field} takes one or more of {sorted(TIME_OPERATORS)}, "
                f"e.g. {{'gte': '2025-12-10'}}"
            )
        for operator, bound in test.items():
            _check_string(bound, f"{where}[{field!r}][{operator!r}]")
    else:
        _check_string(test, f"{where}[{field!r}]")


def _check_string(value: object, where: str) -> None:
    if not isinstance(value, str) or not value:
        raise MemOSInputError(
            f"{where} must be a non-empty string (MemOS compares strings; convert numbers "
            f"with str()); got {value!r}"
        )
