"""Raw filters are checked against the MemOS filter rules before any request."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos import MemOSInputError, validate_filter

GOOD: list[dict[str, Any]] = [
    {"and": [{"agent_id": "customer_service"}, {"scene": "Bill"}]},
    {"or": [{"tags": {"contains": "finance"}}]},
    {"and": [{"create_time": {"gt": "2025-10-01"}}, {"create_time": {"lt": "2026-01-01"}}]},
    {"and": [{"update_time": {"gte": "2025-10-01", "lte": "2025-12-01"}}]},
    {"user": {"and": [{"app_id": "a"}]}, "knowledgebase": {"or": [{"scene": "faq"}]}},
]

BAD: list[tuple[Any, str]] = [
    ({}, "must not be empty"),
    ([{"agent_id": "a"}], "must be a dict"),
    ({"agent_id": "a"}, "'and' or 'or' at its root"),
    ({"and": [], "or": []}, "exactly one of 'and' or 'or'"),
    ({"and": []}, "non-empty list"),
    ({"and": {"agent_id": "a"}}, "non-empty list"),
    ({"and": [{"or": [{"agent_id": "a"}]}]}, "cannot nest 'or'"),
    ({"and": [{"user_id": "u1"}]}, "user_id cannot be filtered"),
    ({"and": [{"agent_id": "a", "app_id": "b"}]}, "exactly one field"),
    ({"and": [{"tags": "finance"}]}, "tags takes"),
    ({"and": [{"tags": {"equals": "finance"}}]}, "tags takes"),
    ({"and": [{"create_time": {"after": "2025-01-01"}}]}, "create_time takes"),
    ({"and": [{"create_time": {"gt": 1700000000}}]}, "must be a non-empty string"),
    ({"and": [{"scene": 3}]}, "convert numbers"),
    ({"and": [{"scene": {"contains": "x"}}]}, "must be a non-empty string"),
    ({"user": {"and": [{"app_id": "a"}]}, "and": []}, "mixes the source-specific form"),
    ({"public": {"not": []}}, "'and' or 'or' at its root"),
]


@pytest.mark.parametrize("value", GOOD)
def test_documented_filters_pass_unchanged(value: dict[str, Any]) -> None:
    assert validate_filter(value) == value


@pytest.mark.parametrize(("value", "message"), BAD)
def test_invalid_filters_are_explained(value: Any, message: str) -> None:
    with pytest.raises(MemOSInputError, match=message.replace("(", r"\(")):
        validate_filter(value)
