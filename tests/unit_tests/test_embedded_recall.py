"""What fast mode remembers of a conversation, and how it ranks it (issue 13)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._preferences import find_preferences
from langchain_memos.embedded._when import dateish, time_window
from langchain_memos.types import MessageInput


@pytest.fixture
def client() -> MemOSClient:
    return MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)


def say(client: MemOSClient, *turns: tuple[str, str], conversation: str = "c1") -> None:
    messages: Any = [{"role": role, "content": text} for role, text in turns]
    client.add_message(messages, user_id="u1", conversation_id=conversation, async_mode=False)


def recall(client: MemOSClient, query: str, **kwargs: Any) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id="u1", include_preference=False, **kwargs)
    return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]


@pytest.mark.parametrize(
    "filler",
    [
        *(
            "Cute!",
            "Thanks!",
            "Sounds good.",
            "Wow, amazing!",
            "谢谢！",
            "好的，有其他问题再问我。",
        ),
        *(
            "I'll remember that.",
            "Got it, I'll keep that in mind!",
            "Noted, I've made a note of it.",
            "I'll make a note of that.",
        ),
        *("好的，记住了。", "好的，我会记住的。", "收到，已记录。", "明白，已经记下来了。"),
    ],
)
def test_turns_with_nothing_of_their_own_are_not_memories(client: MemOSClient, filler: str) -> None:
    say(client, ("user", "My cat is called Mochi and she loves my laptop."), ("assistant", filler))
    listed = client.get_memory(user_id="u1", include_preference=False).memory_detail_list
    assert [m.memory_value for m in listed] == [
        "[user viewpoint] My cat is called Mochi and she loves my laptop."
    ]
    assert all(filler not in text for text, _ in recall(client, "laptop cat", relativity=0))
    # The turn is still part of the conversation.
    messages = client.get_message(user_id="u1", conversation_id="c1").message_detail_list
    assert messages[-1].content == filler


@pytest.mark.parametrize(
    "thanks",
    [
        "Thanks, that's really helpful!",
        "Thank you so much, you've been super helpful!",
        "Much appreciated!",
        "You're the best!",
        "No worries.",
        "Good to know.",
        "Merci beaucoup !",
        "¡Muchas gracias!",
        "ありがとうございます！",
        "Спасибо!",
        "好嘞，谢了！",
        "了解了，多谢",
        "麻烦你了",
    ],
)
def test_a_users_thanks_is_no_memory_nor_carries_the_assistants_words(
    client: MemOSClient, thanks: str
) -> None:
    """Taken for a short answer to the assistant's options, "Thanks, that's really helpful!"
    was stored as the user's, the assistant's words inside it, and recalled for them."""
    offer = "Dr. Patel prescribed sumatriptan. Other options are ibuprofen or naproxen."
    say(client, ("assistant", offer), ("user", thanks))
    listed = client.get_memory(user_id="u1", include_preference=False).memory_detail_list
    assert [m.memory_value for m in listed] == [f"[assistant viewpoint] {offer}"]


@pytest.mark.parametrize(
    ("asked", "answer"),
    [
        ("Would you like me to add travel insurance? It costs $30.", "Yes, thanks!"),
        ("要不要我帮你订靠窗的座位？有其他需要随时告诉我。", "好的，谢谢"),
        ("Do you know Python already?", "I know"),
        ("Have you ever been to Kyoto?", "I've been there"),
    ],
)
def test_an_answer_to_a_question_followed_by_more_is_kept_with_it(
    client: MemOSClient, asked: str, answer: str
) -> None:
    """Asked outright, though the turn goes on after its question: the answer was dropped as
    thanks, or as filler ("I know"), by the change that kept thanks from answering options (a
    review)."""
    say(client, ("assistant", asked), ("user", answer))
    listed = client.get_memory(user_id="u1", include_preference=False).memory_detail_list
    assert any(answer in (m.memory_value or "") and asked in (m.memory_value or "") for m in listed)


def test_a_short_answer_is_recalled_with_what_it_answers(client: MemOSClient) -> None:
    say(
        client,
        ("user", "I need a new laptop. MacBook Air, ThinkPad X1 or Dell XPS?"),
        ("assistant", "The MacBook Air is the lightest laptop, the X1 types best, the XPS is big."),
    )
    say(client, ("user", "Then the MacBook Air it is."))  # a later write, as a chat app does
    found = recall(client, "Which laptop did I pick?")
    assert found[0][0] == (
        "[user viewpoint] Then the MacBook Air it is. (replying to assistant: “The MacBook Air "
        "is the lightest laptop, the X1 types best, the XPS is big.”)"
    )
    # The comparison is not shown twice: the answer carries it.
    assert sum("lightest" in text for text, _ in found) == 1


def test_a_bare_yes_is_kept_with_its_question(client: MemOSClient) -> None:
    say(client, ("assistant", "Are you vegetarian?"), ("user", "Yes."))
    assert recall(client, "vegetarian")[0][0] == (
        "[user viewpoint] Yes. (replying to assistant: “Are you vegetarian?”)"
    )


def test_the_users_statement_outranks_the_assistants_echo(client: MemOSClient) -> None:
    say(
        client,
        ("user", "我在杭州上班。"),
        ("assistant", "杭州是个好地方，你一定很喜欢在那里工作！"),
    )
    found = recall(client, "我在哪里工作？", relativity=0)
    assert found[0][0] == "[user观点] 我在杭州上班。"
    assert found[0][1] >= found[1][1]
    say(
        client,
        ("user", "We moved to Lisbon for my new job."),
        ("assistant", "Lisbon is lovely; a new job and a new city, exciting!"),
        conversation="c2",
    )
    assert recall(client, "new city job", relativity=0)[0][0].startswith("[user viewpoint]")


@pytest.mark.parametrize(
    ("statement", "reply", "query"),
    [
        (
            "We always travel with the kids and my parents.",
            "Got it: family trips with children and elderly.",
            "Who do I travel with?",
        ),
        (
            "We always travel with the kids and my parents.",
            "Noted, that one is easy to plan for.",
            "travel kids parents",
        ),
        (
            "My sister lives in Porto.",
            "That's nice, then you can visit her.",
            "Where does my sister live?",
        ),
        ("我一点辣都不能吃，吃了就胃疼。", "好的，那粤菜会比较适合你。", "我能吃辣吗"),
    ],
)
def test_an_assistants_acknowledgement_leaves_the_users_statement_first(
    client: MemOSClient, statement: str, reply: str, query: str
) -> None:
    """A reply pointing back at what the user said ("Got it", "that one") is no answer to it: it
    carried the statement, ranked above it and hid it from every search."""
    say(client, ("user", statement), ("assistant", reply))
    marker = "[user观点]" if "吃" in statement else "[user viewpoint]"
    for relativity in (0, None):
        found = recall(client, query, **({} if relativity is None else {"relativity": relativity}))
        assert found[0][0] == f"{marker} {statement}"


def test_preferences_are_one_per_clause_in_the_users_words() -> None:
    found = find_preferences("I like green tea and I work night shifts.")
    assert [p.text for p in found] == ["The user likes green tea."]
    both = find_preferences("I like hiking but I hate running.")
    assert [p.text for p in both] == ["The user likes hiking.", "The user hates running."]
    assert [p.sentence for p in both] == ["I like hiking", "I hate running"]


def test_a_memory_matched_only_through_its_neighbours_is_not_related(client: MemOSClient) -> None:
    say(
        client,
        ("user", "I'm training for the Berlin marathon in September."),
        ("assistant", "Great goal. Remember to rest between long runs."),
    )
    found = recall(client, "marathon")
    assert [text for text, _ in found] == [
        "[user viewpoint] I'm training for the Berlin marathon in September."
    ]
    loose = dict(recall(client, "marathon", relativity=0))
    assert all(score < 0.45 for text, score in loose.items() if "rest between" in text)


def test_searches_find_memories_while_others_are_being_written() -> None:
    """Word weights come from one snapshot: a write between two counts made searches empty."""
    engine = EmbeddedEngine(":memory:")
    client = MemOSClient(embedded=engine, max_retries=0)
    turns: list[MessageInput] = [{"role": "user", "content": "I like tea number 0."}]
    client.add_message(turns, user_id="u", conversation_id="c0")
    writing = threading.Event()

    def write() -> None:
        for i in range(1, 200):
            turn: list[MessageInput] = [{"role": "user", "content": f"I like tea number {i}."}]
            client.add_message(turn, user_id="u", conversation_id=f"c{i}")
            writing.set()

    writer = threading.Thread(target=write)
    writer.start()
    writing.wait(5)
    empty = 0
    while writer.is_alive():
        found = client.search_memory("tea", user_id="u").memory_detail_list
        empty += not found
    writer.join()
    client.close()
    engine.close()
    assert empty == 0


def test_a_request_for_advice_recalls_who_it_is_for(client: MemOSClient) -> None:
    say(
        client,
        ("user", "Can you help me plan a trip to the coast?"),
        ("assistant", "Happy to! Is it a trip for you alone, or with family?"),
        ("user", "With family, my husband always comes on our trips."),
        ("assistant", "So a family trip with your husband, right?"),
        ("user", "Yes, and our two daughters and my mother, who uses a wheelchair."),
    )
    say(client, ("user", "Last year we booked a seaside hotel in Brighton."), conversation="c2")
    say(client, ("user", "My manager wants the quarterly report by Friday."), conversation="c3")
    found = {
        text.split(" (replying", 1)[0]: score
        for text, score in recall(client, "Suggest a hotel for our next trip.", relativity=0)
    }
    asked = found["[user viewpoint] Can you help me plan a trip to the coast?"]
    husband = found["[user viewpoint] With family, my husband always comes on our trips."]
    mother = found[
        "[user viewpoint] Yes, and our two daughters and my mother, who uses a wheelchair."
    ]
    # Who comes along answers more of a request for advice than the bare request did; the
    # confirmation of the assistant's echo ("So a family trip with your husband, right?") is
    # as related as what it confirms; the work turn is not related at all.
    assert husband > asked
    assert mother == husband
    assert "[user viewpoint] My manager wants the quarterly report by Friday." not in found


@pytest.mark.parametrize(
    ("memory", "query"),
    [
        ("我老婆吃素，肉和海鲜都不碰。", "我太太有什么忌口"),  # synonyms: 太太/老婆, 忌口/吃素
        ("我们全家打算五一去云南玩一周。", "劳动节出游计划"),  # 劳动节/五一, 出游/玩
        ("这次住在西湖边上的民宿。", "这趟住什么地方"),  # a single shared character, 住
    ],
)
def test_short_chinese_questions_find_memories_they_share_no_bigram_with(
    client: MemOSClient, memory: str, query: str
) -> None:
    say(
        client,
        ("user", memory),
        ("user", "我在一家银行做会计。"),
        ("user", "周末喜欢去爬山。"),
    )
    assert not any(query[i : i + 2] in memory for i in range(len(query) - 1))
    found = recall(client, query)
    assert found
    assert found[0][0] == f"[user观点] {memory}"
    assert all("银行" not in text for text, _ in found)


@pytest.mark.parametrize(
    ("memory", "query"),
    [
        ("I'm a nurse at the children's hospital.", "What is my job?"),
        ("我在医院当护士。", "我的职业是什么？"),
    ],
)
def test_a_question_about_work_finds_the_occupation_the_user_named(
    client: MemOSClient, memory: str, query: str
) -> None:
    say(client, ("user", memory), ("user", "My sister lives in Lyon."), ("user", "周末去爬山。"))
    found = recall(client, query)
    viewpoint = "[user viewpoint]" if memory.isascii() else "[user观点]"
    assert [text for text, _ in found] == [f"{viewpoint} {memory}"]


@pytest.mark.parametrize(
    ("memory", "query"),
    [
        ("She loves hiking in the Alps.", "What does she love?"),
        ("I baked bread yesterday.", "Do I bake?"),
        ("We danced all night.", "Did we dance?"),
        ("I hike every weekend.", "Where do I go hiking?"),
        ("I lived in Paris for years.", "Where did I live?"),
    ],
)
def test_a_word_ending_in_e_is_related_to_its_other_forms(
    client: MemOSClient, memory: str, query: str
) -> None:
    # Search found them (FTS5 stems as Porter does) and called them unrelated: "love" and
    # "loves" were two words to relativity.
    say(client, ("user", memory), ("user", "The weather was nice."))
    found = recall(client, query)
    assert [text for text, _ in found] == [f"[user viewpoint] {memory}"]


def test_a_decision_worded_like_an_acknowledgement_is_kept(client: MemOSClient) -> None:
    say(
        client,
        ("assistant", "Do you want to sell your old guitar or keep it?"),
        ("user", "I'll keep it."),
    )
    found = [text for text, _ in recall(client, "What did I decide about my old guitar?")]
    assert found[0].startswith("[user viewpoint] I'll keep it. (replying to assistant:")


@pytest.mark.parametrize(
    ("old", "new", "query"),
    [
        ("I live in Munich.", "Actually we moved to Berlin last month.", "Where do I live?"),
        ("I live in Munich.", "We relocated to Berlin in May.", "Which city am I living in now?"),
        ("我们以前居住在重庆。", "去年我们全家定居成都了。", "我在哪里定居？"),
    ],
)
def test_a_move_answers_where_the_user_lives(
    client: MemOSClient, old: str, new: str, query: str
) -> None:
    say(client, ("user", old), ("user", "I work at a bakery."), ("user", "我在一家银行上班。"))
    say(client, ("user", new), conversation="c2")
    found = [text.split("] ", 1)[1] for text, _ in recall(client, query)]
    assert sorted(found) == sorted([old, new])


@pytest.mark.parametrize(
    "query", ["What does my sister do for a living?", "How does my sister earn a living?"]
)
def test_what_one_does_for_a_living_is_work_not_where_one_lives(
    client: MemOSClient, query: str
) -> None:
    say(
        client,
        ("user", "My sister works as a nurse."),
        ("user", "We moved to Berlin."),
        ("user", "I live in Madrid."),
    )
    found = recall(client, query)
    assert [text for text, _ in found] == ["[user viewpoint] My sister works as a nurse."]
    # "living" is no word of the question left to share with "live".
    shares = dict(recall(client, query, relativity=0))
    assert shares["[user viewpoint] I live in Madrid."] == 0


def test_a_moved_meeting_is_no_home(client: MemOSClient) -> None:
    say(
        client,
        ("user", "Can you move my Tuesday call to 4pm?"),
        ("user", "把周会搬到周四下午了。"),
        ("user", "I live in Denver."),
    )
    assert [text for text, _ in recall(client, "Where do I live?")] == [
        "[user viewpoint] I live in Denver."
    ]


@pytest.mark.parametrize(
    ("memory", "query"),
    [
        ("我在Google上班。", "Which company do I work for, Google?"),  # a Latin word, then Chinese
        ("今天和Tim一起吃火锅。", "我和Tim吃了什么"),
        ("周末用iPhone15拍了很多照片。", "我的iPhone15"),  # Chinese, Latin and digits, Chinese
    ],
)
def test_a_latin_word_written_against_chinese_characters_is_a_word_of_its_own(
    client: MemOSClient, memory: str, query: str
) -> None:
    say(client, ("user", memory), ("user", "我在一家银行做会计。"))
    found = recall(client, query)
    assert found
    assert found[0][0] == f"[user观点] {memory}"


@pytest.mark.parametrize("query", ["我住在哪里？", "我住哪儿", "我住的是什么地方"])
def test_a_chinese_question_word_is_no_part_of_what_it_asks(
    client: MemOSClient, query: str
) -> None:
    say(
        client,
        ("user", "我现在住上海。"),
        ("user", "家里的猫叫咪咪。"),
        ("user", "女儿今年上小学。"),
        ("user", "哪个牌子好？"),
    )
    # 里 of 哪里 is in 家里, 儿 of 哪儿 in 女儿, 哪个 a turn of its own: none is what the
    # question asks about.
    assert [text for text, _ in recall(client, query)] == ["[user观点] 我现在住上海。"]


def test_a_shared_grammar_character_relates_nothing(client: MemOSClient) -> None:
    say(client, ("user", "我的猫叫年糕。"), ("user", "我在杭州上班。"))
    assert recall(client, "我的股票怎么样了") == []


def test_a_question_whose_characters_are_spread_over_memories_relates_none_of_them(
    client: MemOSClient,
) -> None:
    say(client, ("user", "周末常和朋友骑自行车去海边。"), ("user", "公司下周开年会。"))
    # "开" and "车" are each in a memory, the car the question asks about in none: a character
    # alone is as often a coincidence as part of the word the question means.
    assert recall(client, "我开的什么车") == []
    found = recall(client, "我开的什么车", relativity=0)
    assert len(found) == 2
    assert all(0 < score < 0.45 for _, score in found)


def test_past_the_limit_a_neighbouring_turn_rides_along_with_its_fact(client: MemOSClient) -> None:
    say(
        client,
        ("user", "Our puppy Biscuit chewed my running shoes again."),
        ("user", "Biscuit is a beagle from a shelter in Leeds."),
        ("user", "Work was busy today."),
    )
    found = recall(client, "What breed is our puppy Biscuit?", memory_limit_number=1, relativity=0)
    # One fact, as asked, carrying the turn said right after it, which also matched.
    assert [text for text, _ in found] == [
        "[user viewpoint] Our puppy Biscuit chewed my running shoes again. (then: [user "
        "viewpoint] Biscuit is a beagle from a shelter in Leeds.)"
    ]


def test_an_agents_own_turns_ride_along_too_and_only_its_own(client: MemOSClient) -> None:
    turns = [
        "Our puppy Biscuit chewed my running shoes again.",
        "Biscuit is a beagle from a shelter in Leeds.",
        "Work was busy today.",
    ]
    for agent, turn in (("a1", turns[0]), ("a2", turns[1]), ("a1", turns[1]), ("a1", turns[2])):
        message: Any = {"role": "assistant", "content": turn}
        client.add_message([message], agent_id=agent, conversation_id="c1", async_mode=False)
    found = client.search_memory(
        "What breed is our puppy Biscuit?", agent_id="a1", memory_limit_number=1, relativity=0
    ).memory_detail_list
    # An agent's memories are kept under no user: its neighbours are its own turns, never
    # those another agent said in a conversation of the same name.
    assert [m.memory_value for m in found] == [
        "[assistant viewpoint] Our puppy Biscuit chewed my running shoes again. (then: "
        "[assistant viewpoint] Biscuit is a beagle from a shelter in Leeds.)"
    ]
    # An edit copied from that search keeps the memory's own text, as a user's does.
    (memory,) = found
    assert memory.id is not None
    client.update_memory(memory.id, content=(memory.memory_value or "").replace("shoes", "boots"))
    kept = client.get_memory_by_id(memory.id).memory_value
    assert kept == "[assistant viewpoint] Our puppy Biscuit chewed my running boots again."


def dinners(question: str, anna: str) -> list[tuple[str, float]]:
    """Dinner with Anna at ``anna``, with Ben on 2025-09-20, asked on 2025-09-28."""
    now = datetime(2025, 9, 28, 20, 0, tzinfo=timezone.utc)
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:", clock=lambda: now), max_retries=0)
    for when, text in (
        (anna, "Dinner with Anna at the harbour, 和Anna吃的晚饭."),
        ("2025-09-20 19:00:00", "Dinner with Ben at the harbour, 和Ben吃的晚饭."),
    ):
        message: Any = {"role": "user", "content": text, "chat_time": when}
        memos.add_message([message], user_id="u1", conversation_id=when, async_mode=False)
    return recall(memos, question, relativity=0)


@pytest.mark.parametrize(
    "question",
    [
        "Who did I have dinner with last year?",
        "去年和谁吃的晚饭？",
    ],
)
def test_a_question_naming_a_time_favours_what_was_said_then(question: str) -> None:
    found = dinners(question, anna="2024-06-10 19:00:00")
    assert "Anna" in found[0][0]
    assert len(found) == 2  # the other is still found, only lower


@pytest.mark.parametrize("question", ["Who did I have dinner with in June?", "6月和谁吃的晚饭？"])
def test_a_month_without_its_year_is_its_latest(question: str) -> None:
    """Not read at all before: "What did I buy in August?" favoured nothing (a red team)."""
    assert "Anna" in dinners(question, anna="2025-06-10 19:00:00")[0][0]


def test_the_date_a_question_names_relates_what_was_said_then_only_with_its_subject() -> None:
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)
    for when, text in (
        ("2025-08-10 20:00:00", "Had dinner at Nobu with my sister, way too expensive."),
        ("2025-08-12 10:00:00", "Ordered running shoes from Zalando, size 39."),
        ("2025-05-20 19:00:00", "Jonas and I had dinner at Tantris for our anniversary."),
    ):
        message: Any = {"role": "user", "content": text, "chat_time": when}
        memos.add_message([message], user_id="u1", conversation_id=when, async_mode=False)
    found = dict(recall(memos, "Where did I have dinner in August 2025?", relativity=0))
    # The August dinner holds every word of the question, its month among them (its date was
    # not matched at first: the date is indexed as "10 August 2025", capitalised).
    assert found["[user viewpoint] Had dinner at Nobu with my sister, way too expensive."] == 1.0
    # What was said in August about something else is not related to it.
    assert found["[user viewpoint] Ordered running shoes from Zalando, size 39."] == 0.0
    # A question about nothing but the month is related to all that was said in it.
    found = dict(recall(memos, "What happened in August 2025?", relativity=0))
    assert found["[user viewpoint] Ordered running shoes from Zalando, size 39."] >= 0.45


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("What did I do on Sunday, 10 August 2025?", True),
        ("What did I do on 2025-08-10?", True),  # a date not read as one: its numbers
        ("8月10日我做了什么？", True),
        ("What did I do in 2024 and 2025?", True),
        ("What did I do in August 2023?", False),  # nothing was said then
    ],
)
def test_a_question_about_a_time_finds_what_was_said_then(question: str, found: bool) -> None:
    """A review of the rule that a memory's text must hold something of a question asking about
    more than a time: a weekday, a second date or a date in a form not read as one was taken for
    more, and a month of another year for the month asked about."""
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)
    message: Any = {"role": "user", "content": "I adopted a cat.", "chat_time": "2025-08-10"}
    memos.add_message([message], user_id="u1", conversation_id="c1", async_mode=False)
    assert bool(recall(memos, question)) is found


def test_a_date_written_in_a_memory_counts_and_a_weekday_relates_nothing() -> None:
    """Both found by a review of the rule above: a date in the text was taken for when the
    memory was said, and in lowercase every memory said on a Sunday answered "on Sundays"."""
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)
    for when, text in (
        ("2025-01-12 09:00:00", "Flight to Tokyo booked for September 2025."),  # a Sunday
        ("2025-01-19 09:00:00", "The dishwasher is broken again."),  # a Sunday
        ("2025-01-22 09:00:00", "I play tennis every Sunday morning."),
    ):
        message: Any = {"role": "user", "content": text, "chat_time": when}
        memos.add_message([message], user_id="u1", conversation_id=when, async_mode=False)
    found = [text for text, _ in recall(memos, "What trips do I have in September 2025?")]
    assert found == ["[user viewpoint] Flight to Tokyo booked for September 2025."]
    found = [text for text, _ in recall(memos, "What do I do on Sundays?")]
    assert found == ["[user viewpoint] I play tennis every Sunday morning."]


def test_date_words_are_numbers_weekdays_and_chinese_date_characters() -> None:
    words = ["2025", "august", "may", "sundays", "年", "号", "dinner", "年月", "月底", ""]
    # A month's name is a date word only in the time a question names (April is a person too).
    assert [w for w in words if dateish(w)] == ["2025", "sundays", "年", "号"]


def test_a_month_named_as_a_person_is_no_date_word() -> None:
    """A review: every memory said in August held "april" for the question below, which then
    asked about nothing but a time, so "I renewed my passport." scored 0.75."""
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)
    for text in ("April got engaged to her boyfriend.", "I renewed my passport."):
        message: Any = {"role": "user", "content": text, "chat_time": "2025-08-12 10:00:00"}
        memos.add_message([message], user_id="u1", conversation_id=text, async_mode=False)
    found = dict(recall(memos, "What happened to April in August 2025?", relativity=0))
    assert found["[user viewpoint] April got engaged to her boyfriend."] >= 0.45
    assert found["[user viewpoint] I renewed my passport."] < 0.45


@pytest.mark.parametrize("question", ["What did I buy last weekend?", "上周末我买了什么？"])
def test_last_weekend_is_the_weekend_before_not_one_day_nine_days_back(question: str) -> None:
    """A review: the time "last weekend" names was one day, nine days back (a Friday when asked
    on a Sunday), so Saturday's purchase held none of the question's time words."""
    now = datetime(2025, 9, 28, 12, tzinfo=timezone.utc)  # a Sunday
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:", clock=lambda: now), max_retries=0)
    for when, text in (
        ("2025-09-20 15:00:00", "Went to buy new hiking boots, 买了登山鞋."),
        ("2025-09-01 15:00:00", "I want to buy a tent someday, 想买帐篷."),
    ):
        message: Any = {"role": "user", "content": text, "chat_time": when}
        memos.add_message([message], user_id="u1", conversation_id=when, async_mode=False)
    (first, score), *_ = recall(memos, question, relativity=0)
    assert "boots" in first
    assert score >= 0.45


@pytest.mark.parametrize(
    "now", [datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, tzinfo=timezone.utc)]
)
@pytest.mark.parametrize(
    "question", ["What did I do yesterday?", "去年我做了什么？", "last month?"]
)
def test_a_clock_at_the_calendars_ends_names_no_time(now: datetime, question: str) -> None:
    """An OverflowError or ValueError before (a review)."""
    memos = MemOSClient(embedded=EmbeddedEngine(":memory:", clock=lambda: now), max_retries=0)
    assert recall(memos, question) == []


@pytest.mark.parametrize(
    "question",
    ["This may sound odd, but where do I work?", "What's the name of April's dog?", "宝宝6月龄"],
)
def test_words_that_look_like_a_month_name_no_time(question: str) -> None:
    """Read as May, April and June by the month-without-year pattern at first (a review)."""
    assert time_window(question, datetime(2025, 9, 28, tzinfo=timezone.utc)) is None


def test_one_common_word_does_not_make_a_question_about_something_else_related(
    client: MemOSClient,
) -> None:
    say(
        client,
        ("user", "Remember that staying positive is very important."),
        ("user", "I adopted a cat called Mochi last spring."),
        ("user", "My sister is getting married in Lisbon."),
    )
    # The user never spoke of flowers or of Melanie: "important" alone answers little of it.
    assert recall(client, "Why are flowers important to Melanie?") == []
    loose = dict(recall(client, "Why are flowers important to Melanie?", relativity=0))
    assert 0 < loose["[user viewpoint] Remember that staying positive is very important."] < 0.45
    # A question the user's words do answer still passes, without being saturated by a word
    # the store lacks.
    (text, score), *_ = recall(client, "What is the name of my cat?")
    assert "Mochi" in text
    assert 0.45 <= score < 1


def test_a_memory_holding_every_word_of_a_chinese_question_answers_all_of_it(
    client: MemOSClient,
) -> None:
    say(client, ("user", "我家的狗叫豆豆，名字是女儿取的。"), ("user", "周末去爬山了。"))
    # Its single characters (叫, 名, 字) count for less than a word, in the memory as in the query.
    assert recall(client, "狗叫什么名字") == [("[user观点] 我家的狗叫豆豆，名字是女儿取的。", 1.0)]


# An agent's own memories are kept under no user: its event finds its turn's neighbours too.
@pytest.mark.parametrize("scope", [{"user_id": "u1"}, {"agent_id": "a1"}])
def test_an_event_answering_a_question_passes_the_threshold_like_its_fact(
    client: MemOSClient, scope: dict[str, Any]
) -> None:
    turns: Any = [
        {"role": "user", "content": "Last Tuesday I went to the pottery workshop downtown."},
        {"role": "assistant", "content": "How was the class? Did you make a bowl?"},
        {"role": "user", "content": "Yes, a blue bowl for my mom."},
    ]
    client.add_message(turns, conversation_id="c1", async_mode=False, **scope)
    query = "When did I make the blue bowl at the pottery class?"
    found = client.search_memory(
        query, include_memory_view=["detail_factual", "event"], relativity=0, **scope
    )
    (event,) = found.event_detail_list or []
    fact = next(m for m in found.memory_detail_list if "pottery" in (m.memory_value or ""))
    assert event.relativity is not None
    assert fact.relativity is not None
    assert event.relativity >= 0.45
    assert event.relativity == pytest.approx(fact.relativity, abs=0.05)


def test_an_edit_copied_from_a_search_keeps_only_the_memorys_own_text(
    client: MemOSClient,
) -> None:
    say(
        client,
        ("user", "Our puppy Biscuit chewed my running shoes again."),
        ("user", "Biscuit is a beagle from a shelter in Leeds."),
        ("user", "Work was busy today."),
    )
    found = client.search_memory(
        "What breed is our puppy Biscuit?",
        user_id="u1",
        include_preference=False,
        memory_limit_number=1,
        relativity=0,
    )
    (memory,) = found.memory_detail_list
    assert memory.id is not None
    shown = memory.memory_value or ""
    assert "(then: " in shown  # the next turn rode along with it
    # A caller edits what it was shown, riders and all.
    client.update_memory(memory.id, content=shown.replace("running shoes", "slippers"))
    kept = client.get_memory_by_id(memory.id).memory_value
    assert kept == "[user viewpoint] Our puppy Biscuit chewed my slippers again."
    # The neighbour is still its own memory, not part of this one.
    assert any(
        "beagle" in (m.memory_value or "") and m.id != memory.id
        for m in client.get_memory(user_id="u1").memory_detail_list
    )


@pytest.mark.parametrize(
    ("said_", "asked"),
    [
        ("I prefer cheap hotels.", "What kind of hotel do I like?"),
        ("I like window seats on long flights.", "Which seats do I prefer?"),
        ("我更喜欢安静的民宿。", "我喜欢什么样的住宿？"),
        ("I love green tea.", "What do I drink?"),  # a drink, named by its kind
        ("我最喜欢拿铁咖啡。", "我一般喝什么饮料？"),
    ],
)
def test_a_preference_is_found_by_asking_what_the_user_likes(
    client: MemOSClient, said_: str, asked: str
) -> None:
    say(client, ("user", said_), ("user", "My sister lives in Lyon."))
    found = client.search_memory(asked, user_id="u1")  # the default relativity, 0.45
    assert [p.preference for p in found.preference_detail_list]
    assert [m.memory_value for m in found.memory_detail_list] == [
        f"[user viewpoint] {said_}" if said_.isascii() else f"[user观点] {said_}"
    ]
