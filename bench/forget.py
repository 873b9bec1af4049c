"""Forgetting: what it costs to take a turn's words out of the turns around it (issue 13).

Each turn is indexed with the words of the turns one and two places around it (ctx1, ctx2). When
a turn is deleted, or its text edited, the engine recomputes those columns for the turns within
two places of it, in the same transaction. This script measures that cost side by side, in one
run, on two copies of one database of N memories (one user, ``engine_scale.py``'s synthetic
conversations, built through ``add_message``):

- ``reindexed``: the engine as it is;
- ``stale``: the same engine with the re-indexing switched off (as before the fix: the
  neighbours keep the words of what was deleted or edited); the floor.

Timed through the real client path (``MemOSClient(embedded=engine)``), the two arms alternating
call by call: ``delete/memory`` of one turn by id, ``update/memory`` of one turn's content, one
``delete/memory`` of many scattered ids, one ``delete/memory`` by a filter naming many whole
conversations, then ``delete/memory`` of the whole user. After all that, both databases pass
FTS5's ``integrity-check``, and the script counts, in each, the turns whose context columns are
not what a fresh write of the turns there now would give them (0 in ``reindexed``).

Run it with ``.venv/bin/python bench/forget.py`` (``--help`` for the knobs). The figures go to
``bench/results/forget.json``, a table to stdout.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from _common import latency_ms, report_head, run_in_scratch
from _engine_scale_work import build

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _context as context
from langchain_memos.embedded._bodies import read_id
from langchain_memos.embedded._text import index_text

RESULTS = Path(__file__).resolve().parent / "results" / "forget.json"
ARMS = ("reindexed", "stale")
USER = "user-000"


@contextmanager
def stale() -> Iterator[None]:
    """The engine without the re-indexing of neighbours (what it did before the fix)."""

    def nothing(*_: Any, **__: Any) -> None:
        return None

    names = ("_store.refresh_context", "_writer.refresh_context", "_writer.update_context")
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(mock.patch(f"langchain_memos.embedded.{name}", nothing))
        yield


Call = Callable[[MemOSClient], object]


def delete_ids(ids: list[str]) -> Call:
    return lambda client: client.delete_memory(memory_ids=ids)


def edit(memory_id: str) -> Call:
    return lambda client: client.update_memory(memory_id, content="Edited by the user.")


def delete_conversations(conversations: list[str]) -> Call:
    conditions: list[Any] = [{"conversation_id": c} for c in conversations]
    return lambda client: client.delete_memory(filter={"or": conditions})


def timed(arm: str, call: Call, client: MemOSClient) -> int:
    begin = time.perf_counter_ns()
    if arm == "stale":
        with stale():
            call(client)
    else:
        call(client)
    return time.perf_counter_ns() - begin


def wrong_contexts(db: Path) -> dict[str, Any]:
    """FTS5's integrity check, and the turns whose ctx1/ctx2 are not those of the turns around
    them now (computed with the engine's own function, from the stored turn texts)."""
    connection = sqlite3.connect(db, isolation_level=None)
    try:
        connection.execute("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
        rows = connection.execute(
            "SELECT m.conversation_id, m.text, f.ctx1, f.ctx2 FROM memories m "
            "JOIN memories_fts f ON f.rowid = m.seq WHERE m.kind = 'fact' AND m.text != '' "
            "ORDER BY m.conversation_id, m.seq"
        ).fetchall()
    finally:
        connection.close()
    by_conversation: dict[str, list[tuple[str, str, str]]] = {}
    for conversation, text, ctx1, ctx2 in rows:
        by_conversation.setdefault(conversation, []).append((text, ctx1, ctx2))
    wrong = 0
    for turns in by_conversation.values():
        tokens = [index_text(text) for text, _, _ in turns]
        wrong += sum(context.around(tokens, i) != (c1, c2) for i, (_, c1, c2) in enumerate(turns))
    return {"integrity_check": "ok", "turns": len(rows), "wrong_context": wrong}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    built = work / "built.db"
    print(f"building {args.memories:,} memories for one user ...")
    build(built, "one_user", args.memories, 1, args.seed)
    paths = {arm: work / f"{arm}.db" for arm in ARMS}
    for path in paths.values():
        shutil.copy(built, path)
    engines = {arm: EmbeddedEngine(str(path)) for arm, path in paths.items()}
    clients = {arm: MemOSClient(embedded=engines[arm], max_retries=0) for arm in ARMS}
    rows = engines["reindexed"].store.query(
        "SELECT id, conversation_id FROM memories WHERE kind = 'fact' AND text != '' ORDER BY seq"
    )
    rng = random.Random(args.seed)
    turns = [read_id(row["id"]) for row in rows]
    rng.shuffle(turns)
    conversations = sorted({row["conversation_id"] for row in rows})
    rng.shuffle(conversations)
    samples: dict[str, dict[str, list[int]]] = {arm: {} for arm in ARMS}

    def measure(name: str, calls: list[Call]) -> None:
        for call in calls:
            for arm in ARMS if len(samples[ARMS[0]].get(name, [])) % 2 else ARMS[::-1]:
                samples[arm].setdefault(name, []).append(timed(arm, call, clients[arm]))

    one, edits = turns[: args.singles], turns[args.singles : 2 * args.singles]
    rest, size = turns[2 * args.singles :], args.batch
    many = [rest[k * size : (k + 1) * size] for k in range(args.repeats)]
    size = args.conversations
    whole = [conversations[k * size : (k + 1) * size] for k in range(args.repeats)]
    measure("delete_one_id", [delete_ids([memory_id]) for memory_id in one])
    measure("update_one_content", [edit(memory_id) for memory_id in edits])
    measure("delete_many_ids", [delete_ids(ids) for ids in many])
    measure("delete_conversations_by_filter", [delete_conversations(c) for c in whole])
    checks = {arm: wrong_contexts(path) for arm, path in paths.items()}
    measure("delete_user", [lambda client: client.delete_memory(user_id=USER)])
    for arm in ARMS:
        clients[arm].close()
        engines[arm].close()
    return {
        **report_head("forget", ["langchain-memos"]),
        "memories": args.memories,
        "calls": {
            "delete_one_id": len(one),
            "update_one_content": len(edits),
            "delete_many_ids": args.batch,
            "delete_conversations_by_filter": args.conversations,
            "repeats": args.repeats,
        },
        "latency": {
            arm: {name: latency_ms(values) for name, values in samples[arm].items()} for arm in ARMS
        },
        "index_after": checks,
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"{report['memories']:,} memories, one user; ms, p50 / p95 (of n calls each)")
    print(f"{'operation':42} {'reindexed':>19} {'stale (before)':>19}")
    for name in report["latency"]["reindexed"]:
        cells = []
        for arm in ARMS:
            figures = report["latency"][arm][name]
            cells.append(f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f}")
        calls = report["calls"]
        units = {
            "delete_many_ids": f" ({calls['delete_many_ids']} ids)",
            "delete_conversations_by_filter": f" ({calls['delete_conversations_by_filter']} c.)",
        }
        label = f"{name}{units.get(name, '')} n={report['latency']['reindexed'][name]['n']}"
        print(f"{label:42} {cells[0]:>19} {cells[1]:>19}")
    for arm in ARMS:
        check = report["index_after"][arm]
        print(
            f"{arm}: integrity-check {check['integrity_check']}, {check['wrong_context']} of "
            f"{check['turns']} turns indexed with context that is not there"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=10_000, help="memories in the database")
    parser.add_argument("--singles", type=int, default=200, help="single deletes, and edits")
    parser.add_argument("--batch", type=int, default=500, help="ids in each big delete")
    parser.add_argument("--conversations", type=int, default=50, help="in each filter delete")
    parser.add_argument("--repeats", type=int, default=5, help="big deletes of each kind")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    return run_in_scratch(run, args, print_table)


if __name__ == "__main__":
    sys.exit(main())
