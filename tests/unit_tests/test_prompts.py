"""Prompt assembly: the documented memory block, budgets, merging, languages, templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from langchain_memos import MemOSInputError
from langchain_memos.prompts import (
    MemoryPromptBuilder,
    PromptParts,
    build_memory_prompt,
    check_prompt_mode,
)
from langchain_memos.types import SearchMemoryResult

BEIJING = timezone(timedelta(hours=8))


def ms(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=BEIJING).timestamp() * 1000)


# The documentation's assembly example (search_memory, section 5), as a search result.
DOCUMENTED = SearchMemoryResult.model_validate(
    {
        "memory_detail_list": [
            {
                "id": "f1",
                "memory_value": "The user plans to travel to Guangzhou during the summer vacation "
                "and chose 7 Days Inn as the accommodation option.",
                "create_time": ms(2025, 12, 26, 21, 45),
                "relativity": 0.9,
            },
            {
                "id": "f2",
                "memory_value": "The user's name is Grace.",
                "create_time": ms(2025, 12, 26, 14, 26),
                "relativity": 0.8,
            },
        ],
        "preference_detail_list": [
            {
                "id": "p1",
                "preference_type": "explicit_preference",
                "preference": "The user likes traveling to southern regions.",
                "create_time": ms(2026, 1, 4, 20, 41),
                "relativity": 0.7,
            },
            {
                "id": "p2",
                "preference_type": "implicit_preference",
                "preference": "The user may prefer cost-effective hotel options.",
                "create_time": ms(2025, 12, 26, 21, 45),
                "relativity": 0.6,
            },
        ],
        "preference_note": (
            "\n# Note:\nYour reply must not violate any of the user's preferences.\n"
        ),
    }
)
NOW = datetime(2026, 1, 6, 15, 5, tzinfo=BEIJING)


def builder(**options: Any) -> MemoryPromptBuilder:
    return MemoryPromptBuilder(now=lambda: NOW, **options)


def test_the_documented_memory_block() -> None:
    prompt = builder().build(DOCUMENTED, query="Recommend a city I have not been to.")

    assert prompt.instruction == (
        "<memories>\n"
        "  <facts>\n"
        "    -[2025-12-26 21:45] The user plans to travel to Guangzhou during the summer vacation"
        " and chose 7 Days Inn as the accommodation option.\n"
        "    -[2025-12-26 14:26] The user's name is Grace.\n"
        "  </facts>\n"
        "\n"
        "  <preferences>\n"
        "    -[2026-01-04 20:41] [Explicit Preference] "
        "The user likes traveling to southern regions.\n"
        "    -[2025-12-26 21:45] [Implicit Preference] "
        "The user may prefer cost-effective hotel options.\n"
        "  </preferences>\n"
        "</memories>\n"
        "All times above are in UTC+08:00 (Asia/Shanghai).\n"
        "\n"
        "# Note:\n"
        "Your reply must not violate any of the user's preferences."
    )
    full = prompt.full_instruction
    assert full.startswith("# Role\nYou are an intelligent assistant with long-term memory")
    assert "- Current time: 2026-01-06 15:05" in full
    assert "- Time zone: UTC+08:00 (Asia/Shanghai)" in full
    block, note = prompt.instruction.split("\nAll times above are in UTC+08:00 (Asia/Shanghai).")
    assert block + note in full
    for heading in (
        "1. Source verification",
        "2. Attribution check",
        "3. Relevance check",
        "4. Freshness check",
    ):
        assert heading in full
    assert full.endswith("# Original Query\nRecommend a city I have not been to.")
    assert [m.id for m in prompt.matches] == ["f1", "f2", "p1", "p2"]
    assert prompt


def test_chinese_is_picked_from_the_query_or_asked_for() -> None:
    zh = builder().build(DOCUMENTED, query="我国庆想出去玩")
    assert zh.full_instruction.startswith("# Role\n你是一个拥有长期记忆能力的智能助手")
    assert "四步判决" in zh.full_instruction
    assert "[显式偏好] The user likes traveling" in zh.instruction
    assert "[隐式偏好]" in zh.instruction
    assert builder(language="zh").build(DOCUMENTED).full_instruction.startswith("# Role\n你是")
    # A query's language is what most of it is written in, not any Chinese character in it.
    for query, opening in (
        ("Which cheap hotels do you recommend in 北京?", "# Role\nYou are"),
        ("Any hotel near 上海 Hongqiao station please", "# Role\nYou are"),
        ("我想去Paris玩", "# Role\n你是"),
        ("北京", "# Role\n你是"),
        # Chinese with product names, code, a URL or an error pasted in is still Chinese.
        (
            "用LangChain和MemOS搭建RAG系统，怎么配置OpenAI的API key和embedding model?",
            "# Role\n你是",
        ),
        (
            "这个报错怎么解决: TypeError: unsupported operand type(s) for +: 'int' and 'str'",
            "# Role\n你是",
        ),
        ("帮我总结一下这篇文章 https://example.com/posts/2026/llm-memory-systems", "# Role\n你是"),
        ("帮我看下 for i in range(10): print(i) 哪里错了", "# Role\n你是"),
        ("Docker Desktop 启动失败", "# Role\n你是"),
    ):
        assert builder().build(DOCUMENTED, query=query).full_instruction.startswith(opening)
    assert (
        builder(language="en")
        .build(DOCUMENTED, query="国庆")
        .full_instruction.startswith("# Role\nYou are")
    )


PROTOCOL_STEPS = (
    "# Critical Protocol: Memory Safety",
    "1. Source verification",
    "2. Attribution check",
    "3. Relevance check",
    "4. Freshness check",
)


def test_the_protocol_rendering_is_the_system_prompt_without_role_and_query() -> None:
    prompt = builder().build(DOCUMENTED, query="Recommend a city I have not been to.")
    protocol = prompt.protocol_instruction
    assert protocol.startswith("# System Context\n- Current time: 2026-01-06 15:05")
    assert "- Original Query: the user's latest message in the conversation" in protocol
    assert "'[assistant viewpoint]'" in protocol
    assert "The user's name is Grace." in protocol
    for heading in PROTOCOL_STEPS:
        assert heading in protocol
    assert "# Role" not in protocol
    assert "# Original Query" not in protocol
    assert "Recommend a city" not in protocol  # the query stays in the conversation
    assert protocol.endswith('Do not mention "memory store," "retrieval," or "AI views."')
    assert prompt.full_instruction.endswith(
        "# Original Query\nRecommend a city I have not been to."
    )

    zh = builder().build(DOCUMENTED, query="我国庆想出去玩").protocol_instruction
    assert zh.startswith("# System Context\n- 当前时间: 2026-01-06 15:05")
    assert "# Critical Protocol: Memory Safety (记忆安全协议)" in zh
    assert "- Original Query：对话中用户的最新一条消息" in zh
    assert "我国庆想出去玩" not in zh


def test_prompt_modes_pick_a_rendering() -> None:
    prompt = builder().build(DOCUMENTED, query="q")
    assert prompt.text() == prompt.protocol_instruction  # the default mode
    assert prompt.text("memories") == prompt.instruction
    assert prompt.text("protocol") == prompt.protocol_instruction
    assert prompt.text("full") == prompt.full_instruction
    assert check_prompt_mode(None) == "protocol"
    assert check_prompt_mode(None, full_instruction=True) == "full"
    assert check_prompt_mode("full", full_instruction=True) == "full"
    with pytest.raises(MemOSInputError, match="prompt_mode must be"):
        check_prompt_mode("system")
    with pytest.raises(MemOSInputError, match="pass only one"):
        check_prompt_mode("memories", full_instruction=True)
    with pytest.raises(MemOSInputError, match="prompt_mode must be"):
        prompt.text("block")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "label", "fact_time"),
    [
        (None, "UTC+08:00 (Asia/Shanghai)", "2025-12-26 14:26"),
        (timezone.utc, "UTC", "2025-12-26 06:26"),
        (ZoneInfo("Asia/Kolkata"), "UTC+05:30 (Asia/Kolkata)", "2025-12-26 11:56"),
        (ZoneInfo("Europe/Paris"), "Europe/Paris (UTC+01:00 / UTC+02:00)", "2025-12-26 07:26"),
        (timezone(timedelta(hours=-5)), "UTC-05:00", "2025-12-26 01:26"),
    ],
)
def test_every_rendering_names_the_zone_its_times_are_in(
    zone: timezone | ZoneInfo | None, label: str, fact_time: str
) -> None:
    # Before, "[2025-12-26 14:26]" and "Current time: ..." never said which zone they were in.
    prompt = (builder(timezone=zone) if zone else builder()).build(DOCUMENTED, query="q")
    assert f"-[{fact_time}] The user's name is Grace." in prompt.instruction
    assert f"</memories>\nAll times above are in {label}." in prompt.instruction
    for text in (prompt.protocol_instruction, prompt.full_instruction):
        assert f"- Time zone: {label}; the current time and every memory's time" in text
    assert prompt.timezone == label
    zh = (builder(timezone=zone) if zone else builder()).build(DOCUMENTED, query="国庆")
    assert f"以上时间的时区均为 {label}。" in zh.instruction
    assert f"- 时区: {label}" in zh.protocol_instruction


def test_nothing_recalled_means_nothing_injected() -> None:
    prompt = builder().build(SearchMemoryResult(), query="anything")
    assert (prompt.matches, prompt.instruction, prompt.full_instruction, prompt.tokens) == (
        [],
        "",
        "",
        0,
    )
    assert not prompt


def many(n: int) -> SearchMemoryResult:
    facts = [
        {"id": f"m{i}", "memory_value": f"fact number {i} " + "padding " * 10, "relativity": i / n}
        for i in range(n)
    ]
    return SearchMemoryResult.model_validate({"memory_detail_list": facts})


def test_the_budget_keeps_the_most_relevant_lines() -> None:
    small = builder(max_tokens=100)
    prompt = small.build(many(40))
    kept = [m.id for m in prompt.matches]
    assert len(kept) >= 3
    assert kept == [f"m{i}" for i in range(39, 39 - len(kept), -1)]  # by relevance
    assert prompt.tokens <= 100
    next_line = small.token_counter(f"    -fact number {39 - len(kept)} " + "padding " * 10)
    assert prompt.tokens + next_line > 100  # nothing more would have fitted


def test_a_custom_token_counter_is_used() -> None:
    prompt = builder(max_tokens=5, token_counter=lambda text: 1).build(many(40))
    assert len(prompt.matches) == 5


def test_near_duplicates_merge_and_a_preference_beats_a_fact() -> None:
    result = SearchMemoryResult.model_validate(
        {
            "memory_detail_list": [
                {
                    "id": "a",
                    "memory_value": "[user viewpoint] The user loves spicy food.",
                    "relativity": 0.9,
                },
                {"id": "b", "memory_value": "The user loves spicy food!", "relativity": 0.8},
                {"id": "c", "memory_value": "The user lives in Nanjing.", "relativity": 0.7},
            ],
            "preference_detail_list": [
                {
                    "id": "p",
                    "preference_type": "explicit_preference",
                    "preference": "The user loves spicy food.",
                    "relativity": 0.9,
                }
            ],
        }
    )
    prompt = builder().build(result)
    assert sorted(m.id or "" for m in prompt.matches) == ["c", "p"]


def test_markers_are_kept_and_newlines_flattened() -> None:
    result = SearchMemoryResult.model_validate(
        {
            "memory_detail_list": [
                {
                    "memory_value": "[assistant观点] 助手了解到\n用户将和家人一起旅行",
                    "relativity": 1,
                }
            ]
        }
    )
    assert (
        "    -[assistant观点] 助手了解到 用户将和家人一起旅行"
        in builder().build(result).instruction
    )


def test_tools_and_skills_get_sections_only_when_recalled() -> None:
    plain = builder().build(DOCUMENTED).instruction
    assert "<tools>" not in plain
    assert "<skills>" not in plain
    result = SearchMemoryResult.model_validate(
        {
            "tool_memory_detail_list": [
                {
                    "id": "t",
                    "tool_type": "ToolTrajectoryMemory",
                    "experience": "get_weather works for Chinese cities",
                    "relativity": 0.5,
                }
            ],
            "skill_detail_list": [
                {
                    "id": "s",
                    "skill_value": {"name": "trip-planner", "description": "Plans family trips"},
                    "relativity": 0.5,
                }
            ],
        }
    )
    block = builder().build(result).instruction
    assert "  <tools>\n    -get_weather works for Chinese cities\n  </tools>" in block
    assert "  <skills>\n    -trip-planner: Plans family trips\n  </skills>" in block
    assert "  <facts>\n  </facts>" in block


def test_custom_templates_and_options() -> None:
    text = builder(
        template="Known {memories} at {current_time}; asked: {query} {not a placeholder}"
    )
    prompt = text.build(DOCUMENTED, query="hi")
    assert prompt.full_instruction.startswith("Known <memories>")
    assert (
        "at 2026-01-06 15:05; asked: \n# Original Query\nhi {not a placeholder}"
        in prompt.full_instruction
    )

    def template(parts: PromptParts) -> str:
        return f"[{parts.language}, {parts.timezone}] {len(parts.memories)}"

    assert (
        builder(template=template)
        .build(DOCUMENTED)
        .full_instruction.startswith("[en, UTC+08:00 (Asia/Shanghai)] ")
    )
    zoned = builder(template="{memories}\nTimes: {timezone}. {query}").build(DOCUMENTED, "hi")
    assert "Times: UTC+08:00 (Asia/Shanghai). \n# Original Query\nhi" in zoned.full_instruction
    assert zoned.protocol_instruction.endswith("Times: UTC+08:00 (Asia/Shanghai). ")
    assert (
        "# Original Query"
        not in builder(include_query=False).build(DOCUMENTED, query="q").full_instruction
    )
    utc = builder(timezone=timezone.utc).build(DOCUMENTED)
    assert "-[2025-12-26 13:45] The user plans" in utc.instruction
    assert (
        build_memory_prompt(DOCUMENTED, query="q").instruction
        == builder().build(DOCUMENTED).instruction
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"language": "fr"}, "language must be"),
        ({"max_tokens": 0}, "max_tokens must be"),
        ({"dedupe_threshold": 0}, "dedupe_threshold"),
        ({"template": 42}, "template must be"),
    ],
)
def test_bad_options_are_explained(options: dict[str, Any], message: str) -> None:
    with pytest.raises(MemOSInputError, match=message):
        MemoryPromptBuilder(**options)


def test_build_names_what_it_takes() -> None:
    with pytest.raises(MemOSInputError, match="build takes a SearchMemoryResult"):
        MemoryPromptBuilder().build(None)  # type: ignore[arg-type]


def test_a_memory_or_a_query_that_says_a_placeholder_is_kept_as_said() -> None:
    said = "The user writes {query} and {current_time} in {timezone} templates, not {memories}."
    result = SearchMemoryResult.model_validate(
        {"memory_detail_list": [{"id": "f1", "memory_value": said, "relativity": 0.9}]}
    )
    prompt = builder().build(result, query="What do I write, {memories}?")
    for rendering in (prompt.full_instruction, prompt.protocol_instruction):
        assert said in rendering
        assert rendering.count("<memories>") == 1
    assert prompt.full_instruction.endswith("# Original Query\nWhat do I write, {memories}?")


def test_a_tool_schema_is_shown_as_json() -> None:
    schema = {"name": "get_weather", "parameters": {"type": "object"}}
    result = SearchMemoryResult.model_validate(
        {"tool_memory_detail_list": [{"id": "t1", "tool_value": schema, "relativity": 0.9}]}
    )
    assert '{"name": "get_weather", "parameters": {"type": "object"}}' in (
        builder().build(result).instruction
    )


def test_the_chinese_protocol_names_the_english_marker_of_an_ai_view() -> None:
    result = SearchMemoryResult.model_validate(
        {
            "memory_detail_list": [
                {
                    "id": "f1",
                    "memory_value": "[assistant viewpoint] 用户喜欢芒果。",
                    "relativity": 0.9,
                }
            ]
        }
    )
    prompt = builder(language="zh").build(result, query="我喜欢什么水果？")
    assert "'[assistant viewpoint]'" in prompt.full_instruction
    assert "'[assistant viewpoint]'" in prompt.protocol_instruction
