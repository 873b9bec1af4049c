"""Memory ids of the embedded engine: valid UUIDs, in the order the memories were made."""

from __future__ import annotations

import uuid

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._bodies import read_id


def test_memory_ids_are_uuids_that_sort_in_the_order_memories_were_added() -> None:
    engine = EmbeddedEngine(":memory:")
    client = MemOSClient(embedded=engine)
    for k in range(30):
        client.add_message(
            [{"role": "user", "content": f"Note number {k} is about pottery."}],
            user_id="u1",
            conversation_id=f"c{k}",
            async_mode=False,
        )
    stored = [row["id"] for row in engine.store.query("SELECT id FROM memories ORDER BY seq")]
    ids = [read_id(value) for value in stored]
    engine.close()
    assert len(ids) == len(set(ids)) >= 30
    assert all(uuid.UUID(i).version == 7 and str(uuid.UUID(i)) == i for i in ids)
    assert ids == sorted(ids)
    assert all(isinstance(value, bytes) and len(value) == 16 for value in stored)  # format 9
