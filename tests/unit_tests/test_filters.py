"""Raw filters are checked against the MemOS filter rules before any request."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from langchain_core.messages import HumanMessage

from langchain_memos import MemOSClient, MemOSInputError, validate_filter
from langchain_memos.chat_message_histories import MemOSChatMessageHistory
from langchain_memos.filters import all_of, created, updated
from tests.fakes import FakeMemOS, build

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


# ---- the builder ---------------------------------------------------------------------------


def test_the_builder_writes_the_documented_filters() -> None:
    from datetime import date, datetime

    from langchain_memos.filters import (
        agent,
        all_of,
        any_of,
        app,
        by_source,
        created,
        info,
        tag,
        updated,
    )

    assert all_of(
        agent("customer_service"),
        info("scene", "Bill"),
        created(gt=date(2025, 10, 1)),
        created(lt="2026-01-01"),
    ) == {
        "and": [
            {"agent_id": "customer_service"},
            {"scene": "Bill"},
            {"create_time": {"gt": "2025-10-01"}},
            {"create_time": {"lt": "2026-01-01"}},
        ]
    }
    assert any_of(tag("finance"), app("crm")) == {
        "or": [{"tags": {"contains": "finance"}}, {"app_id": "crm"}]
    }
    assert updated(gte=datetime(2025, 12, 10, 8, 30)) == {
        "update_time": {"gte": "2025-12-10 08:30:00"}
    }
    assert by_source(user=all_of(agent("a")), knowledgebase=any_of(info("scene", "faq"))) == {
        "user": {"and": [{"agent_id": "a"}]},
        "knowledgebase": {"or": [{"scene": "faq"}]},
    }


def test_the_builder_refuses_what_memos_refuses() -> None:
    from langchain_memos.filters import all_of, any_of, by_source, created, info, tag

    with pytest.raises(MemOSInputError, match="cannot nest"):
        all_of(any_of(tag("a")))
    with pytest.raises(MemOSInputError, match="non-empty list"):
        all_of()
    with pytest.raises(MemOSInputError, match="at least one of lt"):
        created()
    with pytest.raises(MemOSInputError, match="not an info key"):
        info("user_id", "u1")
    with pytest.raises(MemOSInputError, match="convert numbers"):
        all_of(info("score", 5))  # type: ignore[arg-type]
    with pytest.raises(MemOSInputError, match="must not be empty"):
        by_source()


def test_every_datetime_is_sent_in_the_services_timezone(fake: FakeMemOS) -> None:
    """The service reads times as UTC+8: an aware datetime is converted, as chat_time is."""
    moment = datetime(2025, 12, 10, 0, 30, tzinfo=timezone.utc)  # 08:30 in Beijing
    client = cast(MemOSClient, build("sync", fake))

    client.search_memory("q", user_id="u1", filter=all_of(created(gte=moment)))
    history = MemOSChatMessageHistory("u1", "c1", client=client)
    history.add_messages([HumanMessage("hi", additional_kwargs={"chat_time": moment})])

    sent_filter, sent_messages = fake.bodies
    assert sent_filter["filter"] == {"and": [{"create_time": {"gte": "2025-12-10 08:30:00"}}]}
    assert sent_messages["messages"][0]["chat_time"] == "2025-12-10 08:30:00"


def test_naive_datetimes_are_taken_as_service_time_and_dates_as_days() -> None:
    bound = updated(lt=datetime(2025, 12, 10, 8, 30), gte=date(2025, 12, 1))
    assert bound == {"update_time": {"lt": "2025-12-10 08:30:00", "gte": "2025-12-01"}}
    eastern = timezone(timedelta(hours=-5))
    assert created(lt=datetime(2025, 12, 9, 19, 30, tzinfo=eastern)) == {
        "create_time": {"lt": "2025-12-10 08:30:00"}
    }


def test_a_time_before_year_1000_keeps_four_digits_and_one_with_no_utc8_time_is_refused(
    fake: FakeMemOS,
) -> None:
    """strftime does not pad a year before 1000 (the filter check then refused the text the
    package made itself); an aware time near the end of year 9999 has no UTC+8 time, and was
    sent at its own offset, a moment 20 hours off."""
    assert created(gte=datetime(999, 1, 1)) == {"create_time": {"gte": "0999-01-01 00:00:00"}}
    validate_filter(all_of(created(gte=datetime(999, 1, 1))))
    edge = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12)))
    with pytest.raises(MemOSInputError, match="has no time in the service's timezone"):
        created(lt=edge)
    history = MemOSChatMessageHistory("u1", "c1", client=cast(MemOSClient, build("sync", fake)))
    with pytest.raises(MemOSInputError, match=r"messages\[0\]: chat_time 9999-12-31T23:00"):
        history.add_messages([HumanMessage("hi", additional_kwargs={"chat_time": edge})])
    assert fake.bodies == []
