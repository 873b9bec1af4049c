"""bm25 of the words a search scores in Python instead of in the full-text index.

Before its first row, FTS5's bm25 counts the rows of every phrase of the expression (~75 ns a
row), and it scores every matching row: a word held by a tenth of a million memories, only
there to add to the score, costs tens of milliseconds however few memories the query's other
words find. Such words (see :func:`_plan.common`: the common synonyms a query did not say, its
common optional words, the time marker of a "when" question) are left out of the expression, and
their share of bm25 is added here to the candidates holding them, from the candidates' indexed
columns and the counts the search already has. Each candidate scores as FTS5 scores it:

    idf * f * (k1 + 1) / (f + k1 * (1 - b + b * D / avgdl))

with ``f`` the phrase's hits in the row, each weighted by its column's weight
(:data:`_store.RANK_WEIGHTS`), ``D`` the row's tokens, ``avgdl`` the table's tokens a row (from
the index's own record of them), and ``idf = log((N - n + 0.5) / (n + 0.5))`` (1e-6 if not
positive) of the ``n`` of ``N`` memories holding the word. Two things differ: a word is matched
by the light :func:`_ranking.stem`, not Porter's (a few forms FTS5 pairs are not paired here),
and a synonym is counted as its group is (``frequencies`` counts a group whole), which weighs
it as the slot it stands for rather than as the rarer word it is.

The index no longer lifts the memories holding such words into the candidates it returns (the
best 50 by the other words' bm25); asking it for twice as many, and keeping the best 50 by the
whole score, changed no answer of engine_scale's 300 questions at 100k memories and cost 1.5 ms
a search: the candidates are re-ordered, not re-chosen.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence

from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._ranking import stem
from langchain_memos.embedded._store import RANK_WEIGHTS

K1 = 1.2
B = 0.75


def idf(total: int, held: int) -> float:
    """bm25's idf of a phrase ``held`` by that many of ``total`` memories (FTS5's formula)."""
    value = math.log((total - held + 0.5) / (held + 0.5)) if total else 0.0
    return value if value > 0 else 1e-6


def average_tokens(db: sqlite3.Connection) -> float:
    """The index's tokens a row, as bm25 reads them: FTS5's averages record (rowid 1 of its data
    table) is the number of rows, then each column's tokens, as SQLite varints."""
    row = db.execute("SELECT block FROM memories_fts_data WHERE id = 1").fetchone()
    values = _varints(bytes(row[0])) if row and row[0] else []
    return sum(values[1:]) / values[0] if values and values[0] else 1.0


def _varints(data: bytes) -> list[int]:
    values: list[int] = []
    i = 0
    while i < len(data):
        value = 0
        for n in range(9):
            byte = data[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values


def rescored(
    found: Sequence[Candidate], phrases: Sequence[tuple[str, float]], average: float
) -> list[Candidate]:
    """``found``, each holding one of ``phrases`` (given with their idf) with their share of bm25
    added (to the candidates themselves: a search's own), best first."""
    stems = [(tuple(map(stem, text.split())), weight) for text, weight in phrases]
    for candidate in found:
        candidate.bm25 += _share(candidate, stems, average)
    return sorted(found, key=lambda c: c.bm25, reverse=True)


def _share(
    candidate: Candidate, phrases: Sequence[tuple[tuple[str, ...], float]], average: float
) -> float:
    columns = candidate.columns
    length = sum(text.count(" ") + 1 for text in columns if text)
    norm = K1 * (1 - B + B * length / average)
    total = 0.0
    weighted = [(w, text) for w, text in zip(RANK_WEIGHTS, columns, strict=True) if w and text]
    # A word's forms all begin with its stem: most candidates hold none of most phrases, told
    # without splitting their columns, or even looking at them one by one.
    scored = "\n".join(text for _, text in weighted)
    stemmed: dict[int, list[str]] = {}  # each column's words stemmed, once for every phrase
    for terms, weight in phrases:
        if terms[0] not in scored:
            continue
        hits = 0.0
        for i, (column_weight, text) in enumerate(weighted):
            if terms[0] in text:
                if i not in stemmed:
                    stemmed[i] = [stem(token) for token in text.split()]
                hits += column_weight * _count(terms, stemmed[i])
        if hits:
            total += weight * hits * (K1 + 1) / (hits + norm)
    return total


def _count(terms: tuple[str, ...], tokens: list[str]) -> int:
    """How many times ``terms`` stand in a row in ``tokens``."""
    if len(terms) == 1:
        return tokens.count(terms[0])
    size = len(terms)
    return sum(1 for i in range(len(tokens) - size + 1) if tuple(tokens[i : i + size]) == terms)
