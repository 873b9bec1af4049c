"""How search orders what it found: query coverage (relativity), bm25, fusion with vectors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from langchain_memos.embedded._bodies import memory_text
from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._lexicon import CHARACTER_WEIGHT, Slot
from langchain_memos.embedded._subject import LONGEST, may_speak_of_others, split_by_subject
from langchain_memos.embedded._text import has_cjk, index_text, query_terms
from langchain_memos.embedded._turns import beside
from langchain_memos.embedded._when import Named, dateish

DEFAULT_RELATIVITY = 0.45
# A system tag (with a colon, like "mode:fast"): keywords() never produces one, so ordinary turns
# that mention feedback are not taken for corrections.
FEEDBACK_TAG = "mode:feedback"
_RRF_K = 60
# What a query word in a neighbouring turn is worth against one in the memory itself. It counts
# only for a memory that holds a query word itself: neighbours alone make no memory related.
# Tuned on LoCoMo conv-26/30 (0.5 and 0.75 let fewer of the evidence turns pass 0.45, and no
# fewer unrelated memories).
_NEAR = 1.0
# What being said around the time a question names is worth (a factor on the score).
_IN_TIME = 1.5
# What a memory holding a question's words only where it speaks of someone else is worth to a
# question about the user alone (a factor on its score and its share): "My sister works as a
# nurse" for "Where do I work?" ranks below the user's own words, and under the 0.45 default.
_OTHERS = 0.4


def _idf(total: int, frequency: int) -> float:
    # Smoothed, so that a word in most of a small store still counts for something.
    frequency = min(frequency, total)  # never negative, whatever the counts say
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


class Scorer:
    """How well a candidate answers a query, from the query's slots it holds.

    Its relativity (for the threshold) is the share of the query a memory answers: the idf mass of
    the query's slots held by its own text or the turns said next to it (a single Chinese
    character counting for less than a word; neighbours count only if the memory holds a word of
    the query itself), over the mass of the whole query; a memory holding nothing but single
    characters of it, half that. A memory said in the time the query names (``named``: "in
    August 2025", "yesterday") holds the query's date words (numbers, months, weekdays, the
    words naming that time), another only the numbers its date has; and a memory whose text
    holds nothing of a query that asks about more than a time scores 0.

    A query word none of the user's memories holds weighs what the query's other words weigh on
    average, and a name (a word capitalised inside a sentence, "Tim") what the index gives a
    word it has never seen: so a question about someone or something the user never spoke of
    stays under the 0.45 default even when its common words match, instead of scoring 1 because
    those words were all the store knew. Two kinds of absent words are not counted: Chinese
    bigrams and characters (without a word segmenter most are the seams between words), and
    those of a request for advice (``advice``): "recommend a city I haven't been to" describes
    the answer it wants, which no memory can hold. A slot the query only implies adds to a
    memory that answers part of the query, but is no part of the share. 1 means the memory and
    its neighbours hold every query word; a memory that holds none itself scores 0. Ranking is
    bm25 over the weighted columns, independent of relativity.
    """

    def __init__(
        self,
        slots: list[Slot],
        total: int,
        counts: Mapping[str, int],
        advice: bool = False,
        named: Named | None = None,
        personal: bool = False,
    ) -> None:
        self.personal = personal
        self._attributed: dict[int, float] = {}
        self.slots = {slot.name: slot for slot in slots if counts.get(slot.name)}
        # The query's date words (the words of the time it names, numbers, weekdays): a memory
        # said in the time the query names holds them all, another only the numbers of its date
        # ("10 August 2025 Sunday": not "Sunday" for "on Sundays", nor "June" the name).
        named_words = set(query_terms(named.words)) if named else set()

        def date_word(name: str) -> bool:
            return name in named_words or dateish(name)

        self.dates = frozenset(filter(date_word, self.slots))
        self.span = named.span if named else None
        # Whether the query asks about more than a time.
        self.more = any(n not in self.dates and not s.implied for n, s in self.slots.items())
        self.idf = {name: _idf(total, counts[name]) for name in self.slots}
        self._masses = {name: self.idf[name] * slot.weight for name, slot in self.slots.items()}
        self._implied = frozenset(n for n, slot in self.slots.items() if slot.implied)
        # The slots of the query's words (not its lone Chinese characters), which a memory
        # must hold one of for its neighbours to count.
        self._worded = frozenset(n for n, s in self.slots.items() if s.weight == 1) - self._implied
        # Which slots each word's stem stands for, and the slots' alternatives of other lengths
        # (a phrase's stems, held in a row as FTS5 matches a phrase: "moved to", not "move my
        # call to"): what _present looks up a text's words in.
        self._words: dict[str, set[str]] = {}
        self._phrases: list[tuple[str, frozenset[str], str]] = []
        for name, slot in self.slots.items():
            for alternative in slot.alternatives:
                row = [stem(word) for word in alternative.split()]
                stems = frozenset(row)
                if len(stems) == 1:
                    self._words.setdefault(row[0], set()).add(name)
                else:
                    self._phrases.append((name, stems, f" {' '.join(row)} "))
        found = [self._masses[n] for n, slot in self.slots.items() if not slot.implied]
        absent = [
            slot
            for slot in slots
            if not counts.get(slot.name) and not slot.implied and not has_cjk(slot.name)
        ]
        if advice:
            absent = []  # its other words describe the answer it wants
        mean = sum(found) / len(found) if found else 0.0
        # The time's words no memory holds ("last weekend"): held by a memory said then.
        self.timed = sum(slot.weight * mean for slot in absent if date_word(slot.name))
        # A name no memory holds a word of weighs what the index gives a word it has never seen:
        # it says who or what the question is about, and no other word can stand in for it.
        self.known = sum(found) + sum(
            _idf(total, 0)
            if slot.name_of and not any(counts.get(term) for term in slot.name_of)
            else slot.weight * mean
            for slot in absent
        )

    def split(self, threshold: float) -> tuple[list[str], list[str]]:
        """The terms a memory must hold one of, and the optional rest.

        The least informative slots whose idf mass together stays under the threshold cannot
        lift a memory over it on their own, so the index need not score memories holding only
        those (at 100k memories this halves search time). Implied slots are no terms: they change
        which memories pass the threshold, not the order. Slots no memory holds are dropped.
        """
        real = [name for name, slot in self.slots.items() if not slot.implied]
        optional: list[str] = []
        if threshold > 0 and self.known:
            # What an implied slot can add to a memory holding only optional words.
            mass = sum(self.idf[n] for n, slot in self.slots.items() if slot.implied)
            for name in sorted(real, key=self.idf.__getitem__):
                if mass + self.idf[name] >= threshold * self.known:
                    break
                mass += self.idf[name]
                optional.append(name)
        return self._terms(n for n in real if n not in optional), self._terms(optional)

    def _terms(self, names: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(t for name in names for t in self.slots[name].alternatives))

    def _present(self, text: str) -> set[str]:
        """The slots whose words (or a phrase's, in a row) ``text`` holds."""
        words = text.split()
        held = set(map(stem, words))  # a fifth faster than a set comprehension
        present: set[str] = set()
        for word in held.intersection(self._words):
            present.update(self._words[word])
        stemmed = ""
        for name, stems, row in self._phrases:
            if stems <= held and name not in present:
                stemmed = stemmed or f" {' '.join(map(stem, words))} "
                if row in stemmed:
                    present.add(name)
        return present

    def attribution(self, candidate: Candidate) -> float:
        """What a memory's words are worth to the query for whom they are said of: _OTHERS for a
        memory holding the query's words only in clauses about someone else when the query is
        about the user alone (``personal``, see _subject.py), 1 otherwise."""
        if not self.personal:
            return 1.0
        factor = self._attributed.get(candidate.seq)
        if factor is None:
            factor = 1.0
            text = candidate.text if may_speak_of_others(candidate.own) else ""
            if text and len(text) <= LONGEST:
                mine, theirs = split_by_subject(text)
                # Some of the query's words, and none where it speaks of the user.
                if self._present(index_text(theirs)) - self._implied and not (
                    self._present(index_text(mine)) - self._implied
                ):
                    factor = _OTHERS
            self._attributed[candidate.seq] = factor
        return factor

    def coverage(self, candidate: Candidate) -> float:
        """Slots in the memory itself count fully, and in its neighbouring turns as much
        (``_NEAR``) for a memory holding a word of the query; one holding nothing but lone
        characters of it is related by half its share."""
        said = self._present(candidate.own)
        if self.more and said <= self._implied:
            return 0.0  # only when it was said: no part of what it says
        timed = 0.0
        own = said
        if self.span and self.span[0] <= candidate.create_time < self.span[1]:
            own, timed = said | self.dates, self.timed
        elif self.dates:  # the numbers of its date, if the query has any date words
            numbers = " ".join(word for word in candidate.dated.split() if word.isdigit())
            own = said | (self._present(numbers) & self.dates)
        if own <= self._implied or not self.known:
            return 0.0  # it holds nothing the query says
        near: set[str] = set()
        worded = not own.isdisjoint(self._worded)
        if worded:
            # Neighbours count for a memory holding a word of the query, not a lone character.
            near = self._present(candidate.context) - own - self._implied
        masses = self._masses.__getitem__
        mass = sum(map(masses, own)) + _NEAR * sum(map(masses, near)) + timed
        share = min(mass / self.known, 1.0)
        if not worded:
            # Lone characters and no word of the query: as often a coincidence ("车" of "汽车"
            # for "开什么车") as part of the word the query means.
            share *= CHARACTER_WEIGHT
        return round(share * self.attribution(candidate), 4)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem, enough to pair a memory's words with the query words FTS5 matched. A final
    "e" goes too, or "love" would never pair with "loves", "loved" or "loving" (all "lov"), nor
    "hike" with "hiking". Every form of a word begins with its stem (_bm25.py relies on it)."""
    for suffix in ("ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def rank(
    found: list[Candidate],
    scorer: Scorer,
    conversation_id: object,
    threshold: float,
    limit: int,
    similar: Mapping[int, float] | None = None,
    neighbours: Callable[[list[int]], Mapping[int, tuple[int, int]]] | None = None,
    window: tuple[int, int] | None = None,
    weight: float = 1.0,
) -> list[dict[str, Any]]:
    """Order candidates: by bm25, or with vectors by reciprocal-rank fusion of bm25's order and
    the similarity order, the latter counting ``weight`` times as much. Relativity is the query
    coverage, or the similarity's (``similar`` maps a memory to it) when higher.

    Past the limit, a related memory whose turn was said just before or after a shown one rides
    along with it (``neighbours`` gives the seqs of the turns around each): the caller gets the
    turns around its facts without more facts than it asked for. At most ``limit`` do.
    Memories said within ``window`` (epoch ms), the time the question names, rank higher.
    """
    similar = similar or {}
    lexical = {c.seq: rank for rank, c in enumerate(c for c in found if c.bm25 > 0)}
    by_vector = {seq: rank for rank, seq in enumerate(similar)}
    own: dict[int, float] = {}  # each memory's relativity: worked out for those it decides

    def relativity(candidate: Candidate) -> float:
        if candidate.seq not in own:
            own[candidate.seq] = max(scorer.coverage(candidate), similar.get(candidate.seq, 0.0))
        return own[candidate.seq]

    scored: dict[int, list[Any]] = {}
    for candidate in found:
        if similar:
            score = sum(
                share / (_RRF_K + ranks[candidate.seq])
                for ranks, share in ((lexical, 1.0), (by_vector, weight))
                if candidate.seq in ranks
            )
        else:
            score = candidate.bm25
        if conversation_id is not None and candidate.conversation_id == conversation_id:
            score *= 1.2  # the cloud's soft boost for the current conversation
        if window is not None and window[0] <= candidate.create_time < window[1]:
            score *= _IN_TIME  # said around the time the question names
        if candidate.has_tag(FEEDBACK_TAG):
            score *= 2.0  # a correction outranks what it corrects
        score *= scorer.attribution(candidate)  # said of someone else, asked of the user
        # The relativity (None: the memory's own, not worked out yet) after the score.
        scored[candidate.seq] = [score, candidate.create_time, candidate.seq, candidate, None]
    carried = _relate(scored, relativity)
    # Among equal scores the newest wins.
    ranked = sorted(scored.values(), key=lambda item: item[:3], reverse=True)
    items: dict[int, dict[str, Any]] = {}
    shown: set[int] = set()
    overflow: list[Candidate] = []
    for *_, candidate, related in ranked:
        shares = relativity(candidate) if related is None else related
        if shares < threshold or {candidate.seq, carried.get(candidate.seq)} & shown:
            continue  # unrelated, or its whole text is in a memory already shown
        if len(items) == limit:
            overflow.append(candidate)
            if len(overflow) == limit:
                break
            continue
        shown.add(candidate.seq)
        item = {k: v for k, v in candidate.body.items() if k != "sources"}
        # The memory's info, as get/memory gives it: what a caller filed it under.
        items[candidate.seq] = {
            **item,
            "info": json.loads(candidate.info),
            "relativity": shares,
        }
    # Only a memory of a conversation with a shown fact can be said next to one.
    talks = {c.conversation_id for c in found if c.seq in items}
    overflow = [c for c in overflow if c.conversation_id in talks]
    if overflow and neighbours is not None:
        _ride_along(items, overflow, neighbours([c.seq for c in overflow]))
    return list(items.values())


def _ride_along(
    items: dict[int, dict[str, Any]],
    overflow: list[Candidate],
    around: Mapping[int, tuple[int, int]],
) -> None:
    """Append each overflowing memory to the shown fact said just before or after it."""
    for candidate in overflow:
        before, after = around.get(candidate.seq, (0, 0))
        host = items.get(before) or items.get(after)
        if host is None or "memory_value" not in host:
            continue
        text = memory_text(candidate.body)
        if text in host["memory_value"]:
            continue
        host["memory_value"] = beside(host["memory_value"], text, later=host is items.get(before))


def _relate(
    scored: dict[int, list[Any]], relativity: Callable[[Candidate], float]
) -> dict[int, int]:
    """Order related turns found together: a short answer (whose text carries the turn it
    answers) above that turn, and the user's statement above the assistant's echo of it.

    An answer is about what it answers, and an echo about what it echoes: so "Yes, with the kids
    and my parents" answering "So you travel as a family, right?", which echoes the user's "I
    always travel with my family", is as related to a travel question as that statement, while
    the echo itself stays below it. Turns are taken in the order they were said, so a chain of
    such replies carries its first turn's score to its last.

    Returns which found memory's text carries which other found memory whole.
    """
    by_turn: dict[tuple[Any, str], list[Any]] = {}
    for entry in scored.values():
        by_turn.setdefault((entry[3].conversation_id, entry[3].turn), entry)
    # What the turns answering a memory inherit: its own score, or for an echo, the echoed one's
    # (a memory's own relativity worked out when it is asked for: most are never).
    base = {seq: e[0] for seq, e in scored.items()}
    about: dict[int, tuple[float, float]] = {}

    def inherited(seq: int) -> tuple[float, float]:
        return about[seq] if seq in about else (base[seq], relativity(scored[seq][3]))

    def held(entry: list[Any]) -> float:
        return relativity(entry[3]) if entry[4] is None else float(entry[4])

    carried: dict[int, int] = {}
    for seq in sorted(scored):
        entry = scored[seq]
        candidate = entry[3]
        links = candidate.links
        if not links or links[0].get("relation") not in ("answers", "restates"):
            continue
        turns = [(candidate.conversation_id, str(link.get("content"))) for link in links]
        # An answer to an echo is about what was echoed (its third source), found or not.
        others = [o for turn in turns if (o := by_turn.get(turn)) is not None and o is not entry]
        if not others:
            continue
        score, shares = max(inherited(other[2]) for other in others)
        if links[0].get("relation") == "answers":
            entry[0] = max(entry[0], score * 1.01)
            entry[4] = max(held(entry), shares)
            about[seq] = (entry[0], entry[4])
            answered = by_turn.get(turns[0])
            if answered is not None and answered is not entry and turns[0][1] in candidate.text:
                carried[answered[2]] = candidate.seq
        elif links[0].get("relation") == "restates":
            about[seq] = (max(entry[0], score), max(held(entry), shares))
            entry[0] = min(entry[0], others[0][0] * 0.99)
            entry[4] = min(held(entry), held(others[0]))
    return carried
