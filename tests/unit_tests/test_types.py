"""The response models tolerate what the service really sends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from langchain_memos import parse_timestamp
from langchain_memos.types import (
    SERVICE_TIMEZONE,
    MemoryDetail,
    SearchMemoryResult,
    ToolMemoryDetail,
)

UTC = timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1762674694466, datetime(2025, 11, 9, 7, 51, 34, 466000, tzinfo=UTC)),
        ("1762674694466", datetime(2025, 11, 9, 7, 51, 34, 466000, tzinfo=UTC)),
        (1762674694, datetime(2025, 11, 9, 7, 51, 34, tzinfo=UTC)),
        ("2025-06-10T10:00:00Z", datetime(2025, 6, 10, 10, 0, tzinfo=UTC)),
        (
            "2025-09-18T08:23:44.625511+00:00",
            datetime(2025, 9, 18, 8, 23, 44, 625511, tzinfo=UTC),
        ),
        ("2025-06-10 09:30:00", datetime(2025, 6, 10, 9, 30, tzinfo=SERVICE_TIMEZONE)),
        ("2025-06-10 09:30", datetime(2025, 6, 10, 1, 30, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("next Tuesday", None),
        (True, None),
    ],
)
def test_parse_timestamp(value: int | str | None, expected: datetime | None) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_naive_strings_can_be_read_in_another_timezone() -> None:
    paris = timezone(timedelta(hours=2))
    assert parse_timestamp("2025-06-10 09:30:00", naive_tz=paris) == datetime(
        2025, 6, 10, 7, 30, tzinfo=UTC
    )


def test_memory_items_keep_unknown_fields_and_accept_loose_types() -> None:
    memory = MemoryDetail.model_validate(
        {
            "id": "m1",
            "memory_value": "v",
            "tags": None,
            "relativity": "0.63",
            "confidence": "n/a",
            "create_time": "2025-09-18T08:23:44+00:00",
            "brand_new_field": {"x": 1},
        }
    )
    assert memory.tags == []
    assert memory.relativity == pytest.approx(0.63)
    assert memory.confidence is None
    assert memory.model_extra == {"brand_new_field": {"x": 1}}
    assert memory.created_at == datetime(2025, 9, 18, 8, 23, 44, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tool_type", "schema"),
    [
        ("ToolSchemaMemory", True),
        ("ToolSchema", True),
        ("ToolTrajectoryMemory", False),
        (None, False),
    ],
)
def test_both_spellings_of_tool_schema_memories(tool_type: str | None, schema: bool) -> None:
    memory = ToolMemoryDetail.model_validate(
        {"tool_type": tool_type, "tool_value": {"name": "get_weather"}, "tool_used_status": None}
    )
    assert memory.is_schema is schema
    assert memory.tool_used_status == []


def test_search_result_lists_may_be_null_or_absent() -> None:
    result = SearchMemoryResult.model_validate(
        {"memory_detail_list": None, "preference_note": None, "message_detail_list": None}
    )
    assert result.memory_detail_list == []
    assert result.skill_detail_list == []
    assert result.preference_note == ""
    assert len(result) == 0
