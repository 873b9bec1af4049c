"""An index of the memories' ``info`` fields, so that a filter on one reads matching rows only.

MemOS filters compare an info field for equality (``{"scene": "trip"}``). Without an index each
such condition parses the info of every memory of the user, which grows with the user's memories
(a ``MemOSStore`` reads every record by its key this way). ``memory_info`` holds one row per field
of each memory, its value as the filter compares it (:func:`as_text`): a string as itself, a
number as ``str()`` writes it (which is what a caller is told to send), true and false as 1 and
0, anything else as its JSON text. (Formats 1 to 7 wrote SQLite's ``CAST(value AS TEXT)``, which
gives a float 15 digits and an integer past 2**63 as a float: ``str(1/3)`` did not match; and a
list as ASCII JSON.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

_STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS memory_info (seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT)",
    "CREATE INDEX IF NOT EXISTS memory_info_by_memory ON memory_info (seq, key, value)",
)
SCHEMA = "".join(f"{statement};\n" for statement in _STATEMENTS)

# A probe of the index per memory the rest of the query reaches (the user's, in seq order, so
# that a page stops early), not a list of every match first: a condition that matches most of a
# user's memories (a namespace) would otherwise be read and sorted whole. Measured on 3,000
# memories: a page 0.015 ms (the IN-list form: 4.7 ms), a count 0.9 ms (JSON parsing: 2.3 ms).
CONDITION = "EXISTS (SELECT 1 FROM memory_info i WHERE i.seq = m.seq AND i.key = ? AND i.value = ?)"
"""The filter condition ``info[key] == value``, with the key and value as its two parameters."""


def index_info(db: sqlite3.Connection, seq: int, info: Mapping[str, object]) -> None:
    """Index the info of the memory ``seq``."""
    db.executemany(
        "INSERT INTO memory_info (seq, key, value) VALUES (?, ?, ?)",
        [(seq, key, as_text(value)) for key, value in info.items()],
    )


def as_text(value: object) -> str | None:
    """An info value as a filter compares it (see the module's docstring)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def reindex_values(db: sqlite3.Connection) -> None:
    """Index every info value but a string as :func:`as_text` writes it (format 8)."""
    rows = db.execute(
        "SELECT DISTINCT m.seq, m.info FROM memories m, json_each(m.info) j "
        "WHERE j.type NOT IN ('text', 'null')"
    ).fetchall()
    forget_info(db, [(seq,) for seq, _ in rows])
    for seq, info in rows:
        index_info(db, seq, json.loads(info))


def forget_info(db: sqlite3.Connection, seqs: Sequence[tuple[int]]) -> None:
    db.executemany("DELETE FROM memory_info WHERE seq = ?", seqs)


def migrate(db: sqlite3.Connection) -> None:
    """Index the info of a database made before the index (index format 1)."""
    for statement in _STATEMENTS:  # one by one: executescript would end the transaction
        db.execute(statement)
    for seq, info in db.execute("SELECT seq, info FROM memories WHERE info != '{}'").fetchall():
        index_info(db, seq, json.loads(info))
