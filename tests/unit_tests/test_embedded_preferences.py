"""The preferences fast mode reads from what a user says, in the user's words, told of the user."""

from __future__ import annotations

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._preferences import find_preferences


def preferences(text: str) -> list[str]:
    return [p.text for p in find_preferences(text)]


@pytest.mark.parametrize(
    ("said", "told"),
    [
        ("I always book aisle seats.", "The user always books aisle seats."),
        ("I never eat pork.", "The user never eats pork."),
        ("I always have tea at four.", "The user always has tea at four."),
        ("I never do the dishes at night.", "The user never does the dishes at night."),
        ("I always go to bed early.", "The user always goes to bed early."),
        ("I always carry an umbrella.", "The user always carries an umbrella."),
        ("I always pay in cash.", "The user always pays in cash."),
        ("I never miss a match.", "The user never misses a match."),
        ("I always wash my car on Fridays.", "The user always washes their car on Fridays."),
        ("I never watch horror films.", "The user never watches horror films."),
        ("I always fix my own bike.", "The user always fixes their own bike."),
        ("I never echo rumours.", "The user never echoes rumours."),
        ("I always apply sunscreen.", "The user always applies sunscreen."),
        ("I never fly at night.", "The user never flies at night."),
        ("I never ever eat sushi.", "The user never ever eats sushi."),
        ("I never really liked jazz.", "The user never really liked jazz."),
        ("I always went to the lake as a kid.", "The user always went to the lake as a kid."),
        ("I never can say no to cake.", "The user never can say no to cake."),
        ("I always am late on Mondays.", "The user always is late on Mondays."),
        ("I usually don't eat breakfast.", "The user usually doesn't eat breakfast."),
        ("I usually haven't time for lunch.", "The user usually hasn't time for lunch."),
        ("I never", "The user never."),
    ],
)
def test_the_verb_after_always_or_never_agrees_with_the_user(said: str, told: str) -> None:
    assert preferences(said) == [told]


@pytest.mark.parametrize(
    ("said", "quoted"),
    [
        ("I usually have tea.", ["I usually have tea"]),
        ("I often watch movies and I hate popcorn.", ["I often watch movies", "I hate popcorn"]),
        ("I always fix my own bike!", ["I always fix my own bike"]),
        ("I never eat pork, ever.", ["I never eat pork, ever"]),
    ],
)
def test_a_preference_quotes_the_words_it_was_read_from_whole(said: str, quoted: list[str]) -> None:
    # The reasoning quotes them ("The user said: ..."): cut by the told form's length, a verb
    # that grew or shrank ("have" -> "has") cut the quote short or ran it on into the next word.
    assert [p.sentence.rstrip(".!") for p in find_preferences(said)] == quoted


@pytest.mark.parametrize(
    ("said", "told"),
    [
        ("I usually drink green tea.", "The user usually drinks green tea."),
        ("I often go hiking on Sundays.", "The user often goes hiking on Sundays."),
        ("I rarely eat out.", "The user rarely eats out."),
        ("I normally take the train to work.", "The user normally takes the train to work."),
    ],
)
def test_a_habit_is_a_preference(said: str, told: str) -> None:
    assert preferences(said) == [told]


@pytest.mark.parametrize(
    ("said", "told"),
    [
        ("周末我喜欢去Starbucks喝latte", "用户周末喜欢去Starbucks喝latte。"),
        ("每天早上我总是先喝咖啡。", "用户每天早上总是先喝咖啡。"),
        ("我周末喜欢去爬山。", "用户周末喜欢去爬山。"),
        ("但是我喜欢吃辣。", "用户喜欢吃辣。"),  # a conjunction is no time
    ],
)
def test_a_chinese_preference_keeps_when_it_holds(said: str, told: str) -> None:
    assert preferences(said) == [told]


def test_a_habit_is_recalled_as_a_preference() -> None:
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)
    client.add_message(
        [{"role": "user", "content": "I usually drink green tea in the afternoon."}],
        user_id="u1",
        conversation_id="c1",
        async_mode=False,
    )
    found = client.search_memory("What do I drink?", user_id="u1", relativity=0)
    assert [p.preference for p in found.preference_detail_list] == [
        "The user usually drinks green tea in the afternoon."
    ]


@pytest.mark.parametrize(
    ("said", "told"),
    [
        # One preference per stated liking, in the user's words, never merged with another.
        ("I like tea but hate milk.", ["The user likes tea.", "The user hates milk."]),
        ("I love my job even though the hours are long.", ["The user loves their job."]),
        ("I like hiking, which is why I moved to Denver.", ["The user likes hiking."]),
        ("I prefer aisle seats when I fly.", ["The user prefers aisle seats when they fly."]),
        ("我喜欢猫，也喜欢狗。", ["用户喜欢猫。", "用户喜欢狗。"]),
        ("我喜欢吃甜的但是医生不让我吃", ["用户喜欢吃甜的。"]),
        # Dislikes said with an adverb are dislikes too.
        ("I don't really like horror movies.", ["The user doesn't really like horror movies."]),
        ("I'm not a fan of crowds.", ["The user is not a fan of crowds."]),
        ("我不太喜欢吃辣，但是特别爱吃火锅。", ["用户不太喜欢吃辣。", "用户爱吃火锅。"]),
        ("我其实不怎么喜欢喝咖啡。", ["用户不怎么喜欢喝咖啡。"]),
        # No preference: a question, a request to the assistant, politeness, reported speech.
        ("Would I like Kyoto?", []),
        ("你觉得我喜欢什么颜色？", []),
        ("I want you to book a table for two at 7.", []),
        ("我希望你帮我订一张明天去上海的机票。", []),
        ("I hate to bother you, but can you check my order status?", []),
        ("I'd like to thank you for all the help.", []),
        ("I love it, thanks!", []),
        ("My boss told me: I want the report by Friday.", []),
        # A statement before a question still states it.
        ("I want to travel, can you help?", ["The user wants to travel."]),
        # Each refused by the rules above before a review found them too broad:
        ("Important: I'm allergic to peanuts.", ["The user is allergic to peanuts."]),
        ("注意：我不喜欢海鲜。", ["用户不喜欢海鲜。"]),
        ("I want to learn Spanish, is Duolingo good?", ["The user wants to learn Spanish."]),
        ("我喜欢爬山，有什么推荐吗？", ["用户喜欢爬山。"]),
        ("我喜欢你推荐的那家店", ["用户喜欢你推荐的那家店。"]),
        ("我喜欢什么都试试", ["用户喜欢什么都试试。"]),
        ("我想要一个哪里都能用的充电器", ["用户想要一个哪里都能用的充电器。"]),
        ("That's why I love Paris.", ["The user loves Paris."]),
        ("I want to ask my boss for a raise", ["The user wants to ask their boss for a raise."]),
        ("I want to add a pool", ["The user wants to add a pool."]),
        # ... or garbled.
        ("我喜欢我们公司的食堂", ["用户喜欢我们公司的食堂。"]),
        ("I like books about World War I", ["The user likes books about World War I."]),
        (
            "I prefer aisle seats when I\u2019m on vacation.",
            ["The user prefers aisle seats when they're on vacation."],
        ),
    ],
)
def test_a_preference_is_what_the_user_states_of_themself(said: str, told: list[str]) -> None:
    """Each found wrong by a red team of recall quality before."""
    assert preferences(said) == told
