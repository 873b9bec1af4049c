"""Prompt assembly of every memory view: profile fields, events with their time, tools and
skills in their own sections of the memory block, described, budgeted, in English and Chinese."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest

from langchain_memos.types import SearchMemoryResult
from tests.integration_tests.doc_views import EVENT, PROFILE_FIELDS
from tests.unit_tests.test_prompts import DOCUMENTED, builder, ms

HIKE = {
    "id": "e1",
    "event_key": "Hike with Mia",
    "event_value": "The user went hiking in Sintra with their daughter Mia.",
    # As the embedded engine dates it: the time the turn was sent (service time), then the
    # time the user named.
    "event_time": ["2026-01-02 18:30", "last Tuesday afternoon"],
    "event_location": ["Sintra"],
    "create_time": ms(2026, 1, 2, 18, 30),
    "relativity": 0.85,
}
EVERY_VIEW = SearchMemoryResult.model_validate(
    {
        **DOCUMENTED.model_dump(include={"memory_detail_list", "preference_note"}),
        "preference_detail_list": [
            {
                "id": "p1",
                "preference_type": "explicit_preference",
                "preference": "The user likes short answers.",
                "create_time": ms(2026, 1, 4, 20, 41),
                "relativity": 0.7,
            }
        ],
        "profile_detail_list": [
            {**field, "update_time": ms(2026, 1, 1, 9, 0)} for field in PROFILE_FIELDS
        ],
        "event_detail_list": [HIKE],
        "tool_memory_detail_list": [
            {"id": "t1", "experience": "get_weather works for Lisbon", "relativity": 0.5}
        ],
    }
)
CHINESE = SearchMemoryResult.model_validate(
    {
        "memory_detail_list": [
            {"id": "f1", "memory_value": "用户是产品经理。", "relativity": 0.5},
        ],
        "profile_detail_list": [
            {
                **PROFILE_FIELDS[1],
                "memory": "基本信息.所在地: 杭州",
                "update_time": ms(2026, 1, 1, 9, 0),
            }
        ],
        "event_detail_list": [{**EVENT, "event_location": ["杭州"]}],
    }
)


def sections(text: str) -> list[str]:
    """The section tags of a memory block, in order."""
    block = text.split("<memories>\n", 1)[1].split("</memories>", 1)[0]
    return [
        line.strip()[1:-1]
        for line in block.splitlines()
        if line.startswith("  <") and "/" not in line
    ]


def test_profile_and_events_have_their_own_sections_in_english() -> None:
    prompt = builder().build(EVERY_VIEW, query="Plan our weekend")

    assert sections(prompt.instruction) == ["facts", "preferences", "profile", "events", "tools"]
    assert (
        "  <profile>\n"
        "    -[2026-01-01 09:00] Basic Info.Location: Hangzhou\n"
        "    -[2026-01-01 09:00] Basic Info.Occupation: Product Manager\n"
        "  </profile>\n"
        "\n"
        "  <events>\n"
        "    -[2026-01-02 18:30] [When: 2026-01-02 18:30, last Tuesday afternoon; Where: Sintra] "
        "The user went hiking in Sintra with their daughter Mia.\n"
        "  </events>\n"
        "\n"
        "  <tools>\n"
        "    -get_weather works for Lisbon\n"
        "  </tools>\n"
        "</memories>"
    ) in prompt.instruction
    # The documented description of the memories, with a line for each section it lacks.
    for text in (prompt.protocol_instruction, prompt.full_instruction):
        described = text.split("reasoning.\n", 1)[1].split("<memories>", 1)[0]
        assert described == (
            "- **Profile**: fields of the user's profile, as 'Category.Field: value': standing "
            "attributes of the user.\n"
            "- **Events**: things that happened, each with when (and where) it happened as it was "
            "said ('[When: last Tuesday]'), relative to the date of its line.\n"
            "- **Tools**: experience with tools: which calls worked, which failed, and how to "
            "call them.\n"
            "\n"
        )
        assert "<events>\n    -[2026-01-02 18:30] [When: " in text


def test_chinese_prompts_label_events_and_describe_the_sections_in_chinese() -> None:
    prompt = builder().build(CHINESE, query="这周末做什么？")

    assert (
        "  <profile>\n    -[2026-01-01 09:00] 基本信息.所在地: 杭州\n  </profile>"
        in prompt.instruction
    )
    assert (
        "  <events>\n    -[2026-07-13 16:02] [时间：上周二下午、七月底；地点：杭州] "
        "用户与李四于上周二下午完成方案评审" in prompt.instruction
    )
    assert prompt.instruction.endswith("以上时间的时区均为 UTC+08:00 (Asia/Shanghai)。")
    described = prompt.protocol_instruction.split("显式/隐式要求。\n", 1)[1].split("<memories>")[0]
    assert described.startswith("- **画像 (Profile)**：用户画像的字段")
    assert "- **事件 (Events)**：发生过的事情，每条带有其发生的时间（及地点）" in described
    assert "Profile**:" not in prompt.full_instruction  # nothing of the English text


def test_the_language_follows_the_recalled_events_and_profile_without_a_query() -> None:
    only_views = SearchMemoryResult.model_validate(
        CHINESE.model_dump(include={"profile_detail_list", "event_detail_list"})
    )
    assert "[时间：上周二下午、七月底" in builder().build(only_views).instruction


def test_without_other_views_the_documented_description_is_unchanged() -> None:
    prompt = builder().build(DOCUMENTED)
    assert sections(prompt.instruction) == ["facts", "preferences"]
    assert (
        "- **Preferences**: Explicit or implicit requirements for response style, format, or "
        "reasoning.\n\n<memories>" in prompt.protocol_instruction
    )
    zh = builder(language="zh").build(DOCUMENTED)
    assert "显式/隐式要求。\n\n<memories>" in zh.protocol_instruction


def test_event_times_the_service_gave_are_shown_in_the_builder_s_zone() -> None:
    prompt = builder(timezone=timezone.utc).build(EVERY_VIEW)
    assert (
        "    -[2026-01-02 10:30] [When: 2026-01-02 10:30, last Tuesday afternoon; Where: Sintra]"
        in prompt.instruction
    )


def test_one_budget_covers_every_section() -> None:
    full = builder().build(EVERY_VIEW)
    lines = {line.id: line for line in full.matches}
    hike = builder().token_counter(lines["e1"].render(builder().timezone))
    # Room for the two most relevant lines: the first fact (0.9), then the event (0.85), its
    # label counted; nothing else fits.
    first_fact = builder().token_counter(lines["f1"].render(builder().timezone))
    tight = builder(max_tokens=first_fact + hike)
    prompt = tight.build(EVERY_VIEW)

    assert [line.id for line in prompt.matches] == ["f1", "e1"]
    assert prompt.tokens <= first_fact + hike
    assert sections(prompt.instruction) == ["facts", "preferences", "events"]
    assert "**Events**" in prompt.protocol_instruction
    assert "**Profile**" not in prompt.protocol_instruction  # no profile line, no description
    assert full.tokens > prompt.tokens


@pytest.mark.parametrize(("fact", "event"), [(1.0, 1.0), (0.9, 0.5), (0.5, 0.9)])
def test_an_event_replaces_the_fact_that_says_the_same_keeping_its_time(
    fact: float, event: float
) -> None:
    said = "Last Tuesday I went hiking with my daughter Mia."
    result: dict[str, Any] = {
        "memory_detail_list": [
            {"id": "f", "memory_value": f"[user viewpoint] {said}", "relativity": fact},
            {"id": "other", "memory_value": "The user lives in Lisbon.", "relativity": 0.7},
        ],
        "event_detail_list": [
            {"id": "e", "event_value": said, "event_time": ["Last Tuesday"], "relativity": event}
        ],
    }
    prompt = builder().build(SearchMemoryResult.model_validate(result))
    assert sorted(str(line.id) for line in prompt.matches) == ["e", "other"]
    # Ranked with the more relevant of the two: ahead of the other fact.
    assert prompt.matches[0].id == "e"
    assert f"[When: Last Tuesday] {said}" in prompt.instruction
    assert "[user viewpoint]" not in prompt.instruction


def test_skills_are_described_when_recalled() -> None:
    result = SearchMemoryResult.model_validate(
        {
            "skill_detail_list": [
                {"id": "s", "skill_value": {"name": "trip-planner"}, "relativity": 0.5}
            ]
        }
    )
    prompt = builder().build(result)
    assert (
        "- **Skills**: reusable skills, by name and description.\n" in prompt.protocol_instruction
    )
    zh = builder(language="zh").build(result)
    assert "- **技能 (Skills)**：可复用的技能，含名称与说明。\n" in zh.protocol_instruction
