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
row without being handed its exact indexed values. What recomputing the columns a search reads
would add to it is measured too (``recompute``): ``search_memory`` through the client on the
database as it is, ``engine_scale.py``'s questions, and after each, in the same process, the CPU
time of rebuilding what its full-text candidates read from the index with the engine's own
functions (each memory's body, speaker and date words from its stored body, and the words of
the turns just before and after it, found by the engine's neighbours query): CPU time
(``time.process_time``), not wall time, so that other work on the machine does not count.

Run it with ``.venv/bin/python bench/disk_usage.py`` (``--help`` for the knobs; ``--db`` reads an
existing database instead of building one). The figures go to ``bench/results/disk_usage.json``,
a table to stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from _common import report_head, run_in_scratch
from _conversations import Vocabulary, question
from _engine_scale_work import build

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _matches as matches
from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._store import ID_LIST, NEIGHBOURS, Store
from langchain_memos.embedded._text import index_text
from langchain_memos.embedded._writer import _columns

RESULTS = Path(__file__).resolve().parent / "results" / "disk_usage.json"
FTS_COLUMNS = ("scope", "body", "spk", "ctx1", "ctx2", "date", "tmp")
TEXTS = "SELECT seq, text FROM memories WHERE seq IN " + ID_LIST  # noqa: S608 - a constant
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


def rebuild_own(found: list[Candidate]) -> list[str]:
    """What a search reads of each candidate's own words from the index (``own``), rebuilt
    from its stored body with the engine's function."""
    rebuilt = []
    for candidate in found:
        columns = _columns(candidate.body, speaker="user")  # the speaker is not stored
        rebuilt.append(" ".join((columns["body"], columns["spk"], columns["date"])))
    return rebuilt


def rebuild_context(store: Store, found: list[Candidate]) -> list[str]:
    """What a search reads of the turns around each candidate from the index (``context``),
    rebuilt from the turns just before and after it (the engine's neighbours query)."""
    rows = store.query(NEIGHBOURS, [json.dumps([candidate.seq for candidate in found])])
    around = [seq for row in rows for seq in (row["before"], row["after"]) if seq]
    texts = {row[0]: row[1] for row in store.query(TEXTS, [json.dumps(around)])}
    return [
        " ".join(index_text(texts[seq]) for seq in (row["before"], row["after"]) if seq)
        for row in rows
    ]


def recompute_cost(db: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """CPU time per search as it is, and what rebuilding its candidates' columns adds."""
    copy = work / "searched.db"
    shutil.copy(db, copy)
    vocabulary = Vocabulary(args.seed)
    conversations = (
        sqlite3.connect(copy)
        .execute("SELECT count(DISTINCT conversation_id) FROM messages")
        .fetchone()[0]
    )
    rng = random.Random(f"disk_usage:{args.seed}")
    asks = [
        question(vocabulary, args.seed, rng.randrange(conversations), i)
        for i in range(args.warmup + args.queries)
    ]
    engine = EmbeddedEngine(str(copy))
    client = MemOSClient(embedded=engine, max_retries=0)
    found: list[list[Candidate]] = []
    matching = matches.candidates

    def keep(store: Store, *given: Any, **named: Any) -> dict[str, list[Candidate]]:
        candidates = matching(store, *given, **named)
        found.extend(candidates.values())
        return candidates

    search_s = own_s = context_s = 0.0
    candidates = 0
    try:
        with mock.patch.object(matches, "candidates", keep):
            for i, ask in enumerate(asks):
                found.clear()
                begin = time.process_time()
                client.search_memory(ask, user_id="user-000")
                searched = time.process_time() - begin
                begin = time.process_time()
                for each in found:
                    rebuild_own(each)
                own = time.process_time() - begin
                begin = time.process_time()
                for each in found:
                    rebuild_context(engine.store, each)
                context = time.process_time() - begin
                if i >= args.warmup:
                    search_s += searched
                    own_s += own
                    context_s += context
                    candidates += sum(map(len, found))
    finally:
        client.close()
        engine.close()
        copy.unlink()
    return {
        "queries": args.queries,
        "candidates_per_search": round(candidates / args.queries, 1),
        "search_cpu_ms": round(search_s / args.queries * 1e3, 2),
        "rebuild_own_cpu_ms": round(own_s / args.queries * 1e3, 2),
        "rebuild_context_cpu_ms": round(context_s / args.queries * 1e3, 2),
        "ratio": round((search_s + own_s + context_s) / search_s, 2),
    }


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
    report["recompute"] = recompute_cost(db, work, args)
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
    cost = report["recompute"]
    print(
        f"search CPU {cost['search_cpu_ms']:.2f} ms; rebuilding what it reads of its "
        f"{cost['candidates_per_search']:.0f} candidates: own words "
        f"+{cost['rebuild_own_cpu_ms']:.2f} ms, neighbours' +{cost['rebuild_context_cpu_ms']:.2f} "
        f"ms ({cost['ratio']:.2f}x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000, help="memories to build")
    parser.add_argument("--db", type=Path, help="measure this database instead of building one")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of the conversations")
    parser.add_argument("--queries", type=int, default=300, help="timed searches")
    parser.add_argument("--warmup", type=int, default=30, help="untimed searches first")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    return run_in_scratch(run, args, print_table)


if __name__ == "__main__":
    sys.exit(main())
