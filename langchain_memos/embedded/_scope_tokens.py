"""The full-text index's tokens for whose a memory is, numbered by the store (index format 10).

A memory's ``scope`` column holds a token for each owner (``u`` a user, ``k`` a knowledge base,
``a`` an agent's own memory) and one for each owner and the memory's kind (``c``, see
:meth:`ScopeTokens.owner_kind`), so that the index itself restricts a search to one user's
facts. A token is its letter, the number the store gave its name in ``scope_tokens`` and
:data:`MARK`, a private-use character that the tokenizer keeps in a word and that no word of a
memory or a query holds (``_text.terms`` splits at it): "u1" said by a user is not ``u1``+MARK,
so no query word matches a scope. Ids of any length or characters (spaces, quotes, FTS syntax)
stay out of the query language, no stemmer or case folding changes a token, and two names never
share one. Formats 1 to 9 wrote an 80-bit hash of the name instead (:func:`hashed`, 25
characters a token): the numbers are about 45 bytes a memory less, in the index's copy of its
columns and in its list of terms.

A number, once given and committed, is never given again: a token is remembered once its
number is committed (:meth:`ScopeTokens.committed`); one given in a write that rolls back is
forgotten with it, and another name may get its number. A name the store has not numbered has a
token no memory holds (number 0), and none is made for it but by a write.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading

from langchain_memos.embedded import _scope_counts as scope_counts

TABLE = "CREATE TABLE IF NOT EXISTS scope_tokens (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
MARK = "\ue000"
"""The last character of every token: a word character to SQLite's tokenizer, none of ours."""
# The rows of scope_counts that are no scope: the whole store, its marked memories, the changes.
_NO_SCOPE = (scope_counts.STORE, scope_counts.marked(scope_counts.STORE), scope_counts.CHANGES)
# A process of formats 1 to 9 that had the file open when another upgraded it would go on
# indexing memories under hashed tokens, which no search finds any more: its writes fail instead
# (each counts its tokens first, see _scope_counts), saying why.
_OLD_WRITERS_REFUSED = f"""
CREATE TRIGGER IF NOT EXISTS scope_counts_of_format_10 BEFORE INSERT ON scope_counts
WHEN NEW.token NOT IN ({", ".join(f"'{token}'" for token in _NO_SCOPE)})
    AND instr(NEW.token, char({ord(MARK)})) = 0
BEGIN
    SELECT RAISE(ABORT, 'upgraded to index format 10 by a newer langchain-memos: restart with it');
END"""
SCHEMA = f"{TABLE};\n{_OLD_WRITERS_REFUSED};\n"


def owners(
    user_id: str | None, agent_id: str | None, knowledgebase_id: str | None
) -> list[tuple[str, str]]:
    """The owners (letter, id) of a memory written with these ids: its user, its knowledge base,
    or, with neither, its agent (an agent's own memory)."""
    found = []
    if user_id is not None:
        found.append(("u", user_id))
    if knowledgebase_id is not None:
        found.append(("k", knowledgebase_id))
    elif user_id is None and agent_id is not None:
        found.append(("a", agent_id))
    return found


class ScopeTokens:
    """The tokens of one store's connection, remembered once their numbers are committed."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        self._known: dict[str, str] = {}  # committed: read without the lock
        self._pending: dict[str, str] = {}  # read in a transaction: only under the lock

    def token(self, letter: str, value: str, *, make: bool = False) -> str:
        """The token of ``value`` as an owner of kind ``letter``; ``make``: number it if it has
        no number (call it in the write transaction that indexes it)."""
        name = f"{letter}:{value}"
        known = self._known.get(name)
        if known is not None:
            return known
        with self._lock:
            token = self._pending.get(name)
            if token is not None:
                return token
            if make:
                self._db.execute("INSERT OR IGNORE INTO scope_tokens (name) VALUES (?)", (name,))
            row = self._db.execute("SELECT n FROM scope_tokens WHERE name = ?", (name,)).fetchone()
            token = f"{letter}{row[0] if row else 0}{MARK}"
            if row is not None:
                # Read in a transaction, it may be this connection's own uncommitted number.
                (self._pending if self._db.in_transaction else self._known)[name] = token
            return token

    def owner_kind(self, owner: str, kind: str, *, make: bool = False) -> str:
        """One token for an owner's memories of one kind: one phrase to match instead of two."""
        return self.token("c", f"{owner}/{kind}", make=make)

    def committed(self) -> None:
        """The write transaction that read or gave the numbers pending committed."""
        with self._lock:
            self._known.update(self._pending)
            self._pending.clear()

    def rolled_back(self) -> None:
        """Forget the numbers pending: a rollback may have taken back one given."""
        with self._lock:
            self._pending.clear()


def hashed(letter: str, value: str) -> str:
    """The token formats 1 to 9 wrote for ``value`` (an owner and kind: ``hashed("c",
    f"{owner's token}/{kind}")``)."""
    digest = hashlib.blake2b(value.encode(), digest_size=10).digest()
    return letter + str(int.from_bytes(digest, "big"))


def migrate(db: sqlite3.Connection, tokens: ScopeTokens) -> None:
    """Number the scopes of a database of formats 1 to 9 and write its index's tokens, its
    counts' and its vectors' owners as this format does."""
    db.execute(TABLE)
    renamed: dict[str, str] = {}
    rows = db.execute(
        "SELECT DISTINCT user_id, agent_id, knowledgebase_id, kind FROM memories"
    ).fetchall()
    for user_id, agent_id, knowledgebase_id, kind in rows:
        for letter, value in owners(user_id, agent_id, knowledgebase_id):
            old, new = hashed(letter, value), tokens.token(letter, value, make=True)
            renamed[old] = new
            renamed[hashed("c", f"{old}/{kind}")] = tokens.owner_kind(new, kind, make=True)
    scopes = [
        (" ".join(renamed.get(token, token) for token in scope.split()), rowid)
        for rowid, scope in db.execute("SELECT rowid, scope FROM memories_fts")
    ]
    db.executemany("UPDATE memories_fts SET scope = ? WHERE rowid = ?", scopes)
    # Each row rewritten left its old terms behind as deletions in the index's segments, ~20%
    # of the file at 100k: merged away (1.3 s at 100k), the index is the size a new one would be.
    db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
    counted = db.execute("SELECT token, memories FROM scope_counts").fetchall()
    db.execute("DELETE FROM scope_counts")
    # A token no memory holds any more (its owner's memories all deleted) counts none: dropped.
    kept = [(_renamed(token, renamed), n) for token, n in counted]
    db.executemany(
        "INSERT INTO scope_counts (token, memories) VALUES (?, ?)",
        [(token, n) for token, n in kept if token in _NO_SCOPE or MARK in token],
    )
    scope_counts.rewritten(db, len(scopes))
    db.execute(_OLD_WRITERS_REFUSED)
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").fetchone():
        owned = db.execute("SELECT seq, owner FROM vectors").fetchall()
        db.executemany(
            "UPDATE vectors SET owner = ? WHERE seq = ?",
            [(renamed[owner], seq) for seq, owner in owned if owner in renamed],
        )


def _renamed(counted: str, renamed: dict[str, str]) -> str:
    """A ``scope_counts`` key with its token renamed (a marked one keeps its "+")."""
    marked = counted.startswith("+")
    token = counted[1:] if marked else counted
    return ("+" if marked else "") + renamed.get(token, token)
