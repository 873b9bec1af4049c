"""``search/memory``: find a user's memories (and their knowledge bases') for a query, ranked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_memos._validation import check_fraction, check_id, check_int, check_text
from langchain_memos.embedded._ranking import Scorer, rank
from langchain_memos.embedded._requests import SearchMemory
from langchain_memos.embedded._store import scope_token
from langchain_memos.embedded._text import TIME_MARKER, asks_when, has_cjk, query_terms
from langchain_memos.embedded._writer import Writer

PREFERENCE_NOTE = {
    "en": "\n# Note:\nFactual memory is a summary of facts, while preference memory is a summary "
    "of user preferences.\nYour reply must not violate any of the user's preferences, whether "
    "explicit or implicit, and briefly explain why you answered this way to avoid conflicts.\n",
    "zh": "\n# 注意：\n事实记忆是事实的摘要，而偏好记忆是用户偏好的摘要。\n"
    "你的回复不得违反用户的任何偏好，无论是显式偏好还是隐式偏好，并简要解释你为什么这样回答以避免冲突。\n",
}
_VECTOR_DEPTH = 200


@dataclass
class _Query:
    """One search: whose memories, the words that must match and those that only add, how the
    words score, the filter, and the query's vector."""

    owners: list[str]
    words: list[str]
    optional: list[str]
    scorer: Scorer
    threshold: float
    where: str
    params: list[Any]
    conversation_id: object
    vector: list[float] | None


class Search:
    """Finds and ranks memories, lexically and (with embeddings) by vector similarity."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._store = writer.store

    def search_memory(self, request: SearchMemory) -> dict[str, Any]:
        owners = [request.subject.token]
        for kb in self._knowledgebases(request.knowledgebase_ids):
            owners.append(scope_token("k", kb))
        text = request.query
        where, params = request.filter.where, request.filter.params
        query = self._query(
            text, owners, request.relativity, where, params, request.conversation_id
        )
        result: dict[str, Any] = {
            "memory_detail_list": [],
            "preference_detail_list": [],
            "tool_memory_detail_list": [],
            "skill_detail_list": [],
        }
        if self._writer.embeddings is not None:
            query.vector = self._writer.embeddings.embed_query(text)
        for kind, key, limit in request.plan:
            result[key] = self._ranked(query, kind, limit)
        language = "zh" if has_cjk(text) else "en"
        result["preference_note"] = (
            PREFERENCE_NOTE[language] if result["preference_detail_list"] else ""
        )
        return result

    def rank(
        self, text: str, user_id: str, limit: int, relativity: float, candidates: int | None
    ) -> list[dict[str, Any]]:
        """A user's facts for ``text`` as ``search/memory`` ranks them, with no cap on ``limit``."""
        check_text("query", text)
        check_id("user_id", user_id)
        check_int("limit", limit, low=1)
        check_fraction("relativity", relativity)
        check_int("candidates", candidates, low=1)
        query = self._query(text, [scope_token("u", user_id)], relativity, "1", [], None)
        if self._writer.embeddings is not None:
            query.vector = self._writer.embeddings.embed_query(text)
        return self._ranked(query, "fact", limit, candidates)

    def _query(
        self,
        text: str,
        owners: list[str],
        threshold: float,
        where: str,
        params: list[Any],
        conversation_id: object,
    ) -> _Query:
        words = query_terms(text)
        scorer = Scorer(words, *self._store.frequencies(owners, words))
        words, optional = scorer.split(words, threshold)
        if asks_when(text):
            optional.append(TIME_MARKER)
        return _Query(
            owners, words, optional, scorer, threshold, where, params, conversation_id, None
        )

    def _ranked(
        self, query: _Query, kind: str, limit: int, depth: int | None = None
    ) -> list[dict[str, Any]]:
        """The best ``limit`` memories of one kind, ranked among the ``depth`` best full-text
        matches (by default five per memory asked for, at least 50) and the nearest vectors."""
        found = self._store.candidates(
            words=query.words,
            kind=kind,
            owners=query.owners,
            where=query.where,
            params=query.params,
            limit=depth or max(50, limit * 5),
            optional=query.optional,
        )
        similar: dict[int, float] = {}
        vectors = self._writer.vectors
        if vectors is not None and query.vector is not None:
            near = vectors.nearest(self._store, query.owners, kind, query.vector, _VECTOR_DEPTH)
            similar = dict(near)
            seen = {candidate.seq for candidate in found}
            found += self._store.by_seq(
                [q for q, _ in near if q not in seen], query.where, query.params
            )
        return rank(found, query.scorer, query.conversation_id, query.threshold, limit, similar)

    def _knowledgebases(self, ids: list[str]) -> list[str]:
        if ids == ["all"]:
            return [row["id"] for row in self._store.query("SELECT id FROM knowledgebases")]
        return ids
