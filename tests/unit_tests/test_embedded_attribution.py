"""A question about the user is answered by what the user said of themselves, not by what they
said of someone else (issue 13: memory is what was said, attributed)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._subject import about_user, may_speak_of_others, split_by_subject
from langchain_memos.embedded._text import index_text


@pytest.fixture
def client() -> MemOSClient:
    return MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)


def say(client: MemOSClient, *texts: str) -> None:
    for n, text in enumerate(texts):
        messages: Any = [{"role": "user", "content": text}]
        client.add_message(messages, user_id="u1", conversation_id=f"c{n}", async_mode=False)


def recall(client: MemOSClient, query: str, **kwargs: Any) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id="u1", include_preference=False, **kwargs)
    return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]


@pytest.mark.parametrize(
    ("theirs", "mine", "query"),
    [
        (
            "My sister lives in Boston and works as a nurse.",
            "I work at Acme as a designer.",
            "Where do I work?",
        ),
        ("My husband is allergic to shellfish.", "I am allergic to peanuts.", "Am I allergic?"),
        ("我妈妈在医院当护士，她很忙。", "我在杭州一家公司当会计。", "我的职业是什么？"),
        ("我老婆住在杭州。", "我现在住在上海。", "我住在哪？"),
    ],
)
def test_what_the_user_said_of_someone_else_does_not_answer_a_question_about_the_user(
    client: MemOSClient, theirs: str, mine: str, query: str
) -> None:
    say(client, theirs, mine)
    found = recall(client, query)
    assert [text.split("] ", 1)[1] for text, _ in found] == [mine]
    # Still found, below the user's own words, when the caller asks for everything.
    everything = [text.split("] ", 1)[1] for text, _ in recall(client, query, relativity=0)]
    assert everything[:2] == [mine, theirs]


@pytest.mark.parametrize(
    ("memory", "query"),
    [
        ("My sister lives in Boston and works as a nurse.", "Where does my sister work?"),
        ("My sister lives in Boston and works as a nurse.", "What does she do for work?"),
        ("我妈妈在医院当护士。", "我妈妈的职业是什么？"),
        ("My sister lives in Boston, but I work in Denver.", "Where do I work?"),
        ("My friend and I work at the same bakery.", "Where do I work?"),
        ("我和妈妈都在医院上班。", "我在哪里上班？"),
        ("My mom's cooking is my favourite food.", "What is my favourite food?"),
        ("I go hiking every month and my sister comes at weekends.", "Do I go hiking at weekends?"),
        # The user named after someone else's subject: as object, partner, or in reported speech.
        ("My husband drives me to the office every morning.", "Who drives me to the office?"),
        ("My parents live with me in Portland.", "Who do I live with?"),
        ("My mom says I'm allergic to cats.", "Am I allergic to cats?"),
        ("我老公每天开车送我上班。", "我怎么去上班？"),
        ("我妈妈和我都喜欢吃辣的川菜。", "我喜欢吃什么菜？"),
        ("我姐和我在同一家医院工作。", "我在哪里工作？"),
        ("My mom’s lasagna is my favourite food.", "What is my favourite food?"),
        ("朋友圈里我每天都发健身照片。", "我每天发什么照片？"),
        # A person word that only describes something, "they" for things, a pet's "he".
        ("My family doctor is Dr. Patel.", "Who is my doctor?"),
        ("My baby shower is on June 14.", "When is my baby shower?"),
        ("I grow tomatoes. They need watering every morning.", "What do I water every morning?"),
        ("He's allergic to chicken, so I buy salmon kibble.", "What is my dog allergic to?"),
        ("Got it, your friends are helping you move to Austin.", "Who is helping me move?"),
        # A dropped Chinese subject after someone else's clause is the speaker's as often.
        ("老婆出差了，这周一个人带娃，累死了。", "我这周为什么很累？"),
        ("宝宝今年三岁了，每天晚上九点哄睡。", "我每天晚上几点哄睡？"),
    ],
)
def test_what_is_said_of_the_user_or_asked_of_someone_else_is_related(
    client: MemOSClient, memory: str, query: str
) -> None:
    say(client, memory, "The weather was nice.")
    found = recall(client, query)
    assert [text.split("] ", 1)[1] for text, _ in found] == [memory]
    assert found[0][1] >= 0.45


def test_a_request_for_advice_still_hears_whom_it_is_for(client: MemOSClient) -> None:
    say(client, "My wife loves green tea.", "I like jazz.")
    found = recall(client, "Can you recommend a drink for me?")
    assert [text for text, _ in found] == ["[user viewpoint] My wife loves green tea."]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where do I work?", True),
        ("我住在哪里？", True),
        ("What's my favourite food?", True),
        ("Where does my sister work?", False),
        ("And do I travel with my parents?", False),
        ("Where do my kids love to go?", False),
        ("Where did we go on holiday?", False),
        ("我们去哪里玩了？", False),
        ("我妈妈住在哪", False),
        ("When did I meet Anna?", False),
        ("What did she say?", False),
        ("What is the capital of France?", False),
    ],
)
def test_a_question_about_the_user_alone(question: str, expected: bool) -> None:
    assert about_user(question) is expected


@pytest.mark.parametrize(
    ("text", "mine", "theirs"),
    [
        (
            "[user viewpoint] My sister lives in Boston and works as a nurse.",
            "",
            "My sister lives in Boston works as a nurse",
        ),
        (
            "My sister lives in Boston, but I work in Denver.",
            "I work in Denver",
            "My sister lives in Boston",
        ),
        ("I like tea and my sister likes coffee.", "I like tea", "my sister likes coffee"),
        ("He was late. I wasn't.", "I wasn't", "He was late"),
        ("My friend and I went hiking.", "I went hiking", "My friend"),
        ("我妈住在杭州，我住上海。", "我住上海", "我妈住在杭州"),
        ("我妈妈住在杭州，她退休了。", "", "我妈妈住在杭州 她退休了"),
        ("我老婆是小学老师，在西湖区上班。", "", "我老婆是小学老师 在西湖区上班"),
        ("老婆出差了，这周一个人带娃。", "这周一个人带娃", "老婆出差了"),
        ("我和妈妈去了杭州，住了三天。", "我和妈妈去了杭州 住了三天", ""),
        ("妈妈和我都喜欢吃辣。", "妈妈和我都喜欢吃辣", ""),
        ("My favourite food is sushi.", "My favourite food is sushi", ""),
        ("My mom's cooking is the best.", "My mom's cooking is the best", ""),
        ("My parents' house is lovely.", "My parents' house is lovely", ""),
        (
            # A run of spaces no conjunction follows: once 17 s of backtracking a search.
            "My sister   lives\n\n in Boston" + " " * 20_000 + "works there.",
            "",
            "My sister lives in Boston works there",
        ),
    ],
)
def test_a_clause_without_a_subject_goes_on_with_the_one_before(
    text: str, mine: str, theirs: str
) -> None:
    assert [" ".join(part.split()) for part in split_by_subject(text)] == [mine, theirs]


_SUBJECTS = [
    "I", "My sister", "my little brother", "Your wife", "our kids", "He", "She's", "They're",
    "He'd", "My friends", "It", "We", "我", "我妈妈", "我的妈", "她", "他们", "老公", "我和妈妈",
    "My mom's cake", "The hotel",
]  # fmt: skip
_PREDICATES = [
    "works as a nurse", "lives in Boston", "loves green tea", "住在杭州", "在医院上班", "退休了",
    "is great", "",
]  # fmt: skip
_JOINS = [". ", ", ", " and ", " but ", "，", "。", "，但是", "; ", "! "]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_SUBJECTS), st.sampled_from(_PREDICATES), st.sampled_from(_JOINS)
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_cheap_test_lets_through_every_memory_that_speaks_of_someone_else(
    parts: list[tuple[str, str, str]],
) -> None:
    text = "".join(f"{subject} {predicate}{join}" for subject, predicate, join in parts)
    if split_by_subject(text)[1].strip():
        assert may_speak_of_others(index_text(text))
