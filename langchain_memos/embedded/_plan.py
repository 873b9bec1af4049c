"""How a search asks the full-text index for its candidates, so that SQLite reads as few rows as
the answer allows.

FTS5 pays for a ``MATCH ... ORDER BY bm25(...) LIMIT n`` in two ways: bm25 scores every row the
expression matches, and before the first row it counts every row of each phrase in the expression
(its idf). Four things made the engine pay more than the query itself costs:

- The scope phrase. A search names the owner-and-kind token (see :func:`_store.owner_kind`), and
  the usual form names it twice (once to restrict, once so that optional words are scored without
  being required). For one user holding the whole store, that token is nearly every row: at a
  million memories, two counts of ~750,000 rows on every search. When the kind asked for is most
  of a sole owner's memories, :func:`match` names the owner's other kinds instead, after ``NOT``
  (the smaller lists), and makes the optional words optional by repeating every phrase once: bm25
  is a sum over phrases, so each score is exactly doubled (``scale``) and the order unchanged.
- Synonyms. A word of the lexicon's groups matches any word of its group ("vacation" finds
  "trip", "holiday", "tour" ...); common synonyms the query never said can multiply the rows to
  score tenfold. :func:`narrow` lets a group's synonyms find candidates only while the memories
  the groups hold stay within :data:`EXPANSION_BUDGET`; past it they still score, in Python
  (below), and the word the query said finds candidates alone.
- Words that only add to the score. An optional word (too little of the query to make a match on
  its own, see ``Scorer.split``) or a "when" question's time marker, named in the expression so
  that bm25 scores it, is counted row by row before the first result however few memories the
  other words find: "do", "go" and the marker are each held by a fifth to a half of the store.
  Past :data:`COMMON_MEMORIES` memories and :data:`COMMON_SHARE` of the owner's (:func:`common`),
  such a word, and every synonym :func:`narrow` leaves out, is left out of the expression, and
  its share of bm25 is added to the candidates holding it in Python (_bm25.py), from their
  columns and the counts the search already has. At 100k memories that took the candidate
  queries from ~10.5 to ~7.3 ms a search (the Python share costs ~0.5 ms).
- Common words. A query of nothing but common words matches a good part of a large store, and
  bm25 scores every match: past :data:`SCORED` expected matches, only the newest are ranked,
  and every match of the query's rare words (:func:`rare_words`), however old.

bm25's idf counts were the larger part of what was left: at 100k memories held by one user, 6 of
the 10 ms the candidate queries took (bm25 of one row, against all of them). Before the first row,
bm25 counts the rows of every phrase of the expression, ~75 ns a row: a phrase named twice is
counted twice, one after ``NOT`` too. So a kind scoped by its token (a sole owner's preferences,
~8% of its memories) names twice whichever of the scope or the word phrases holds fewer rows
(:func:`match`, ``double_words``; the same order, each score doubled).

The ``NOT`` that matches a sole owner's facts as none of its other kinds has bm25 count those
kinds' rows (~28% of the store) on every search. Testing each match's kind in its row instead
(``Match.loose``) costs a row read a match, ~0.7 us against ~39 ns a row counted: worth it
while the matches to read stay under 1/:data:`KIND_TEST_ROWS` of the rows the ``NOT`` names,
i.e. for all but the commonest words (at 100k, 1.9 ms against 2.9 for queries of under 1,000
matches, 27 against 20 ms past 10,000). bm25 counts every phrase over the whole table, whatever
the expression excludes, and the excluded tokens weigh nothing and are absent from the rows
kept: each row scores exactly as before. (Tried and dropped: dropping the other kinds after
ranking rather than before. Its events, one summary of a whole conversation each, hold most
query words and outrank its facts: the best 100 matches held fewer than 50 facts for a third of
the queries, and scoring the events' long rows cost more than the count saved.)

The query words' counts (:func:`frequencies`, for idf and for all of the above) were the index
reading each word's whole list of rows on every search: at a million memories, ~28 of the ~114
ms a question of nothing but common words took ("What food do I love?", word groups of 50,000 to
130,000 memories each; ~1 ms with the counts kept). A store keeps the counts of its common word
groups (:func:`common`; :class:`Counted`, at most :data:`COUNTS_KEPT`) with how many rows of the
index had been written then (``_scope_counts.CHANGES``: in the database, so that what any
connection or process writes is seen), and reuses one while the rows written since are at most
:data:`REUSE_SHARE` (1%) of it. Each row written changes a word's count by one at most, so a
count reused is off by 1% at most: FTS5's idf, ln((N - n + 0.5) / (n + 0.5)), of a word held by
n of N memories moves by at most 0.01 N / (N - n), under 0.02 for any n up to N / 2 (past it,
idf is ~0 either way), against ~2.3 for a word held by a tenth of the store; the thresholds
above see the same 1%. N is read fresh on every search. A word under :func:`common`'s threshold
is counted on every search: every count of a store under 50,000 memories (LoCoMo's, the tests')
is as before.
"""

