"""Writes ``format_4.db`` and ``format_4.json``: a database of index format 4 and what the
engine that wrote it answered, for ``test_embedded_migrations``.

Run it with the code of index format 4 (commit 1037b35) on the path, from this directory:
``PYTHONPATH=<checkout at 1037b35> python make_format_4.py``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._store import INDEX_VERSION

HERE = Path(__file__).resolve().parent
TALK = [
    ("user", "I went hiking with Mochi near Lisbon last Saturday. I like green tea."),
    ("assistant", "Lisbon has great trails! Would you like tips for hiking with a dog?"),
    ("user", "Yes please."),
    ("user", "MacBook Air, ThinkPad X1 or Dell XPS?"),
    ("assistant", "The MacBook Air is the lightest of the three."),
    ("user", "Then the MacBook Air it is."),
    ("user", "我在杭州上班，国庆想带孩子和老人去广州玩。"),
]


def requests() -> list[tuple[str, dict[str, Any]]]:
    """What the test asks both engines, in order (after the writes)."""
    return [
        ("get_memory", {"user_id": "u1", "include_preference": True, "size": 50}),
        ("get_memory", {"user_id": "u1", "filter": {"and": [{"scene": "trip"}]}}),
        ("get_message", {"user_id": "u1", "conversation_id": "c1"}),
        ("get_message", {"user_id": "u1"}),
        ("search_memory", {"user_id": "u1", "query": "Which laptop did I pick?"}),
        ("search_memory", {"user_id": "u1", "query": "MacBook Air tea", "relativity": 0}),
        ("search_memory", {"user_id": "u1", "query": "国庆去哪玩"}),
        (
            "search_memory",
            {"user_id": "u1", "query": "hiking Lisbon", "knowledgebase_ids": ["all"]},
        ),
        ("search_memory", {"agent_id": "a1", "query": "deploy"}),
    ]


def write(engine: EmbeddedEngine) -> None:
    engine.add_message(
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "messages": [
                {"role": role, "content": text, "chat_time": f"2025-06-10 09:0{i}:00"}
                for i, (role, text) in enumerate(TALK)
            ],
            "info": {"scene": "trip"},
            "tags": ["travel"],
            "allow_memory_view": ["detail_factual", "preference", "event"],
        }
    )
    engine.add_message(
        {
            "agent_id": "a1",
            "conversation_id": "c2",
            "messages": [
                {"role": "user", "content": "Deploy the service on Friday."},
                {"role": "assistant", "name": "Ops", "content": "Deploying on Friday, noted."},
            ],
        }
    )
    engine.create_knowledgebase({"knowledgebase_name": "guide"})
    note = "Hiking near Lisbon: start early, carry water for the dog."
    kb = engine.store.query("SELECT id FROM knowledgebases")[0][0]
    engine.add_knowledgebase_file(
        {
            "knowledgebase_id": kb,
            "file": [{"name": "hiking.txt", "content": base64.b64encode(note.encode()).decode()}],
        }
    )
    first = engine.get_memory({"user_id": "u1", "size": 50})["memory_detail_list"]
    edited = next(m for m in first if "green tea" in m["memory_value"])
    engine.update_memory({"memory_id": edited["id"], "content": "I like oolong tea."})


def main() -> None:
    assert INDEX_VERSION == 4, "run this with the code of index format 4"
    path = HERE / "format_4.db"
    path.unlink(missing_ok=True)
    engine = EmbeddedEngine(str(path), clock=lambda: datetime(2025, 9, 28, tzinfo=timezone.utc))
    write(engine)
    asked = requests()
    answers = [getattr(engine, name)(body) for name, body in asked]
    engine.store.query("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.close()
    recorded = {"requests": asked, "answers": answers}
    (HERE / "format_4.json").write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
