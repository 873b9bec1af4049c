"""The official MemOS SDK (``MemOSClient`` of the PyPI package ``MemoryOS``) against a server.

Run it with an interpreter that has the SDK (it needs nothing of this package)::

    python tests/integration_tests/sdk_roundtrip.py http://127.0.0.1:8765/api/openmem/v1 [KEY]

It adds a conversation, searches it, reads the messages back, lists, fetches and deletes the
memories, then uploads a file to a knowledge base and searches it, all through the SDK's own
methods; it checks every answer, and prints one JSON report line
(``{"ok": true, ...}``); the exit status is 1 when a check fails. ``test_sdk_compat.py`` runs it
against ``python -m langchain_memos serve``'s server.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any


def roundtrip(base_url: str, api_key: str) -> dict[str, Any]:
    """Every check's outcome by name, and what the SDK returned where it helps a reader."""
    # Imported here, so that this module loads without the SDK (for mypy, and for the usage).
    from memos.api.client import MemOSClient  # type: ignore[import-not-found,unused-ignore]

    client = MemOSClient(api_key=api_key, base_url=base_url)
    user, conversation = "sdk_user", "sdk_conversation"
    messages = [
        {"role": "user", "content": "I prefer window seats on long flights to Tokyo."},
        {"role": "assistant", "content": "Noted: window seats for your Tokyo flights."},
    ]
    checks: dict[str, Any] = {}

    added = client.add_message(
        messages, user_id=user, conversation_id=conversation, async_mode=False
    )
    checks["add_message"] = added.code == 0 and added.success and bool(added.task_id)

    found = client.search_memory("window seats Tokyo flights", user_id=user)
    facts = [memory.model_dump() for memory in found.memories]
    checks["search_memory"] = found.code == 0 and any(
        "window seats" in str(fact.get("memory_value")) for fact in facts
    )
    checks["search_preferences"] = any(
        "window seats" in str(p.model_dump().get("preference")) for p in found.preferences or []
    )

    history = client.get_message(user_id=user, conversation_id=conversation)
    stored = [(m.model_dump()["role"], m.model_dump()["content"]) for m in history.messages]
    checks["get_message"] = stored == [(m["role"], m["content"]) for m in messages]

    listed = client.get_memory(user_id=user)
    ids = [memory.model_dump()["id"] for memory in listed.memories]
    checks["get_memory"] = listed.code == 0 and len(ids) == 2 and listed.data.total == 2

    one: dict[str, Any] = client.get_memory_by_id(ids[0]) if ids else {}
    checks["get_memory_by_id"] = one.get("code") == 0 and one["data"]["id"] == ids[0]

    deleted = client.delete_memory(memory_ids=ids)
    checks["delete_memory"] = deleted.code == 0 and deleted.success
    after = client.get_memory(user_id=user)
    checks["deleted"] = [memory.model_dump()["id"] for memory in after.memories] == []

    # Beyond the five: a knowledge base, with a file uploaded as multipart form data.
    kb = client.create_knowledgebase("sdk_kb").knowledgebase_id
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lounge.md"
        path.write_text("The airport lounge opens at 5 am for business class passengers.")
        uploaded = client.add_knowledgebase_file_form(kb, [str(path)])
    checks["add_knowledgebase_file_form"] = uploaded.code == 0 and len(uploaded.data) == 1
    in_kb = client.search_memory("airport lounge", user_id=user, knowledgebase_ids=[kb])
    checks["search_knowledgebase"] = any(
        "lounge" in str(memory.model_dump().get("memory_value")) for memory in in_kb.memories
    )
    checks["delete_knowledgebase"] = client.delete_knowledgebase(kb).success
    checks.update(narrow_deletes(client, messages))
    return {"ok": all(checks.values()), "checks": checks, "facts_found": len(facts)}


def narrow_deletes(client: Any, messages: list[dict[str, str]]) -> dict[str, bool]:
    """A delete narrowed by memory_type deletes that type only; a field the server would ignore
    fails the call and changes nothing."""
    user, conversation = "sdk_narrow_user", "sdk_narrow_conversation"
    client.add_message(messages, user_id=user, conversation_id=conversation, async_mode=False)

    def kinds() -> tuple[int, int]:
        listed = client.get_memory(user_id=user)
        return len(listed.memories), len(listed.preferences or [])

    checks: dict[str, bool] = {}
    before = kinds()
    checks["memories_to_narrow"] = before[0] > 0 and before[1] > 0
    # Fast-mode facts are WorkingMemory: no long-term memory to delete, so nothing goes.
    checks["delete_long_term_memory"] = (
        _succeeds(lambda: client.delete_memory(user_id=user, memory_type="LongTermMemory"))
        and kinds() == before
    )
    checks["delete_preference_memory"] = _succeeds(
        lambda: client.delete_memory(user_id=user, memory_type="PreferenceMemory")
    ) and kinds() == (before[0], 0)
    try:
        client.add_message(
            messages,
            user_id=user,
            conversation_id="sdk_refused",
            allow_knowledgebase_ids=["some_kb"],
        )
        checks["unimplemented_field_refused"] = False
    except Exception:  # the SDK raises requests' HTTPError on the 400
        history = client.get_message(user_id=user, conversation_id="sdk_refused")
        checks["unimplemented_field_refused"] = history.messages == []
    return checks


def _succeeds(call: Any) -> bool:
    try:
        return bool(call().success)
    except Exception:  # the SDK raises requests' HTTPError on an error status
        return False


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__ or "")
        return 2
    # The SDK logs every retry at ERROR and MemOS logs its configuration at import; keep stdout
    # for the report.
    logging.disable(logging.WARNING)
    report = roundtrip(argv[1], argv[2] if len(argv) == 3 else "no-key-needed")
    sys.stdout.write(json.dumps(report) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