from __future__ import annotations

import re
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded._text import fts_query

# The columns a memory's words are in, for counting how many memories hold a word.
TEXT_COLUMNS = "{body spk ctx1 ctx2 date}"
# A term that can match what the other columns hold (the time marker, stemmed; an owner's token
# holds a character no term has, see _scope_tokens): only such a term needs TEXT_COLUMNS named,
# which costs the count a position list read a row (at 1M memories, 10.4 ms against 4.8 to count
# the 127,000 holding "go").
_INTERNAL = re.compile(r"tmpmark", re.IGNORECASE)

EXPANSION_BUDGET = 5_000
"""How many memories a query's word groups may hold together before the synonyms it did not say
stop finding candidates (they still score). About 5 ms of bm25 on this machine; never reached
by a store of a few thousand memories, where every synonym finds candidates as before."""


COMMON_MEMORIES = 5_000
COMMON_SHARE = 0.10
"""A word only there to add to the score (an optional word, a synonym the query did not say,
the time marker of a "when" question) held by more than COMMON_MEMORIES memories and more than
COMMON_SHARE of the owner's is scored in Python instead of in the index (see :func:`common` and
_bm25.py): bm25 would count all its rows before the first result, and score every match holding
it. Past both, at 100k memories, that is 0.4 ms a word or more (0.75 ms counted twice when the
form doubles its phrases); a store of a few thousand memories never gets there, and every word
scores in the index as before."""


def common(held: int, total: int) -> bool:
    """Whether a word ``held`` by so many of ``total`` memories is scored outside the index."""
    return held > COMMON_MEMORIES and held > COMMON_SHARE * total


KIND_TEST_ROWS = 18
"""What reading one match's kind from its row costs, in rows of a phrase bm25 counts."""

SCORED = 10_000
"""The most matches a search ranks: when its required words are held by more memories than this
(counted per word, so an upper bound), it ranks the newest this many holding any of them.

bm25 costs a few microseconds a matching row; a query of nothing but common words ("what do I
love?") matches a fifth of a million memories at 1M, and ranking them all took half a second.
An old memory holding a rare word of such a query, beside a common required one, is ranked too
(:func:`rare_words`): the rare word is what the question is about, and its matches are few."""


def rare_words(groups: Iterable[tuple[Sequence[str], int]]) -> list[str]:
    """The terms of the rarest required word groups (each given as its terms and how many
    memories hold any of them) that together hold at most :data:`SCORED` memories: ranked
    whatever their age when a search ranks only its newest matches."""
    budget = SCORED
    rare: list[str] = []
    for terms, size in sorted(groups, key=lambda group: group[1]):
        if size > budget:
            break
        budget -= size
        rare += terms
    return rare


