"""Words scored in Python instead of in the full-text index (issue 13, speed at scale): common
synonyms the query did not say, common optional words and a "when" question's time marker rank
the memories as bm25 in the index ranked them."""

from __future__ import annotations

import functools

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _bm25 as bm25
from langchain_memos.embedded import _matches as matches
from langchain_memos.embedded import _plan as plan
from langchain_memos.embedded import _search as search
from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._text import TIME_MARKER
from tests.unit_tests.engine_talk import TALK, engine_client, say

_TALK = (
    *TALK,
    "My vacation trip to Lisbon with the kids was nice.",
    "I went to Lisbon with my sister.",
)


def _found(client: MemOSClient, query: str, relativity: float = 0.45) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id="u1", relativity=relativity)
    return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]


def _everything_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Score every optional word and time marker in Python, however rare."""
    monkeypatch.setattr(plan, "COMMON_MEMORIES", -1)
    monkeypatch.setattr(plan, "COMMON_SHARE", -1.0)


@pytest.mark.parametrize(
    "query",
    [
        "When did I go hiking at the lake?",
        "When did I go to Lisbon?",
        "Do I like green tea or coffee in the morning?",
        "How was my vacation with the kids?",
        "hiking at the lake with Ana",
    ],
)
@pytest.mark.parametrize("relativity", [0.0, 0.45])
def test_words_scored_outside_the_index_rank_as_in_it(
    monkeypatch: pytest.MonkeyPatch, query: str, relativity: float
) -> None:
    client = engine_client()
    say(client, "u1", "c1", *_TALK)
    in_the_index = _found(client, query, relativity)
    _everything_outside(monkeypatch)
    assert _found(client, query, relativity) == in_the_index
    assert in_the_index


def test_the_share_added_in_python_is_the_one_bm25_gives() -> None:
    """The candidates' scores, with a word scored by the index and by Python, are the same."""
    engine = EmbeddedEngine(":memory:")
    say(engine_client(engine), "u1", "c1", *_TALK)
    store = engine.store
    owner = store.tokens.token("u", "u1")

    def candidates(optional: list[str]) -> list[Candidate]:
        return matches.candidates(
            store,
            words=["hiking"],
            wanted={"fact": 50},
            owners=[owner],
            where="1",
            params=[],
            optional=optional,
            kinds=("fact", "preference"),
            columns=True,
        )["fact"]

    inside, bare = candidates(["lake", TIME_MARKER]), candidates([])
    with store.snapshot() as db:
        total = db.execute("SELECT count(*) FROM memories_fts").fetchone()[0]
        held = {
            term: db.execute(
                "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", [f'"{term}"']
            ).fetchone()[0]
            for term in ("lake", TIME_MARKER)
        }
        average = bm25.average_tokens(db)
    phrases = [(term, bm25.idf(total, n)) for term, n in held.items()]
    outside = bm25.rescored(bare, phrases, average)
    assert [(c.seq, round(c.bm25, 9)) for c in outside] == [
        (c.seq, round(c.bm25, 9)) for c in inside
    ]
    assert len({round(c.bm25, 9) for c in inside}) > 1


def test_a_when_question_favours_the_memory_that_speaks_of_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = engine_client()
    # The same words but for a time; the one without it is newer (among equals, the newest wins).
    say(client, "u1", "c1", "I went to Porto last May.", "Nice talk.", "Nice talk again.")
    say(client, "u1", "c2", "I went to Porto with Rui.")
    _everything_outside(monkeypatch)
    assert _found(client, "When did I go to Porto?")[0][0] == (
        "[user viewpoint] I went to Porto last May."
    )
    assert _found(client, "Did I go to Porto?")[0][0] == (
        "[user viewpoint] I went to Porto with Rui."
    )


def test_an_unsaid_common_synonym_still_lifts_a_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    client = engine_client()
    # Both hold "vacation"; the longer one also "trip" (of its group), which the query does not
    # say: without the synonym's share, the shorter memory would rank first.
    say(client, "u1", "c1", "My vacation trip to Lisbon was long.")
    say(client, "u1", "c2", "My vacation was long.")
    # Every synonym the query did not say scores only, and in Python.
    monkeypatch.setattr(search, "narrow", functools.partial(plan.narrow, budget=0))
    found = _found(client, "Was my vacation long?")
    assert found[0][0] == "[user viewpoint] My vacation trip to Lisbon was long."
    monkeypatch.setattr(bm25, "_share", lambda *args: 0.0)
    found = _found(client, "Was my vacation long?")
    assert found[0][0] == "[user viewpoint] My vacation was long."
