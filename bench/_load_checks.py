"""The checks of ``load.py``: are the writes really there, through the API and in the file?"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _load_work import Add, bounded

from langchain_memos import AsyncMemOSClient


def expected_turns(adds: Sequence[Add]) -> dict[tuple[str, str], Counter[tuple[str, str]]]:
    expected: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for add in adds:
        turns = expected.setdefault((add.user_id, add.conversation_id), Counter())
        turns.update((str(m["role"]), str(m["content"])) for m in add.messages)
    return expected


async def check_messages(
    client: AsyncMemOSClient, adds: Sequence[Add], limit: int
) -> dict[str, Any]:
    """``get_message`` for every added conversation: exactly the turns sent, none lost or doubled.

    Four adds of one conversation run concurrently, so their order is not checked, only the
    multiset of (role, content)."""
    expected = expected_turns(adds)
    keys = list(expected)
    answers = await bounded(
        (
            client.get_message(user_id=key[0], conversation_id=key[1], message_limit_number=50)
            for key in keys
        ),
        limit,
    )
    mismatched, failed = [], Counter[str]()
    for key, answer in zip(keys, answers, strict=True):
        if isinstance(answer, BaseException):
            failed[type(answer).__name__] += 1
            continue
        got = Counter((str(m.role), str(m.content)) for m in answer.message_detail_list)
        if got != expected[key]:
            mismatched.append(key[1])
    return {
        "conversations": len(keys),
        "messages_expected": sum(sum(c.values()) for c in expected.values()),
        "conversations_exact": len(keys) - len(mismatched) - sum(failed.values()),
        "mismatched": mismatched[:10],
        "failed": dict(failed),
    }


async def check_tasks(
    client: AsyncMemOSClient, task_ids: Sequence[str], sample: int, limit: int, rng: random.Random
) -> dict[str, Any]:
    chosen = rng.sample(list(task_ids), min(sample, len(task_ids)))
    answers = await bounded((client.get_status(task_id) for task_id in chosen), limit)
    statuses = Counter(
        type(a).__name__ if isinstance(a, BaseException) else str(a.status) for a in answers
    )
    return {"sampled": len(chosen), "statuses": dict(statuses)}


def check_database(db: Path, adds: Sequence[Add], seeded_messages: int) -> dict[str, Any]:
    """Read the file the server wrote, after it stopped: every message on disk, none doubled."""
    expected = expected_turns(adds)
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT user_id, conversation_id, body FROM messages").fetchall()
        tasks = connection.execute("SELECT count(*) FROM tasks").fetchone()[0]
        memories = connection.execute("SELECT count(*) FROM memories").fetchone()[0]
    finally:
        connection.close()
    stored: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for user_id, conversation_id, body in rows:
        if (user_id, conversation_id) in expected:
            message = json.loads(body)
            stored.setdefault((user_id, conversation_id), Counter())[
                (str(message["role"]), str(message["content"]))
            ] += 1
    exact = sum(stored.get(key) == turns for key, turns in expected.items())
    added = sum(sum(c.values()) for c in expected.values())
    return {
        "messages_in_file": len(rows),
        "messages_expected": seeded_messages + added,
        "added_conversations_exact": exact,
        "added_conversations": len(expected),
        "tasks_in_file": tasks,
        "memories_in_file": memories,
        "db_mb": round(db.stat().st_size / 1_048_576, 2),
    }
