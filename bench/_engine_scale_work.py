"""What one build or search process of ``engine_scale.py`` does and measures."""

from __future__ import annotations

import gc
import random
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import latency_ms
from _conversations import Vocabulary, conversation, question

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded._bodies import memory_text
from langchain_memos.embedded._text import fts_query, index_text, query_terms

# The floor: SQLite FTS5 alone over the same memory texts, one column, the engine's tokenizer.
FLOOR_SQL = "SELECT rowid, text FROM raw WHERE raw MATCH ? ORDER BY bm25(raw) LIMIT 25"


def owner(layout: str, users: int, k: int) -> str:
    return "user-000" if layout == "one_user" else f"user-{k % users:03d}"


# ---- measurements --------------------------------------------------------------------------


def memory_mb() -> dict[str, float | None]:
    """Peak resident set (getrusage; kilobytes on Linux) and current VmRSS of this process."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 1024 if sys.platform != "darwin" else peak / 1_048_576
    current: float | None = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {
        "peak_rss_mb": round(peak_mb, 1),
        "current_rss_mb": None if current is None else round(current, 1),
    }


def counts(db: Path) -> dict[str, int]:
    """Rows in the database, read with a separate connection (not part of any timing)."""
    if not db.exists():
        return {"memories": 0, "facts": 0, "preferences": 0, "messages": 0, "conversations": 0}
    connection = sqlite3.connect(db)
    try:
        kinds = dict(connection.execute("SELECT kind, count(*) FROM memories GROUP BY kind"))
        messages = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        conversations = connection.execute(
            "SELECT count(DISTINCT conversation_id) FROM messages"
        ).fetchone()[0]
    finally:
        connection.close()
    return {
        "memories": sum(kinds.values()),
        "facts": kinds.get("fact", 0),
        "preferences": kinds.get("preference", 0),
        "messages": messages,
        "conversations": conversations,
    }


def file_mb(db: Path) -> dict[str, float]:
    def size(path: Path) -> float:
        return round(path.stat().st_size / 1_048_576, 1) if path.exists() else 0.0

    return {"db_mb": size(db), "wal_mb": size(db.with_name(db.name + "-wal"))}


def build(db: Path, layout: str, target: int, users: int, seed: int) -> dict[str, Any]:
    """Add whole conversations until the database holds ``target`` memories."""
    before = counts(db)
    vocabulary = Vocabulary(seed)
    engine = EmbeddedEngine(str(db))
    client = MemOSClient(embedded=engine, max_retries=0)
    max_seq = "SELECT coalesce(max(seq), 0) FROM memories"  # == count: nothing is deleted
    memories = int(engine.store.query(max_seq)[0][0])
    k = before["conversations"]
    messages = 0
    add_ns: list[int] = []
    clock = time.perf_counter_ns
    started = time.perf_counter()
    next_report = started + 5
    try:
        while memories < target:
            _, turns = conversation(vocabulary, seed, k)
            user = owner(layout, users, k)
            begin = clock()
            client.add_message(turns, user_id=user, conversation_id=f"conv-{k:06d}")
            add_ns.append(clock() - begin)
            messages += len(turns)
            k += 1
            memories = int(engine.store.query(max_seq)[0][0])
            if time.perf_counter() >= next_report:
                rate = messages / (sum(add_ns) / 1e9)
                print(f"  {layout} -> {target:,}: {memories:,} memories, {rate:,.0f} messages/s")
                next_report = time.perf_counter() + 5
    finally:
        client.close()
        engine.close()
    after = counts(db)
    seconds = sum(add_ns) / 1e9
    return {
        "from_memories": before["memories"],
        "added_messages": after["messages"] - before["messages"],
        "added_memories": after["memories"] - before["memories"],
        "add_calls": len(add_ns),
        "add_seconds": round(seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "messages_per_s": round(messages / seconds, 1) if seconds else None,
        "memories_per_s": round((after["memories"] - before["memories"]) / seconds, 1)
        if seconds
        else None,
        "add_call": latency_ms(add_ns) if add_ns else None,
        "rows": after,
        "memory": memory_mb(),
    }


def rank_of(conversation: str, returned: list[str | None]) -> int:
    """Where the first fact of the conversation a question is about ranks among those returned
    (1 the first), 0 when none is."""
    return next((i for i, c in enumerate(returned, 1) if c == conversation), 0)


def found_shares(ranks: list[int]) -> dict[str, float]:
    """The share of questions whose conversation ranks first, in the top 5, or anywhere."""
    n = max(len(ranks), 1)
    return {
        "first": round(sum(1 for r in ranks if r == 1) / n, 3),
        "top5": round(sum(1 for r in ranks if 1 <= r <= 5) / n, 3),
        "returned": round(sum(1 for r in ranks if r) / n, 3),
    }


def floor_index(db: Path) -> sqlite3.Connection:
    """A plain FTS5 table of every memory's text (as the engine tokenises it), in a database
    beside the engine's, brought up to date with the memories added since the last size."""
    connection = sqlite3.connect(db.with_name(db.stem + "-floor.db"), isolation_level=None)
    connection.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS raw USING fts5 "
        "(text, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    done = connection.execute("SELECT coalesce(max(rowid), 0) FROM raw").fetchone()[0]
    source = sqlite3.connect(db)
    try:
        source.row_factory = sqlite3.Row
        rows = source.execute(
            f"SELECT seq, {bodies.columns()} FROM memories WHERE seq > ? ORDER BY seq",  # noqa: S608
            (done,),
        )
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO raw (rowid, text) VALUES (?, ?)",
            ((row["seq"], index_text(memory_text(bodies.read(row)))) for row in rows),
        )
        connection.execute("COMMIT")
    finally:
        source.close()
    return connection


