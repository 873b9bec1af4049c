"""How search orders what it found: query coverage (relativity), bm25, fusion with vectors."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from langchain_memos.embedded._store import Candidate
from langchain_memos.embedded._writer import memory_text

DEFAULT_RELATIVITY = 0.45
# A system tag (with a colon, like "mode:fast"): keywords() never produces one, so ordinary turns
# that mention feedback are not taken for corrections.
FEEDBACK_TAG = "mode:feedback"
_RRF_K = 60
# What a query word in a neighbouring turn is worth against one in the memory itself. It counts
# only for a memory that holds a query word itself: neighbours alone make no memory related.
_NEAR = 0.5


def _idf(total: int, frequency: int) -> float:
    # Smoothed, so that a word in most of a small store still counts for something.
    frequency = min(frequency, total)  # never negative, whatever the counts say
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


class Scorer:
    """How well a candidate answers a query, from the query words it contains.

    Its relativity (for the threshold) is the share of the query a memory answers: the idf mass of
    the query words in its own text, plus half of those only its neighbouring turns hold, as a
    share of the idf mass of every query word the user's memories contain at all. 1 means the
    memory holds every query word any memory holds; a memory that holds none itself and matches
    only through its neighbours scores 0, and one holding only the least informative of several
    query words stays under the 0.45 default. Query words no memory contains (a new topic) do
    not count against the ones that match: they cannot tell memories apart. Ranking is bm25 over
    the weighted columns.
    """

    def __init__(self, words: list[str], total: int, counts: Mapping[str, int]) -> None:
        self.idf = {word: _idf(total, counts[word]) for word in words if counts.get(word)}
        self.stems = {_stem(word): word for word in self.idf}
        self.known = sum(self.idf.values())

    def split(self, words: list[str], threshold: float) -> tuple[list[str], list[str]]:
        """The words a memory must hold one of, and the optional rest.

        The least informative words whose idf mass together stays under the threshold cannot
        lift a memory over it on their own, so the index need not score memories holding only
        those (at 100k memories this halves search time). With no threshold every word counts.
        Words no memory holds are dropped: they match nothing.
        """
        known = [word for word in words if word in self.idf]
        if threshold <= 0 or not self.known:
            return known, []
        optional: list[str] = []
        mass = 0.0
        for word in sorted(known, key=self.idf.__getitem__):
            if mass + self.idf[word] >= threshold * self.known:
                break
            mass += self.idf[word]
            optional.append(word)
        return [word for word in known if word not in optional], optional

    def _present(self, text: str) -> set[str]:
        return {self.stems[stem] for term in text.split() if (stem := _stem(term)) in self.stems}

    def coverage(self, candidate: Candidate) -> float:
        """Query words in the memory itself count fully; in its neighbouring turns, half."""
        own = self._present(candidate.own)
        if not own:
            return 0.0
        near = self._present(candidate.context) - own
        mass = sum(self.idf[w] for w in own) + _NEAR * sum(self.idf[w] for w in near)
        return round(min(mass / self.known, 1.0), 4) if self.known else 0.0


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light stem, enough to pair a memory's words with the query words FTS5 matched."""
    for suffix in ("ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def rank(
    found: list[Candidate],
    scorer: Scorer,
    conversation_id: object,
    threshold: float,
    limit: int,
    similar: Mapping[int, float] | None = None,
) -> list[dict[str, Any]]:
    """Order candidates: by bm25, or with vectors by reciprocal-rank fusion of bm25's order and
    the similarity order. Relativity is the query coverage, or the cosine when higher."""
    similar = similar or {}
    lexical = {c.seq: rank for rank, c in enumerate(c for c in found if c.bm25 > 0)}
    by_vector = {seq: rank for rank, seq in enumerate(similar)}
    scored: dict[int, list[Any]] = {}
    for candidate in found:
        relativity = max(scorer.coverage(candidate), round(similar.get(candidate.seq, 0.0), 4))
        if similar:
            score = sum(
                1 / (_RRF_K + ranks[candidate.seq])
                for ranks in (lexical, by_vector)
                if candidate.seq in ranks
            )
        else:
            score = candidate.bm25
        if conversation_id is not None and candidate.conversation_id == conversation_id:
            score *= 1.2  # the cloud's soft boost for the current conversation
        if FEEDBACK_TAG in candidate.body.get("tags", ()):
            score *= 2.0  # a correction outranks what it corrects
        scored[candidate.seq] = [score, candidate.create_time, candidate.seq, candidate, relativity]
    carried = _relate(scored)
    # Among equal scores the newest wins.
    ranked = sorted(scored.values(), key=lambda item: item[:3], reverse=True)
    items: list[dict[str, Any]] = []
    shown: set[int] = set()
    for *_, candidate, relativity in ranked:
        if len(items) == limit:
            break
        if relativity < threshold or carried.get(candidate.seq) in shown:
            continue  # unrelated, or its whole text is in an answer already shown
        shown.add(candidate.seq)
        item = {k: v for k, v in candidate.body.items() if k != "sources"}
        # The memory's info, as get/memory gives it: what a caller filed it under.
        items.append({**item, "info": json.loads(candidate.info), "relativity": relativity})
    return items


def _relate(scored: dict[int, list[Any]]) -> dict[int, int]:
    """Order related turns found together: a short answer (whose text carries the turn it
    answers) above that turn, and the user's statement above the assistant's echo of it.

    Returns which found memory's text carries which other found memory whole.
    """
    by_turn: dict[tuple[Any, str], list[Any]] = {}
    for entry in scored.values():
        sources = entry[3].body.get("sources") or [{}]
        by_turn.setdefault((entry[3].conversation_id, str(sources[0].get("content"))), entry)
    carried: dict[int, int] = {}
    for entry in scored.values():
        candidate = entry[3]
        sources = candidate.body.get("sources") or []
        if len(sources) < 2 or not isinstance(sources[1], dict):
            continue
        other = by_turn.get((candidate.conversation_id, str(sources[1].get("content"))))
        if other is None or other is entry:
            continue
        if sources[1].get("relation") == "answers":
            entry[0] = max(entry[0], other[0] * 1.01)
            entry[4] = max(entry[4], other[4])
            if str(sources[1].get("content")) in memory_text(candidate.body):
                carried[other[2]] = candidate.seq
        elif sources[1].get("relation") == "restates":
            entry[0] = min(entry[0], other[0] * 0.99)
            entry[4] = min(entry[4], other[4])
    return carried