def scored_from(db: sqlite3.Connection, expression: str, depth: int) -> int:
    """The rowid after which the newest ``depth`` matches of ``expression`` lie (0: all of them).
    Read newest first without scoring, it stops after ``depth`` rows."""
    row = db.execute(
        "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC "
        "LIMIT 1 OFFSET ?",
        [expression, depth],
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Match:
    """An FTS5 MATCH expression, how many times it scores each query phrase (its bm25 is
    ``scale`` times the one-phrase-each score), and the rowid its ranked rows come after."""

    expression: str
    scale: int = 1
    after: int = 0  # only rows past this rowid are ranked (see scored_from) ...
    rare: str = ""  # ... and those this expression matches (see rare_words)
    # The expression without its NOT, the kind tested in each match's row instead; "": none.
    loose: str = ""
    # The owner holds the whole store and the kind's matches are not cut: the expression that
    # matches these words in a memory of any kind, the kind tested in each match's row (see
    # :func:`together`); "": not so.
    anykind: str = ""


_COUNT = "(SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?)"
_COLUMNS = 500

REUSE_SHARE = 0.01
"""A common word's count is reused while the index rows written since it was counted are at
most this share of it (see :class:`Counted`)."""
COUNTS_KEPT = 4_096
"""The most word counts a store keeps (the least recently used go first): a few hundred bytes
each."""


class Counted:
    """How many memories hold each common word group (:func:`common`), kept between the
    searches of one store, keyed by what was counted (the owners' scope and the group's terms),
    with the store's count of index rows written then (see the module's docstring for why and
    how far it may be off). Used under the store's lock (``Store.snapshot``); emptied when a
    write rolls back (the rows it wrote are taken back with it)."""

    def __init__(self, size: int = COUNTS_KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        self._kept.clear()

    def count(self, db: sqlite3.Connection, expressions: Sequence[str], total: int) -> list[int]:
        """How many rows match each of ``expressions`` (in one snapshot ``db``) among the
        ``total`` memories they are counted in."""
        written = scope_counts.count(db, scope_counts.CHANGES)
        found: dict[str, int] = {}
        for expression in expressions:
            kept = self._kept.get(expression)
            if kept and 0 <= written - kept[1] <= REUSE_SHARE * kept[0]:
                found[expression] = kept[0]
                self._kept.move_to_end(expression)
        fresh = [e for e in dict.fromkeys(expressions) if e not in found]
        # A statement of at most _COLUMNS counts: SQLite takes at most 2,000 result columns.
        for start in range(0, len(fresh), _COLUMNS):
            chunk = fresh[start : start + _COLUMNS]
            row = db.execute(f"SELECT {', '.join([_COUNT] * len(chunk))}", chunk).fetchone()
            for expression, n in zip(chunk, map(int, row), strict=True):
                found[expression] = n
                self._kept.pop(expression, None)
                if common(n, total):
                    self._kept[expression] = (n, written)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return [found[expression] for expression in expressions]


def frequencies(
    db: sqlite3.Connection,
    owners: list[str],
    words: Mapping[str, Sequence[str]],
    counted: Counted | None = None,
) -> tuple[int, dict[str, int]]:
    """How many memories ``owners`` have, and how many of them contain each word (given as its
    name and the terms any of which says it); ``db`` is one snapshot (``Store.snapshot``).

    The memories are counted on write (see _scope_counts.py); the words by the index itself, so
    that a word matches as it does in a search (stemmed), the common ones kept in ``counted``
    (see :class:`Counted`; None: all counted now). An owner holding every memory of the store
    has its words counted without reading its scope (the same numbers, faster).
    """
    scope = f"scope : ({fts_query(owners)})"
    if len(owners) == 1:
        total = scope_counts.count(db, owners[0])
        if total == scope_counts.count(db, scope_counts.STORE):
            scope = ""
    else:  # a memory can be in two of them: counted once
        total = int(db.execute(f"SELECT {_COUNT}", [scope]).fetchone()[0])
    within = f"{scope} AND " if scope else ""
    held = (Counted() if counted is None else counted).count(
        db,
        [f"{within}{_columns(terms)}({fts_query(list(terms))})" for terms in words.values()],
        total,
    )
    return total, dict(zip(words, held, strict=True))


def _columns(terms: Sequence[str]) -> str:
    """The column filter that counts ``terms`` in a memory's words (see :data:`_INTERNAL`)."""
    return f"{TEXT_COLUMNS} : " if any(_INTERNAL.match(term) for term in terms) else ""


def candidate_match(
    db: sqlite3.Connection,
    owners: list[str],
    tokens: list[str],
    others: list[str],
    words: Sequence[str],
    optional: Sequence[str],
    expected: int,
    held: int = 0,
    rare: Sequence[str] = (),
) -> Match | None:
    """How to match ``owners``' memories of one kind (their owner-and-kind ``tokens``; ``others``
    the first owner's tokens of the other kinds), whose words at most ``expected`` of all the
    owners' memories hold (and ``held`` hold any of the words or the optional ones; ``rare``
    the words ranked however old): see :func:`exclusions`, :func:`match` and :func:`scored_from`.
    None when the owners have no memory of the kind: bm25 would count the words' rows over the
    whole table to find nothing (a user without preferences, among many, paid it per search).
    """
    excluded = None
    share = 1.0
    double_words = False
    sizes = scope_counts.counts(db, [owners[0], scope_counts.STORE, *tokens, *others])
    if not any(sizes[token] for token in tokens):
        return None
    if len(owners) == 1:
        excluded = exclusions(
            sizes[tokens[0]],
            sizes[owners[0]],
            sizes[scope_counts.STORE],
            {token: sizes[token] for token in others},
        )
        share = sizes[tokens[0]] / max(sizes[owners[0]], 1)
        # The words' counts are the whole table's only when the owner is the whole store.
        double_words = sizes[owners[0]] == sizes[scope_counts.STORE] and sizes[tokens[0]] > held
    planned = match(tokens, words, optional, excluded, double_words=double_words)
    cut = expected * share > SCORED
    # The matches of every kind the loose expression reads: past the cut, about SCORED / share.
    reads = min(expected, SCORED / max(share, 1e-9)) if cut else expected
    if excluded and reads * KIND_TEST_ROWS >= sum(sizes[token] for token in excluded):
        planned = replace(planned, loose="")
    if not cut:
        if len(owners) == 1 and sizes[owners[0]] == sizes[scope_counts.STORE]:
            anykind = match(tokens, words, optional, []).expression
            planned = replace(planned, anykind=anykind)
        return planned
    after = scored_from(db, planned.expression, SCORED)
    # Read without bm25 (no counts): its rows need only be among the owners'.
    scope = "" if excluded is not None else f"scope : ({fts_query(tokens)}) AND "
    held_rare = f"{scope}({fts_query(list(rare))})" if rare and after else ""
    return replace(planned, after=after, rare=held_rare)


def together(plans: Mapping[str, Match]) -> list[str]:
    """The kinds whose matches one statement finds: when one kind's plan reads each match's
    kind (``loose``) over the whole store, the other kinds' matches are among the same rows,
    scored alike (the scope phrase weighs nothing, see :data:`_store.RANK_WEIGHTS`), so the
    index's count of each phrase and its scoring of each match are paid once, not once a kind.
    The kind whose plan leads comes first; [] when no plan reads the kinds or no other kind
    can share its statement."""
    lead = next((kind for kind, p in plans.items() if p.loose and p.loose == p.anykind), None)
    if lead is None:
        return []
    shared = plans[lead].loose
    others = [kind for kind, p in plans.items() if kind != lead and p.anykind == shared]
    return [lead, *others] if others else []


def exclusions(own: int, owner: int, store: int, others: Mapping[str, int]) -> list[str] | None:
    """The tokens to match a sole owner's memories of one kind as "none of these", or None to
    match its own token: when the owner holds every memory of the store (``owner == store``) and
    the kind (``own`` memories) is more of them than the ``others`` kinds together."""
    if owner != store or own <= sum(others.values()):
        return None
    return [token for token, n in others.items() if n]


def match(
    scope: Sequence[str],
    words: Sequence[str],
    optional: Sequence[str],
    excluded: Sequence[str] | None = None,
    *,
    double_words: bool = False,
) -> Match:
    """Memories of the ``scope`` tokens (or, given ``excluded``, of none of those) holding any of
    ``words``, scored also by the ``optional`` words; ``double_words``: the scope holds more rows
    than the words, so that naming each word twice costs bm25 fewer counts than the scope twice.
    """
    required = fts_query(list(words))
    extra = fts_query(list(optional))
    # The required words make the group true for every row; each phrase twice, so that the
    # optional words weigh against the required ones exactly as in the scoped form.
    doubled = f" AND ({extra} OR {extra} OR {required})" if optional else ""
    if excluded is None:
        within = f"scope : ({fts_query(list(scope))})"
        expression = f"{within} AND ({required})"
        if optional and double_words:
            return Match(expression + doubled, 2)
        if optional:
            # Always true for these rows, but puts the optional words in what bm25 scores.
            expression += f" AND ({extra} OR {within})"
        return Match(expression)
    loose = f"({required}){doubled}"
    scale = 2 if optional else 1
    if not excluded:
        return Match(loose, scale)
    return Match(f"{loose} NOT scope : ({fts_query(list(excluded))})", scale, loose=loose)


def narrow(
    groups: Iterable[tuple[Sequence[str], int]], said: set[str], budget: int = EXPANSION_BUDGET
) -> set[str]:
    """The synonyms too common to find candidates with.

    ``groups`` are the alternatives of each required slot with how many memories hold any of
    them, ``said`` the terms the query itself used (always kept: the query scans them anyway).
    The smallest groups are kept whole while the memories they hold fit in ``budget``; of the
    others only the words the query said find candidates, and their synonyms only score.
    """
    dropped: set[str] = set()
    for alternatives, size in sorted(groups, key=lambda group: group[1]):
        unsaid = [term for term in alternatives if term not in said]
        if size <= budget:
            budget -= size
        elif unsaid and any(term in said for term in alternatives):
            dropped.update(unsaid)
    return dropped
