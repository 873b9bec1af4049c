"""Optional vector similarity: what lexical search cannot find, meaning can."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from langchain_memos import APIStatusError, ConfigurationError, MemOSClient, WriteRefusedError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _ingest as ingest
from langchain_memos.embedded._vectors import VectorIndex

# A tiny meaning space: words that mean alike share a dimension.
CONCEPTS = [
    {"holiday", "vacation", "trip", "travel", "journey", "excursion"},
    {"kids", "children", "family", "parents", "elderly"},
    {"hotel", "inn", "accommodation", "stay"},
    {"food", "spicy", "dinner", "restaurant"},
]


class ConceptEmbeddings(Embeddings):
    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        words = {w.strip(".,?!").lower() for w in text.split()}
        return [float(len(words & concept)) for concept in CONCEPTS] + [0.01]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def client(embeddings: Embeddings | None) -> MemOSClient:
    engine = EmbeddedEngine(embeddings=embeddings)
    memos = MemOSClient(embedded=engine)
    memos.add_message(
        [
            {"role": "user", "content": "We plan a vacation with the kids and grandparents."},
            {"role": "user", "content": "I ordered spicy noodles for dinner."},
        ],
        user_id="u1",
        conversation_id="c1",
    )
    return memos


def values(memos: MemOSClient, query: str, user: str = "u1") -> list[str | None]:
    found = memos.search_memory(query, user_id=user, include_preference=False)
    return [m.memory_value for m in found.memory_detail_list]


def test_meaning_finds_what_words_miss() -> None:
    query = "What about the excursion?"  # a word no memory and no synonym has
    assert values(client(None), query) == []
    embeddings = ConceptEmbeddings()
    assert values(client(embeddings), query) == [
        "[user viewpoint] We plan a vacation with the kids and grandparents."
    ]
    assert embeddings.calls == 1  # one batch per add/message call


def test_vectors_keep_users_apart_and_follow_edits_and_deletes() -> None:
    memos = client(ConceptEmbeddings())
    assert values(memos, "holiday plans", user="someone-else") == []

    listing = memos.get_memory(user_id="u1")
    trip = next(m for m in listing.memory_detail_list if "vacation" in (m.memory_value or ""))
    assert trip.id is not None
    memos.update_memory(trip.id, content="We booked a cheap inn.")
    assert values(memos, "hotel ideas") == ["We booked a cheap inn."]
    # The edited memory no longer matches its old words, by text or by meaning.
    assert "We booked a cheap inn." not in values(memos, "holiday plans")

    memos.delete_memory(memory_ids=[trip.id])
    assert values(memos, "hotel ideas") == []
    assert values(memos, "restaurant tonight") == [
        "[user viewpoint] I ordered spicy noodles for dinner."
    ]


def test_a_rolled_back_write_leaves_no_vector_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = EmbeddedEngine(embeddings=ConceptEmbeddings())
    memos = MemOSClient(embedded=engine, max_retries=0)
    noodles = "I ordered spicy noodles for dinner."
    memos.add_message([{"role": "user", "content": noodles}], user_id="u1", conversation_id="c1")
    assert values(memos, "restaurant tonight") == [f"[user viewpoint] {noodles}"]

    def fail(*_: object) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        # The write fails after its vectors are added, before it commits.
        patch.setattr(ingest, "update_context", fail)
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the engine answers
            memos.add_message(
                [{"role": "user", "content": "We plan a vacation with the kids."}],
                user_id="u1",
                conversation_id="c1",
            )
    assert values(memos, "holiday plans") == []
    # The next memory is stored where the rolled-back one would have been: it is found by its
    # own meaning ("stay" is no word of it), not hidden behind the lost one's.
    memos.add_message(
        [{"role": "user", "content": "The inn had a lovely garden."}],
        user_id="u1",
        conversation_id="c1",
    )
    assert values(memos, "holiday plans") == []
    assert values(memos, "Where can we stay?") == ["[user viewpoint] The inn had a lovely garden."]


def test_a_first_search_and_a_write_at_once_both_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    # A write adds its vector inside its transaction (the store's lock, then the index's); a
    # first search reads the vectors table into memory. When the search took the two locks in
    # the other order, each waited for the other for ever (serve runs requests on two threads).
    engine = EmbeddedEngine(embeddings=ConceptEmbeddings())
    memos = MemOSClient(embedded=engine)
    memos.add_message([{"role": "user", "content": "I like tea."}], user_id="u1")
    vectors = engine._search._writer.vectors
    assert vectors is not None
    vectors.forget()  # as after a rollback: the next search reads the table again
    loading, writing = threading.Event(), threading.Event()
    load = VectorIndex._load

    def announced(self: VectorIndex, store: Any) -> None:
        loading.set()
        writing.wait(2)  # the write has taken the store's lock
        load(self, store)

    monkeypatch.setattr(VectorIndex, "_load", announced)

    def write() -> None:
        loading.wait(5)  # the search is about to read the table
        with contextlib.suppress(RuntimeError), engine.store.transaction() as db:
            writing.set()
            vectors.add(db, 10**9, "owner", "fact", [1.0, 0.0])
            raise RuntimeError("roll back")

    searcher = threading.Thread(
        target=lambda: memos.search_memory("tea", user_id="u1", relativity=0), daemon=True
    )
    writer = threading.Thread(target=write, daemon=True)
    searcher.start()
    writer.start()
    for thread in (writer, searcher):
        thread.join(20)
        assert not thread.is_alive(), f"{thread.name} never finished"


class EditingMeanwhile(ConceptEmbeddings):
    """Embeddings that, while an edit's vector is worked out (outside the write lock), let
    another caller edit the same memory: two edits at once."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Any = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().embed_documents(texts)


def test_two_edits_of_one_memory_at_once_both_stay() -> None:
    embeddings = EditingMeanwhile()
    memos = client(embeddings)
    trip = next(
        m
        for m in memos.get_memory(user_id="u1").memory_detail_list
        if "vacation" in (m.memory_value or "")
    )
    assert trip.id is not None
    embeddings.meanwhile = lambda: memos.update_memory(trip.id or "", status="archived")
    memos.update_memory(trip.id, content="We booked a cheap inn for the trip.")

    edited = memos.get_memory_by_id(trip.id)
    assert edited.memory_value == "We booked a cheap inn for the trip."  # the second edit
    assert edited.status == "archived"  # and the first, made while the second was under way
    assert values(memos, "hotel ideas") == ["We booked a cheap inn for the trip."]


class Unconfigured(ConceptEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise ConfigurationError("vector search needs numpy: pip install ...")


def test_an_engine_set_up_wrong_answers_as_the_service_failing_not_as_a_bad_request() -> None:
    """A write is not the caller's mistake, so not refused for good (an outbox keeps it)."""
    engine = EmbeddedEngine(embeddings=Unconfigured())
    body = {
        "user_id": "u1",
        "conversation_id": "c1",
        "messages": [{"role": "user", "content": "I like green tea."}],
    }
    status, answer = engine.handle("POST", "/add/message", json.dumps(body).encode())
    assert status == 500
    assert json.loads(answer)["code"] == 50000
    assert "needs numpy" in json.loads(answer)["message"]
    with pytest.raises(APIStatusError) as raised:
        MemOSClient(embedded=engine, max_retries=0).add_message(
            [{"role": "user", "content": "I like green tea."}], user_id="u1", conversation_id="c1"
        )
    assert not isinstance(raised.value, WriteRefusedError)