def search(
    db: Path, layout: str, users: int, seed: int, queries: int, warmup: int
) -> dict[str, Any]:
    """Open the database and time ``search_memory`` on questions about stored conversations."""
    rows = counts(db)
    vocabulary = Vocabulary(seed)
    conversations = rows["conversations"]
    rng = random.Random(f"queries:{seed}:{layout}:{rows['memories']}")
    picks = [rng.randrange(conversations) for _ in range(warmup + queries)]
    asks = [
        (owner(layout, users, k), question(vocabulary, seed, k, i)) for i, k in enumerate(picks)
    ]
    conversations_asked = [f"conv-{k:06d}" for k in picks]
    raw = floor_index(db)
    engine = EmbeddedEngine(str(db))
    client = MemOSClient(embedded=engine, max_retries=0)
    clock = time.perf_counter_ns
    cpu = time.process_time_ns
    samples: list[int] = []
    cpu_samples: list[int] = []
    ranks: list[int] = []
    floor: list[int] = []
    facts: list[int] = []
    preferences: list[int] = []
    try:
        first = clock()
        client.search_memory(asks[0][1], user_id=asks[0][0])
        first_ms = (clock() - first) / 1e6
        for user, query in asks[1:warmup]:
            client.search_memory(query, user_id=user)
            raw.execute(FLOOR_SQL, (fts_query(query_terms(query)),)).fetchall()
        gc.collect()
        for (user, query), asked in zip(asks[warmup:], conversations_asked[warmup:], strict=True):
            begin, begin_cpu = clock(), cpu()
            found = client.search_memory(query, user_id=user)
            samples.append(clock() - begin)
            cpu_samples.append(cpu() - begin_cpu)
            ranks.append(rank_of(asked, [m.conversation_id for m in found.memory_detail_list]))
            # Side by side: the same question, straight to FTS5 (whatever the user).
            begin = clock()
            raw.execute(FLOOR_SQL, (fts_query(query_terms(query)),)).fetchall()
            floor.append(clock() - begin)
            facts.append(len(found.memory_detail_list))
            preferences.append(len(found.preference_detail_list))
    finally:
        client.close()
        engine.close()
        raw.close()
    return {
        "queries": queries,
        "warmup": warmup,
        "first_search_ms": round(first_ms, 3),
        "latency": latency_ms(samples),
        "cpu": latency_ms(cpu_samples),
        "floor_latency": latency_ms(floor),
        "conversation_found": found_shares(ranks),
        "conversation_ranks": ranks,
        "mean_facts_returned": round(statistics.fmean(facts), 2),
        "share_with_a_fact": round(sum(1 for f in facts if f) / len(facts), 3),
        "mean_preferences_returned": round(statistics.fmean(preferences), 2),
        "examples": [query for _, query in asks[warmup : warmup + 5]],
        "memory": memory_mb(),
    }
