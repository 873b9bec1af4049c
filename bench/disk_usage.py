"""Disk usage: where a memory's bytes go in the embedded engine's database (issue 13).

``engine_scale.py`` gives one figure, the database file's bytes per memory (target: 1,000). This
script says which tables and indexes hold them, so that a change aims at the right ones. It builds
a database of N memories through the real client path (one user, ``engine_scale.py``'s synthetic
conversations and its build process), then reads SQLite's ``dbstat`` table: the bytes of every
table and index (pages, and the part of them left unused), per memory; and the average stored
length of each column of ``memories`` and of the full-text index's copy of the indexed text
(``memories_fts_content``).

Then, on copies of that database, what a change of layout would leave, each measured, not
estimated (every copy is VACUUMed, and so is a copy left as it is, the fair baseline):

- ``contentless``: the full-text index rebuilt with ``content=''`` (same columns, same
  tokenizer, same terms and positions), so that it keeps no copy of the indexed text;
- ``contentless_no_by_user``: that, without the ``memories_by_user`` index as well.

These are layouts, not a working engine: a contentless index cannot give back the columns a
search reads (a memory's own words and its neighbours' words, see ``_store.py``), nor delete a
row without being handed its exact indexed values; see the report's ``notes``.

Run it with ``.venv/bin/python bench/disk_usage.py`` (``--help`` for the knobs; ``--db`` reads an
existing database instead of building one). The figures go to ``bench/results/disk_usage.json``,
a table to stdout.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import finish, report_head
from _engine_scale_work import build

RESULTS = Path(__file__).resolve().parent / "results" / "disk_usage.json"
FTS_COLUMNS = ("scope", "body", "spk", "ctx1", "ctx2", "date", "tmp")
MEMORY_COLUMNS = ("id", "kind", "user_id", "conversation_id", "tags", "info", "text", "body")


def memories(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT count(*) FROM memories").fetchone()[0])


def file_bytes(connection: sqlite3.Connection) -> int:
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    return int(pages * connection.execute("PRAGMA page_size").fetchone()[0])


def objects(connection: sqlite3.Connection, n: int) -> list[dict[str, Any]]:
    """Every table and index of the database, largest first, in bytes per memory."""
    rows = connection.execute(
        "SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC"
    ).fetchall()
    return [
        {"name": name, "bytes_per_memory": round(size / n, 1), "unused": round(unused / n, 1)}
        for name, size, unused in rows
        if size / n >= 0.1
    ]


def column_lengths(connection: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> Any:
    """The average stored length (bytes) of each column of ``table``."""
    picks = ", ".join(f"avg(length(CAST({column} AS BLOB)))" for column in columns)
    averages = connection.execute(f"SELECT {picks} FROM {table}").fetchone()  # noqa: S608
    return {column: round(value or 0.0, 1) for column, value in zip(columns, averages, strict=True)}


def contentless(connection: sqlite3.Connection) -> None:
    """The full-text index as it is, rebuilt without its own copy of the text."""
    sql = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'memories_fts'"
    ).fetchone()[0]
    tokenize = sql[sql.index("tokenize") :].rstrip().rstrip(")")
    listed = ", ".join(FTS_COLUMNS)
    connection.execute("BEGIN")
    connection.execute(f"CREATE VIRTUAL TABLE bare USING fts5 ({listed}, content='', {tokenize})")
    connection.execute(
        f"INSERT INTO bare (rowid, {listed}) SELECT rowid, {listed} FROM memories_fts"  # noqa: S608
    )
    connection.execute("DROP TABLE memories_fts")
    connection.execute("COMMIT")


def without_by_user(connection: sqlite3.Connection) -> None:
    contentless(connection)
    connection.execute("DROP INDEX memories_by_user")


VARIANTS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "as_is": lambda connection: None,
    "contentless": contentless,
    "contentless_no_by_user": without_by_user,
}


def variant(db: Path, work: Path, name: str, n: int) -> dict[str, Any]:
    copy = work / f"{name}.db"
    shutil.copy(db, copy)
    connection = sqlite3.connect(copy, isolation_level=None)
    try:
        VARIANTS[name](connection)
        connection.execute("VACUUM")
        return {"bytes_per_memory": round(file_bytes(connection) / n, 1)}
    finally:
        connection.close()
        copy.unlink()


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db = args.db
    built = None
    if db is None:
        db = work / "one_user.db"
        built = build(db, "one_user", args.memories, 1, args.seed)
    connection = sqlite3.connect(db)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        n = memories(connection)
        report = report_head("disk_usage", ())
        report["config"] = {"memories": n, "built": built is not None, "seed": args.seed}
        report["file_bytes_per_memory"] = round(file_bytes(connection) / n, 1)
        report["objects"] = objects(connection, n)
        report["columns"] = {
            "memories": column_lengths(connection, "memories", MEMORY_COLUMNS),
            "memories_fts": column_lengths(connection, "memories_fts", FTS_COLUMNS),
        }
    finally:
        connection.close()
    report["variants"] = {name: variant(db, work, name, n) for name in VARIANTS}
    report["notes"] = [
        "as_is is the database VACUUMed: the baseline of the other variants.",
        "A contentless index reads NULL for every column: a search then has to recompute each "
        "candidate's own words and its neighbours' (body, spk, date; ctx1) from the rows, and "
        "a delete or a context update has to hand FTS5 the exact old values (SQLite 3.40 has no "
        "contentless_delete).",
    ]
    return report


def print_table(report: dict[str, Any]) -> None:
    n = report["config"]["memories"]
    print(f"{n:,} memories, {report['file_bytes_per_memory']:,.0f} bytes a memory in the file")
    print(f"{'table or index':40} {'bytes/memory':>12} {'unused':>8}")
    for row in report["objects"]:
        print(f"{row['name']:40} {row['bytes_per_memory']:>12.1f} {row['unused']:>8.1f}")
    for table, lengths in report["columns"].items():
        cells = ", ".join(f"{column} {length:.0f}" for column, length in lengths.items())
        print(f"{table} columns (average bytes): {cells}")
    for name, figures in report["variants"].items():
        print(f"variant {name:24} {figures['bytes_per_memory']:>8.1f} bytes a memory (VACUUMed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000, help="memories to build")
    parser.add_argument("--db", type=Path, help="measure this database instead of building one")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of the conversations")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        report = run(args, Path(work))
    return finish(report, args.out, print_table, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
