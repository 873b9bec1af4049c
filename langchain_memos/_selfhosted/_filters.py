"""The cloud's filter language translated into the self-hosted server's filter form.

The cloud filters on ``agent_id``, ``app_id``, ``tags``, ``create_time`` / ``update_time`` and
any info key written directly (``{"scene": "trip"}``). The server filters on its memories' raw
metadata: ``info.<key>`` for info keys (where this package writes ``agent_id`` and ``app_id``),
``tags`` with ``contains``, and ``created_at`` / ``updated_at`` compared as timestamps
(``memos.graph_dbs.*._build_filter_conditions``). Both take one ``and`` / ``or`` root over a
list of conditions.

Example:
    >>> translate_filter({"and": [{"agent_id": "a1"}, {"create_time": {"gte": "2025-12-10"}}]})
    {'and': [{'info.agent_id': 'a1'}, {'created_at': {'gte': '2025-12-10T00:00:00+08:00'}}]}
"""

from __future__ import annotations

import re
from typing import Any

from langchain_memos._exceptions import MemOSInputError
from langchain_memos.filters import LOGICAL_OPERATORS, SOURCE_KEYS, validate_filter
from langchain_memos.types import parse_timestamp

TIME_FIELDS = {"create_time": "created_at", "update_time": "updated_at"}
SCOPE_FIELDS = ("agent_id", "app_id")
# The server builds its query with info keys spliced in as names: it refuses any other shape.
_INFO_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def translate_filter(cloud_filter: Any) -> dict[str, Any] | None:
    """The server's form of a cloud filter; ``None`` stays ``None``.

    Raises:
        MemOSInputError: the filter breaks the cloud's rules, scopes ``public`` or
            ``knowledgebase`` memories (a self-hosted server has neither), or names an info key
            the server cannot filter on.
    """
    if cloud_filter is None:
        return None
    checked = validate_filter(cloud_filter)
    if set(checked) <= SOURCE_KEYS:
        others = sorted(set(checked) - {"user"})
        if others:
            raise MemOSInputError(
                f"a self-hosted MemOS server has no {' or '.join(others)} memories to filter: "
                "use a plain filter, or only the 'user' part of a source-specific one"
            )
        checked = checked["user"]
    ((operator, conditions),) = checked.items()
    assert operator in LOGICAL_OPERATORS  # validate_filter made sure
    return {operator: [_condition(condition) for condition in conditions]}


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    ((field, test),) = condition.items()
    if field == "tags":
        return {"tags": {"contains": test["contains"]}}
    if field in TIME_FIELDS:
        return {TIME_FIELDS[field]: {op: _instant(bound) for op, bound in test.items()}}
    if not _INFO_KEY.fullmatch(field):
        raise MemOSInputError(
            f"a self-hosted MemOS server filters info keys made of letters, digits and "
            f"underscores only; got {field!r}"
        )
    return {f"info.{field}": test}


def _instant(bound: str) -> str:
    # The cloud reads a bound without a zone in its own time (UTC+8); the server would read it
    # in the database's. An explicit offset keeps the instant the caller meant.
    parsed = parse_timestamp(bound)
    assert parsed is not None  # validate_filter made sure
    return parsed.isoformat()
