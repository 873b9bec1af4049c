"""How a search reads its candidates from the full-text index: the plan of each kind asked
for (_plan.py), then one statement a kind, or one for several kinds when their plans allow it
(:func:`_plan.together`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_memos.embedded import _plan as plan
from langchain_memos.embedded._candidate import Candidate, candidate, indexed
from langchain_memos.embedded._store import MEMORY, RANK_WEIGHTS, Store


def candidates(
    store: Store,
    *,
    words: list[str],
    wanted: Mapping[str, int],
    owners: list[str],
    where: str,
    params: list[Any],
    optional: Sequence[str] = (),
    kinds: Sequence[str] = (),
    expected: int = 0,
    held: int = 0,
    rare: Sequence[str] = (),
    columns: bool = False,
) -> dict[str, list[Candidate]]:
    """The best full-text matches of ``words`` among ``owners``' memories of each kind
    ``wanted`` (as many as it maps the kind to).

    ``optional`` words add to a memory's score but do not make it a match on their own.
    ``kinds`` are every kind a memory can be, so that a sole owner's memories of the kind
    can be matched as none of the others, ``expected`` at most how many memories the
    words match, ``held`` how many hold any of them or the optional words, and ``rare`` the
    words whose matches are ranked however many the others are (see _plan.py); ``columns``:
    each candidate carries its index columns (see _bm25.py).
    """
    found: dict[str, list[Candidate]] = {kind: [] for kind in wanted}
    if not words or not owners:
        return found
    with store.snapshot() as db:  # the counts the plan trusts and the rows it finds
        plans: dict[str, plan.Match] = {}
        for kind in wanted:
            others = [store.tokens.owner_kind(owners[0], o) for o in kinds if o != kind]
            tokens = [store.tokens.owner_kind(owner, kind) for owner in owners]
            depth = expected if where == "1" else 0  # a filter ranks every match
            planned = plan.candidate_match(
                db, owners, tokens, others, words, optional, depth, held, rare
            )
            if planned is not None:
                plans[kind] = planned
        together = plan.together(plans) if where == "1" else []
        if together:
            lead = plans[together[0]]
            found.update(
                _matching_kinds(
                    store, lead.loose, lead.scale, {k: wanted[k] for k in together}, columns
                )
            )
        for kind, planned in plans.items():
            if kind not in together:
                found[kind] = _matching(store, planned, kind, where, params, wanted[kind], columns)
        return found


def _matching_kinds(
    store: Store, match: str, scale: int, wanted: Mapping[str, int], columns: bool
) -> dict[str, list[Candidate]]:
    """The best matches of ``match`` of each kind ``wanted``, among every memory of the
    store (see :func:`_plan.together`): the index counts each phrase and scores each match
    once, not once a kind."""
    weights = ", ".join(map(str, RANK_WEIGHTS))
    best = " UNION ALL ".join(
        ["SELECT * FROM (SELECT seq, score FROM t WHERE kind = ? ORDER BY score LIMIT ?)"]
        * len(wanted)
    )
    sql = (
        f"WITH t AS (SELECT rowid AS seq, bm25(memories_fts, {weights}) AS score, "
        "(SELECT kind FROM memories k WHERE k.seq = memories_fts.rowid) AS kind "
        "FROM memories_fts WHERE memories_fts MATCH ?), "
        f"best AS ({best}) "
        f"SELECT m.seq, {MEMORY}, m.info, best.score, {indexed('f', columns)} "
        # CROSS JOIN keeps the few best rows the outer loop: joined into each arm of the
        # UNION, the planner would scan the whole index for the second.
        "FROM best CROSS JOIN memories m ON m.seq = best.seq "
        "CROSS JOIN memories_fts f ON f.rowid = best.seq ORDER BY best.score"
    )
    values: list[object] = [match]
    for kind, limit in wanted.items():
        values += [kind, limit]
    found: dict[str, list[Candidate]] = {kind: [] for kind in wanted}
    for row in store.query(sql, values):
        found[row["kind"]].append(candidate(row, scale, columns))
    return found


def _matching(
    store: Store,
    planned: plan.Match,
    kind: str,
    where: str,
    params: list[Any],
    limit: int,
    columns: bool,
) -> list[Candidate]:
    match, scale = planned.expression, planned.scale
    weights = ", ".join(map(str, RANK_WEIGHTS))
    if where == "1":
        # No filter: rank in the index alone (at most its newest SCORED matches and those
        # of its rare words, see _plan.py), then fetch only the rows that made the cut.
        ranked = "rowid > ?"
        values: list[object] = [planned.after]
        if planned.rare:
            ranked = (
                "(rowid > ? OR rowid IN (SELECT rowid FROM memories_fts "
                "WHERE memories_fts MATCH ?))"
            )
            values.append(planned.rare)
        if planned.loose:  # the kind read from each match's row instead of a NOT
            match = planned.loose
            ranked += " AND (SELECT kind FROM memories k WHERE k.seq = memories_fts.rowid) = ?"
            values.append(kind)
        sql = (
            f"SELECT m.seq, {MEMORY}, m.info, t.score, {indexed('f', columns)} "
            f"FROM (SELECT rowid, bm25(memories_fts, {weights}) AS score FROM memories_fts "
            f"WHERE memories_fts MATCH ? AND {ranked} ORDER BY score LIMIT ?) AS t "
            "JOIN memories m ON m.seq = t.rowid JOIN memories_fts f ON f.rowid = t.rowid "
            "ORDER BY t.score"
        )
        rows = store.query(sql, [match, *values, limit])
        return [candidate(row, scale, columns) for row in rows]
    sql = (
        f"SELECT m.seq, {MEMORY}, m.info, "
        f"bm25(memories_fts, {weights}) AS score, {indexed('memories_fts', columns)} "
        "FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid "
        f"WHERE memories_fts MATCH ? AND {where} "
        "ORDER BY score LIMIT ?"
    )
    rows = store.query(sql, [match, *params, limit])
    return [candidate(row, scale, columns) for row in rows]
