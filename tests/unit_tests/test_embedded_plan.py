"""How search asks the full-text index for candidates at scale (issue 13, speed at scale): what
the plan changes must be invisible in what a search returns, or the documented bound."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _plan as plan
from langchain_memos.embedded._text import TIME_MARKER
from tests.unit_tests.engine_talk import TALK, engine_client, say


def _found(client: MemOSClient, user: str, query: str) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id=user, relativity=0)
    facts = [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]
    return facts + [(m.preference or "", 0.0) for m in found.preference_detail_list]


@pytest.mark.parametrize(
    "query", ["hiking at the lake with Ana", "What do I drink in the morning?"]
)
def test_a_sole_user_finds_what_the_same_store_shared_with_others_finds(query: str) -> None:
    """A user holding the whole store is matched as "none of my other kinds" (no scope list to
    read); the ranking is exactly the one the scoped form gives. Another user's memories, made of
    words the query does not use, change no word's weight, only the plan."""
    alone, shared = engine_client(), engine_client()
    for client in (alone, shared):
        say(client, "u1", "c1", *TALK)
    say(shared, "u2", "c2", "Quantum chromodynamics exam on Friday.")
    assert _found(alone, "u1", query) == _found(shared, "u1", query)
    assert _found(alone, "u1", query)


def test_a_query_of_common_words_ranks_the_newest_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = engine_client()
    say(client, "u1", "old", *(f"Old note {i}: hiking is fun." for i in range(8)))
    say(client, "u1", "new", *(f"New note {i}: hiking is fun." for i in range(8)))
    everything = [text for text, score in _found(client, "u1", "hiking") if score]
    assert any(text.startswith("[user viewpoint] Old note") for text in everything)
    monkeypatch.setattr(plan, "SCORED", 4)
    newest = [text for text, score in _found(client, "u1", "hiking") if score]  # the facts
    assert newest
    assert all(text.startswith("[user viewpoint] New note") for text in newest)


@pytest.mark.parametrize("shared", [False, True])
def test_an_old_memory_holding_a_rare_word_of_the_query_is_ranked(
    monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """Past the newest matches a search ranks, the matches of its rare words still are (for a
    user alone in the store, and one among others)."""
    client = engine_client()
    if shared:
        say(client, "u2", "other", "Zephyrine went hiking without me.")
    say(client, "u1", "old", "Hiking with Zephyrine was fun.")
    say(client, "u1", "old", *(f"Old note {i}: hiking is fun." for i in range(8)))
    say(client, "u1", "new", *(f"New note {i}: hiking is fun." for i in range(8)))
    monkeypatch.setattr(plan, "SCORED", 4)
    found = [text for text, score in _found(client, "u1", "hiking with Zephyrine") if score]
    assert found[0] == "[user viewpoint] Hiking with Zephyrine was fun."


def test_common_synonyms_the_query_did_not_say_only_score() -> None:
    groups = [(("travel", "trip", "vacation"), 9_000), (("kid", "son"), 40)]
    assert plan.narrow(groups, {"vacation", "son"}, budget=5_000) == {"travel", "trip"}
    assert plan.narrow(groups, {"vacation", "son"}, budget=10_000) == set()


def test_naming_the_words_twice_instead_of_the_scope_ranks_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which of the scope or the words a kind's expression names twice is a matter of cost (the
    rows bm25 counts): the memories found, their order and relativity, are the same."""
    client = engine_client()
    say(client, "u1", "c1", *TALK)
    # At the default relativity its commonest words only score (optional words).
    query = "Do I like green tea or coffee in the morning?"
    real = plan.match

    def forced(double: bool) -> list[tuple[str, float]]:
        def match(*args: Any, **kwargs: Any) -> plan.Match:
            kwargs["double_words"] = double
            return real(*args, **kwargs)

        monkeypatch.setattr(plan, "match", match)
        found = client.search_memory(query, user_id="u1")
        return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list] + [
            (m.preference or "", m.relativity or 0.0) for m in found.preference_detail_list
        ]

    scope_twice, words_twice = forced(False), forced(True)
    assert scope_twice == words_twice
    assert ("[user viewpoint] I prefer green tea to coffee in the morning.", 1.0) in words_twice
    assert "The user prefers green tea to coffee in the morning." in dict(words_twice)


@pytest.mark.parametrize("scored", [10_000, 4])
@pytest.mark.parametrize("query", ["hiking at the lake with Ana", "Do I like green tea?"])
def test_a_sole_users_facts_told_by_their_kind_are_those_the_not_finds(
    monkeypatch: pytest.MonkeyPatch, query: str, scored: int
) -> None:
    """Reading each match's kind instead of matching "none of the other kinds" is a matter of
    cost: the facts found, their order and relativity, are the same (also when only the newest
    matches and those of the rare words are ranked), and none is a preference."""
    client = engine_client()
    say(client, "u1", "c1", *TALK)
    monkeypatch.setattr(plan, "SCORED", scored)

    def facts(kind_test_rows: int) -> list[tuple[str, float]]:
        monkeypatch.setattr(plan, "KIND_TEST_ROWS", kind_test_rows)
        found = client.search_memory(query, user_id="u1")
        assert found.preference_detail_list  # the other kind the facts are told from
        return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]

    by_kind, by_not = facts(0), facts(10**9)
    assert by_kind == by_not
    assert by_kind
    assert all(text.startswith("[user viewpoint]") for text, _ in by_kind)


def test_words_are_counted_in_what_memories_say_not_in_what_the_index_adds() -> None:
    """A word's memories are counted without a column filter, but for the index's own terms:
    the time marker a turn about time is indexed with is no word any memory says."""
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    say(client, "u1", "c1", "Yesterday we went hiking.", "Tomorrow I fly to Lisbon.")
    words = {"hiking": ["hiking"], "marker": [TIME_MARKER], "markers": [TIME_MARKER + "s"]}
    with engine.store.snapshot() as db:
        _, counts = plan.frequencies(db, [engine.store.tokens.token("u", "u1")], words)
    assert counts["hiking"]
    assert counts["marker"] == counts["markers"] == 0


def test_kinds_read_in_one_statement_are_those_each_statement_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user holding the whole store, whose query matches few memories, has its facts and
    preferences read in one statement (_plan.together): exactly what one statement a kind
    finds, in the same order, with the same scores."""
    client = engine_client()
    say(client, "u1", "c1", *TALK)
    # Preferences enough that reading each match's kind costs less than excluding them.
    say(client, "u1", "c2", *(f"I like herbal tea number {i}." for i in range(100)))
    say(client, "u1", "c3", *(f"Note {i}: the bus was late again." for i in range(120)))
    say(client, "u1", "c4", "I like zebras at dawn.", "The zebras were asleep, sadly.")
    together: list[list[str]] = []
    grouped = plan.together

    def spy(plans: Any) -> list[str]:
        kinds = grouped(plans)
        together.append(kinds)
        return kinds

    monkeypatch.setattr(plan, "together", spy)
    both = _found(client, "u1", "zebras")
    assert together == [["fact", "preference"]]
    assert any(score == 0.0 for _, score in both)  # a preference among them
    monkeypatch.setattr(plan, "together", lambda plans: [])
    assert _found(client, "u1", "zebras") == both
