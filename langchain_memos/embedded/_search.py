"""``search/memory``: find a user's memories (and their knowledge bases') for a query, ranked.

Where a search's time goes (bench/engine_scale.py's stores, one user holding every memory,
profiled with cProfile and each SQLite statement timed; issue 13). At 10k memories, ~5.5 ms of
CPU: the two candidate queries (facts, preferences) 2.5 ms, of which bm25 (its per-phrase row
counts and per-row scores) 1.5 ms, reading the ~50 rows each returns 0.5 ms; building the
candidates from their rows (``_bodies.read``) ~0.7 ms and ranking them (coverage, ``_relate``)
~1 ms; counting the query words (``frequencies``) 0.4 ms. The client around it (httpx transport,
envelope, pydantic) adds ~0.9 ms, 11-13% of a ``MemOSClient(embedded=...)`` call. A user among
1,000 pays the same word counts but ranks a handful of matches: the ~3 ms it does not pay is
bm25 over, and Python work on, 50 candidates a kind instead of a few. SQLite's share grows with
the store. At 100k, since the common words that only add to the score are scored in Python
(_bm25.py, see _plan.py), about 11 ms of CPU a search: the candidate queries ~7.3 ms (~10.5
before), counting the query words ~1.2 ms, the Python share of the words left out of the index
~0.5 ms, the rest (candidates built and ranked, the client) ~2-3 ms. At 1M before that change,
93% of a search was SQLite (candidate queries 75%, word counts 12%, finding the newest matches
past SCORED 6%), mostly bm25's row counts of every phrase; with it, a search takes p50 36-42
and p95 90-94 ms there, against 47-53 and 139-145 (0.8-0.94x the raw FTS5 floor's p50), and
with the common words' counts kept between searches (_plan.Counted) p95 83-88 ms, where the
same common words recur. Python work stays 2-4 ms whatever the size. Since, a user holding the
whole store has its facts and preferences read in one statement where the plan allows
(_plan.together): 6% fewer instructions a search at 100k. Then, at 100k, the candidate queries
took ~2.3 ms of a median search (less than the raw FTS5 floor's one query, ~3.8 ms) and the
Python around them ~2.5 ms, half of it ranking: ranking now reads a candidate's turn, links,
feedback tag and text from its stored JSON where that says enough (_candidate.py; only the
bodies with links are parsed, only the memories shown unpacked), works out each slot's mass
once a query, and tests each word _bm25 scores once against a candidate's joined columns:
23.2G -> 21.35G instructions for 330 searches by callgrind, client CPU p50 ~5.9 -> ~5.3 ms
(alternating processes), every answer the same. At 10k the candidate queries alone (~1.1 ms) are
twice the floor's query (~0.55 ms), and the Python around them ~2 ms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from langchain_memos._validation import check_fraction, check_id, check_int, check_text
from langchain_memos.embedded import _matches as matches
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded._bm25 import average_tokens, idf, rescored
from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._events import with_turn_context
from langchain_memos.embedded._lexicon import asks_advice, query_slots, said
from langchain_memos.embedded._plan import common, frequencies, narrow, rare_words
from langchain_memos.embedded._ranking import Scorer, rank
from langchain_memos.embedded._requests import SearchMemory
from langchain_memos.embedded._scope import VIEWS
from langchain_memos.embedded._store import NEIGHBOURS
from langchain_memos.embedded._subject import about_user
from langchain_memos.embedded._text import TIME_MARKER, asks_when, has_cjk
from langchain_memos.embedded._when import named_time
from langchain_memos.embedded._writer import Writer

PREFERENCE_NOTE = {
    "en": "\n# Note:\nFactual memory is a summary of facts, while preference memory is a summary "
    "of user preferences.\nYour reply must not violate any of the user's preferences, whether "
    "explicit or implicit, and briefly explain why you answered this way to avoid conflicts.\n",
    "zh": "\n# 注意：\n事实记忆是事实的摘要，而偏好记忆是用户偏好的摘要。\n"
    "你的回复不得违反用户的任何偏好，无论是显式偏好还是隐式偏好，并简要解释你为什么这样回答以避免冲突。\n",
}
_VECTOR_DEPTH = 200
_KINDS = tuple(kind for kind, _ in VIEWS.values())


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
    window: tuple[int, int] | None = None
    expected: int = 0
    held: int = 0
    rare: list[str] = field(default_factory=list)
    # Scored in Python, not in the index: each phrase with its idf (see _bm25.py).
    outside: list[tuple[str, float]] = field(default_factory=list)
    average: float = 1.0  # the index's tokens a row, which their bm25 reads


class Search:
    """Finds and ranks memories, lexically and (with embeddings) by vector similarity."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._store = writer.store

    def search_memory(self, request: SearchMemory, *, riders: bool = True) -> dict[str, Any]:
        """``riders``: let related turns past the limit ride along with the facts said next to
        them (a caller that reads memories to change them wants each memory's own text)."""
        owners = [self._store.tokens.token(*request.subject.owner)]
        for kb in self._knowledgebases(request.knowledgebase_ids):
            owners.append(self._store.tokens.token("k", kb))
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
        found = self._found(query, {kind: max(50, limit * 5) for kind, _, limit in request.plan})
        for kind, key, limit in request.plan:
            result[key] = self._ranked(query, kind, found[kind], limit, riders=riders)
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
        query = self._query(
            text, [self._store.tokens.token("u", user_id)], relativity, "1", [], None
        )
        if self._writer.embeddings is not None:
            query.vector = self._writer.embeddings.embed_query(text)
        depth = candidates or max(50, limit * 5)
        return self._ranked(query, "fact", self._found(query, {"fact": depth})["fact"], limit)

    def _query(
        self,
        text: str,
        owners: list[str],
        threshold: float,
        where: str,
        params: list[Any],
        conversation_id: object,
    ) -> _Query:
        slots = query_slots(text)
        when = asks_when(text)
        # One snapshot: counted in two, a write landing between them could make a word more
        # frequent than the whole store, and its weight negative.
        with self._store.snapshot() as db:
            total, counts = frequencies(
                db, owners, {s.name: s.alternatives for s in slots}, self._store.counted
            )
            marked = (
                scope_counts.counts(db, [scope_counts.marked(o) for o in owners]) if when else {}
            )
        now = datetime.fromtimestamp(self._writer.now_ms() / 1000, timezone.utc)
        named = named_time(text, now)
        advice = asks_advice(text)
        personal = not advice and about_user(text)
        scorer = Scorer(slots, total, counts, advice=advice, named=named, personal=personal)
        words, optional = scorer.split(threshold)
        # Common synonyms the query did not say score, but find no candidates (see _plan.py);
        # they, and the common words that only add to the score, score outside the index.
        required = {*words}
        narrowed = narrow(
            [
                (s.alternatives, counts[n])
                for n, s in scorer.slots.items()
                if s.alternatives[0] in required
            ],
            said(text),
        )
        outside: dict[str, int] = {}  # each term, and how many memories its slot holds
        for n, s in scorer.slots.items():
            if s.alternatives[0] in optional and not s.name_of and common(counts[n], total):
                outside.update(dict.fromkeys(s.alternatives, counts[n]))
            outside.update({term: counts[n] for term in s.alternatives if term in narrowed})
        if when:
            if common(sum(marked.values()), total):
                outside[TIME_MARKER] = sum(marked.values())
            else:
                optional.append(TIME_MARKER)
        words = [term for term in words if term not in outside]
        optional = [term for term in optional if term not in outside]
        matched = [(n, s) for n, s in scorer.slots.items() if required.intersection(s.alternatives)]
        # At most how many memories the words match (a group counted whole).
        expected = sum(counts[n] for n, _ in matched)
        rare = rare_words(
            ([t for t in s.alternatives if t in words], counts[n]) for n, s in matched
        )
        scored = {*words, *optional}
        held = sum(
            counts[n] for n, s in scorer.slots.items() if scored.intersection(s.alternatives)
        )
        return _Query(
            owners,
            words,
            optional,
            scorer,
            threshold,
            where,
            params,
            conversation_id,
            None,
            named.window if named else None,
            expected,
            held,
            rare,
            [(term, idf(total, n)) for term, n in outside.items()],
            self._average_tokens() if outside else 1.0,
        )

    def _found(self, query: _Query, depths: dict[str, int]) -> dict[str, list[Candidate]]:
        """Each kind's ``depths[kind]`` best full-text matches (five per memory asked for, at
        least 50, unless a caller says), scored in full (see _bm25.py)."""
        found = matches.candidates(
            self._store,
            words=query.words,
            wanted=depths,
            owners=query.owners,
            where=query.where,
            params=query.params,
            optional=query.optional,
            kinds=_KINDS,
            expected=query.expected,
            held=query.held,
            rare=query.rare,
            columns=bool(query.outside),
        )
        if query.outside:
            found = {k: rescored(f, query.outside, query.average) for k, f in found.items()}
        return found

    def _ranked(
        self,
        query: _Query,
        kind: str,
        found: list[Candidate],
        limit: int,
        riders: bool = True,
    ) -> list[dict[str, Any]]:
        """The best ``limit`` memories of one kind, ranked among its full-text matches
        ``found`` and the nearest vectors."""
        similar: dict[int, float] = {}
        vectors = self._writer.vectors
        if vectors is not None and query.vector is not None:
            near = vectors.nearest(self._store, query.owners, kind, query.vector, _VECTOR_DEPTH)
            similar = dict(near)
            seen = {candidate.seq for candidate in found}
            found += self._store.by_seq(
                [q for q, _ in near if q not in seen],
                query.owners,
                kind,
                query.where,
                query.params,
            )
        if kind == "event":
            found = with_turn_context(self._store, found)
        neighbours = self._neighbours if kind == "fact" and riders else None
        return rank(
            found,
            query.scorer,
            query.conversation_id,
            query.threshold,
            limit,
            similar,
            neighbours,
            query.window,
            vectors.weight if vectors is not None else 1.0,
        )

    def _average_tokens(self) -> float:
        with self._store.snapshot() as db:
            return average_tokens(db)

    def _neighbours(self, seqs: list[int]) -> dict[int, tuple[int, int]]:
        """For each memory, the seqs of the turns said just before and after it (0: none)."""
        rows = self._store.query(NEIGHBOURS, [json.dumps(seqs)])
        return {row["seq"]: (row["before"] or 0, row["after"] or 0) for row in rows}

    def _knowledgebases(self, ids: list[str]) -> list[str]:
        if ids == ["all"]:
            return [row["id"] for row in self._store.query("SELECT id FROM knowledgebases")]
        return ids
