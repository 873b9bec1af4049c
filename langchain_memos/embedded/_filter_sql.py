"""The filter language compiled to SQL for the embedded engine: conditions, roots, sources.

The filter has already passed :func:`langchain_memos.filters.validate_filter`; this module only
says how each condition reads the ``memories`` table (aliased ``m``). Values always travel as
parameters, appended to the caller's list in the order of the placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_memos.embedded import _info_index as info_index
from langchain_memos.embedded._text import bound_ms

__all__ = ["MAX_FILTER_CONDITIONS", "FilterError", "filter_sql"]


class FilterError(ValueError):
    """A filter the engine cannot apply."""


def _time_bound(value: object) -> int:
    bound = bound_ms(value)
    if bound is None:
        raise FilterError(f"not a date or time: {value!r}")
    return bound


_TIME_SQL = {"lt": "<", "gt": ">", "lte": "<=", "gte": ">="}


def _condition_sql(condition: Mapping[str, Any], params: list[Any]) -> str:
    ((field, test),) = condition.items()
    if field == "tags":
        params.append(test["contains"])
        # Read as it is stored but for the tags fast mode writes (see _bodies.fast_tags).
        return (
            "EXISTS (SELECT 1 FROM json_each(CASE WHEN m.tags != '' THEN m.tags "
            "ELSE memory_tags(m.kind, m.tags, m.text) END) WHERE value = ?)"
        )
    if field in ("create_time", "update_time"):
        parts = []
        for op, bound in test.items():
            params.append(_time_bound(bound))
            parts.append(f"m.{field} {_TIME_SQL[op]} ?")
        return "(" + " AND ".join(parts) + ")"
    if field in ("agent_id", "app_id", "conversation_id"):
        params.append(test)
        return f"m.{field} = ?"
    # By key, not by JSON path: any key (quotes, dots, CJK) compares as itself; through the
    # index of the info fields, which holds each value as CAST(value AS TEXT).
    params.append(field)
    params.append(test)
    return info_index.CONDITION


def _root_sql(root: Mapping[str, Any], params: list[Any]) -> str:
    ((operator, conditions),) = root.items()
    joiner = " AND " if operator == "and" else " OR "
    return "(" + joiner.join(_condition_sql(c, params) for c in conditions) + ")"


_SOURCE_SQL = {
    "user": "m.knowledgebase_id IS NULL",
    "public": "m.public = 1",
    "knowledgebase": "m.knowledgebase_id IS NOT NULL",
}


# SQLite parses "a OR b OR ..." into a tree as deep as the conditions are many, at most 1,000.
MAX_FILTER_CONDITIONS = 500


def filter_sql(filter: Mapping[str, Any] | None, params: list[Any], *, unnamed: bool = True) -> str:
    """SQL for a filter already checked by ``validate_filter``; ``TRUE`` for none.

    ``unnamed``: in the source-specific form, whether the memories of a source the filter does
    not name pass whole (a search's or a listing's filter narrows what it names) or not at all
    (a delete removes only what its filter names, never every memory of the other sources)."""
    if not filter:
        return "1"
    roots = filter.values() if set(filter) <= set(_SOURCE_SQL) else [filter]
    count = sum(len(conditions) for root in roots for conditions in root.values())
    if count > MAX_FILTER_CONDITIONS:
        raise FilterError(
            f"a filter holds at most {MAX_FILTER_CONDITIONS} conditions in the embedded engine; "
            f"this one holds {count}"
        )
    if set(filter) <= set(_SOURCE_SQL):
        # Source-specific form: each source's root applies to that source's memories only.
        parts = [
            f"({_SOURCE_SQL[source]} AND {_root_sql(root, params)})"
            for source, root in filter.items()
        ]
        unfiltered = [
            f"({sql})" for source, sql in _SOURCE_SQL.items() if unnamed and source not in filter
        ]
        return "(" + " OR ".join(parts + unfiltered) + ")"
    return _root_sql(filter, params)
