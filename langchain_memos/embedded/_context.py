"""The words of the turns around each turn of a conversation (its ctx1 and ctx2 index columns):
computed when turns are written, recomputed when a turn leaves the conversation or changes."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded._text import STOPWORDS, index_text

# A memory that holds a turn said in its conversation (its text); the others have no context.
TURN = "kind = 'fact' AND text != ''"


def _turns_of(
    user_id: str | None, agent_id: str | None, conversation_id: str
) -> tuple[str, list[Any]]:
    """SQL selecting one conversation's turns: a user's, or an agent's own (kept under no user)."""
    if user_id is not None:
        return f"user_id = ? AND conversation_id = ? AND {TURN}", [user_id, conversation_id]
    return (
        f"user_id IS NULL AND agent_id = ? AND conversation_id = ? AND {TURN}",
        [agent_id, conversation_id],
    )


def around(tokens: Sequence[str], index: int) -> tuple[str, str]:
    """The (ctx1, ctx2) of the turn at ``index`` among a conversation's turns, each given as its
    indexed text: the words of the turns one, and two, places before and after it.

    Stop words are left out. No search is for them but a question of nothing else, which the
    turns' own words answer; each turn's words are copied into four others' context, and its
    stop words were a third of those copies' bytes (and of their postings) for nothing: LoCoMo
    recall is the same without them on both splits (bench/locomo_recall.py).
    """
    near = [tokens[i] for i in (index - 1, index + 1) if 0 <= i < len(tokens)]
    far = [tokens[i] for i in (index - 2, index + 2) if 0 <= i < len(tokens)]
    return _content(near), _content(far)


def _content(texts: list[str]) -> str:
    """The words of ``texts`` (indexed texts) but their stop words."""
    return " ".join(w for t in texts for w in t.split() if w not in STOPWORDS)


def plan_context(
    db: sqlite3.Connection,
    user_id: str | None,
    agent_id: str | None,
    conversation_id: str,
    turns: list[str],
) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Context columns for new ``turns`` appended to a conversation, each text tokenised once:
    the (ctx1, ctx2) of every new turn, and the new (seq, ctx1, ctx2) of the at most two stored
    turns the new ones become neighbours of (for :func:`update_context`)."""
    if not turns:
        return [], []
    where, params = _turns_of(user_id, agent_id, conversation_id)
    rows = db.execute(
        f"SELECT seq, text FROM memories WHERE {where} ORDER BY seq DESC LIMIT 4", params
    ).fetchall()[::-1]
    tokens = [index_text(text) for text in [*(row[1] for row in rows), *turns]]
    stored = len(rows)
    previous = [(rows[i][0], *around(tokens, i)) for i in range(max(0, stored - 2), stored)]
    return [around(tokens, stored + i) for i in range(len(turns))], previous


def update_context(db: sqlite3.Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Store new (seq, ctx1, ctx2) context columns."""
    updates = [(ctx1, ctx2, seq) for seq, ctx1, ctx2 in rows]
    db.executemany("UPDATE memories_fts SET ctx1 = ?, ctx2 = ? WHERE rowid = ?", updates)
    scope_counts.rewritten(db, len(updates))


def refresh_context(db: sqlite3.Connection, gone: Iterable[sqlite3.Row]) -> None:
    """Recompute the context of the turns that were within two places of the turns ``gone``
    (rows with seq, user_id, agent_id and conversation_id), once these are deleted or no longer
    turns, so that no turn's index keeps the words of a turn that is not there any more.

    Each stretch of consecutive turns gone costs two indexed reads of at most four turns (the
    ones before it and the ones after), however many turns it holds: deleting a whole
    conversation is as cheap as deleting one turn of it, and many scattered turns cost linearly.
    """
    by_conversation: dict[tuple[str | None, str | None, str], list[int]] = defaultdict(list)
    for row in gone:
        agent = None if row["user_id"] is not None else row["agent_id"]
        by_conversation[(row["user_id"], agent, row["conversation_id"])].append(row["seq"])
    fresh: dict[int, tuple[str, str]] = {}
    for (user_id, agent_id, conversation_id), seqs in by_conversation.items():
        where, params = _turns_of(user_id, agent_id, conversation_id)
        seqs.sort()
        i = 0
        while i < len(seqs):
            gap = seqs[i]
            before = db.execute(
                f"SELECT seq, text FROM memories WHERE {where} AND seq < ? "
                "ORDER BY seq DESC LIMIT 4",
                [*params, gap],
            ).fetchall()[::-1]
            after = db.execute(
                f"SELECT seq, text FROM memories WHERE {where} AND seq > ? ORDER BY seq LIMIT 4",
                [*params, gap],
            ).fetchall()
            segment = [*before, *after]
            tokens = [index_text(row[1]) for row in segment]
            # The two turns on each side of the gap are the ones whose neighbours changed; the
            # two further out on each side are only read, as their neighbours.
            for index in range(max(0, len(before) - 2), min(len(segment), len(before) + 2)):
                fresh[segment[index][0]] = around(tokens, index)
            # Turns gone up to the next turn still there leave the same gap.
            end = after[0][0] if after else None
            while i < len(seqs) and (end is None or seqs[i] < end):
                i += 1
    update_context(db, ((seq, *context) for seq, context in fresh.items()))


def rebuild_context(db: sqlite3.Connection) -> None:
    """Recompute every turn's context and store where it differs: for files written before
    deletes and edits refreshed it (formats 1-4), whose turns next to a deleted one still hold
    its words. One pass over the turns, conversation by conversation."""
    rows = db.execute(
        "SELECT m.seq, m.user_id, CASE WHEN m.user_id IS NULL THEN m.agent_id END AS agent, "
        "m.conversation_id, m.text, f.ctx1, f.ctx2 "
        f"FROM (SELECT seq, user_id, agent_id, conversation_id, text FROM memories WHERE {TURN}) m "
        "JOIN memories_fts f ON f.rowid = m.seq ORDER BY m.user_id, agent, m.conversation_id, m.seq"
    )
    stale: list[tuple[int, str, str]] = []

    def check(turns: list[sqlite3.Row]) -> None:
        tokens = [index_text(turn["text"]) for turn in turns]
        for index, turn in enumerate(turns):
            context = around(tokens, index)
            if context != (turn["ctx1"], turn["ctx2"]):
                stale.append((turn["seq"], *context))

    conversation: list[sqlite3.Row] = []
    for row in rows:
        if conversation and (row[1], row[2], row[3]) != tuple(conversation[0])[1:4]:
            check(conversation)
            conversation = []
        conversation.append(row)
    check(conversation)
    # A memory that is no turn has no context; one edited under formats 1-4 kept its old one.
    stale += db.execute(
        "SELECT rowid, '', '' FROM memories_fts WHERE (ctx1 != '' OR ctx2 != '') "
        f"AND rowid NOT IN (SELECT seq FROM memories WHERE {TURN})"
    ).fetchall()
    update_context(db, stale)
