"""Which capitals of a question name someone or something (issue 13): a name no memory holds a
word of makes the question unrelated at the default relativity, and a capital that names nobody
must not."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine


@pytest.fixture
def client() -> MemOSClient:
    return MemOSClient(embedded=EmbeddedEngine(":memory:"), max_retries=0)


def say(client: MemOSClient, *texts: str) -> None:
    messages: Any = [{"role": "user", "content": text} for text in texts]
    client.add_message(messages, user_id="u1", conversation_id="c1", async_mode=False)


def recall(client: MemOSClient, query: str, **kwargs: Any) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id="u1", include_preference=False, **kwargs)
    return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]


def test_a_question_about_someone_the_user_never_named_is_unrelated(client: MemOSClient) -> None:
    say(
        client,
        "I read books every night before bed.",
        "Ana read two books by Le Guin on the train.",
    )
    # Its other words match, but the question is about Tim, whom no memory mentions.
    assert recall(client, "What books has Tim read?") == []
    assert max(score for _, score in recall(client, "What books has Tim read?", relativity=0)) > 0
    # Named, and held, a name counts as any word; a question starting with one is no different.
    assert "Ana" in recall(client, "What books has Ana read?")[0][0]
    assert "Ana" in recall(client, "Ana read which books?")[0][0]
    assert recall(client, "What books have I read?")
    # A name the user said in part is known: "Le Guin" is the "Ursula Le Guin" asked about.
    assert "Ana" in recall(client, "Which books by Ursula Le Guin has Ana read?")[0][0]
    # A title's full stop ends no sentence: "Tim" is still a name, and the title none.
    assert recall(client, "What books has Dr. Tim read?") == []
    assert recall(client, "Dr. Tim read which books?") == []
    assert "Ana" in recall(client, "What books has Mrs. Ana read?")[0][0]
    # Nor does a comma around a name, or before the sentence goes on.
    assert recall(client, "What books has my colleague, Tim, read?") == []
    assert recall(client, "According to Tim, what books did I read?") == []


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        # The name starts the sentence: its first word, held, makes the whole name known.
        ("LeBron James points", "LeBron"),
        ("LeBron James score", "LeBron"),
        # So are the particles inside a name: the "Van Gogh" said is the "Vincent van Gogh" asked.
        ("What did I say about Vincent van Gogh paintings?", "Gogh"),
        # "I'm", "I'd" are the user, as "I" is, not a name no memory holds.
        ("Is it true I'm allergic to peanuts?", "allergic"),
        ("So I'd love hiking where?", "hiking"),
        # A line, or a clause after a dash, starts as a sentence does.
        ("thanks\nRemind me where I love hiking", "hiking"),
        ("thanks - Remind me where I love hiking", "hiking"),
        # A query in capitals, or in title case, marks no name by them.
        ("WHAT DID I SAY I LOVE ABOUT HIKING?", "hiking"),
        ("What Did I Say I Love About Hiking?", "hiking"),
        # Title case leaves its short words in lowercase.
        ("How Often Do I Go Hiking with My Dog?", "hiking"),
        ("Which Trail Is Best for Hiking with My Dog?", "hiking"),
        # A word in capitals stresses it, or is an acronym: no name either.
        ("Did I EVER go hiking with my dog?", "hiking"),
        # German writes every noun with a capital: its nouns are no names.
        ("Was sagte ich über Bücher und Romane?", "Romane"),
        # A title is no name: the user said "Lee", not "Mr. Lee".
        ("What did Mr. Lee say about my garden?", "Lee"),
        # A Latin word in Chinese is often a name the user wrote in Chinese.
        ("我在 Google 上班吗？", "谷歌"),
    ],
)
def test_capitals_that_name_nobody_unknown_leave_a_question_related(
    client: MemOSClient, query: str, answer: str
) -> None:
    say(
        client,
        "I watched LeBron score forty points last night.",
        "I love the paintings of Van Gogh.",
        "I love hiking in the mountains with my dog.",
        "I am allergic to peanuts and shellfish.",
        "Work was busy today.",
        "Abends lese ich gern Romane und Krimis.",
        "Lee from next door said my garden looks great.",
        "我在谷歌上班，每天通勤一小时。",
    )
    assert [answer in text for text, _ in recall(client, query)][:1] == [True]


@pytest.mark.parametrize(
    "query",
    [
        "What did I watch on TV?",  # an acronym the user may have written out
        "Which cities do I like, e.g. New York?",  # an example, not whom it is about
        "Perdona, ¿Dónde trabajo?",  # Spanish starts a question with ¿
        "¿Sabe Ud. dónde trabajo?",  # and capitalises "you" (usted)
        "Kunt U zeggen waar ik woon?",  # as Dutch does (u)
        "Apakah Anda tahu saya suka mendaki gunung?",  # and Indonesian (anda)
        "Apakah saya mendaki gunung pada hari Minggu?",  # which capitalises weekdays too
        "Est-ce que je fais du vélo le Dimanche ?",  # as users do in French, Spanish, Dutch
        "Est-ce que Vous savez où je travaille ?",
        # Whom the user speaks to, and a clause after a comma, which chat often capitalises.
        "Hey Memo, where do I work?",
        "Where do I work, Doc?",
        "ok, Remind me where I work",
        "Dis-moi, Où est-ce que je travaille ?",
    ],
)
def test_a_capital_that_names_nobody_changes_nothing(client: MemOSClient, query: str) -> None:
    say(
        client,
        "I watched a documentary about whales last night.",
        "Paris and Rome are my favourite cities.",
        "Trabajo como profesora en un colegio pequeño.",
        "Ik woon in een klein appartement met mijn kat.",
        "Saya suka mendaki gunung setiap akhir pekan.",
        "Je fais du vélo le week-end.",
        "Je travaille comme infirmière à l'hôpital.",
        "I work as a nurse at the city hospital.",
    )
    written = recall(client, query, relativity=0)
    assert written
    assert written == recall(client, query.lower(), relativity=0)
