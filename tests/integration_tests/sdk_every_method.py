"""Every public method of the official MemOS SDK's ``MemOSClient`` against a fresh server.

Run it with an interpreter that has the SDK (it needs nothing of this package)::

    python tests/integration_tests/sdk_every_method.py http://127.0.0.1:8765/api/openmem/v1 KEY

Each call is checked for what a user would look at in its answer; the calls that need a model
hosted by MemOS (chat, rerank, extraction by a named model) must fail with the documented error
envelope (``code`` non-zero, ``data`` null, a message saying why). Prints one JSON line: every
call's outcome by name, and ``ok`` when all passed. ``test_sdk_every_method.py`` runs it.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SKILL = """---
name: refund-request
description: How to file a refund request for a cancelled flight
---
1. Open the booking and choose "cancelled flight".
2. Ask for a refund to the original card; it arrives within 7 days.
"""


class Calls:
    """Runs each SDK call, and keeps whether its check passed (or why it failed)."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}

    def check(self, name: str, call: Callable[[], Any], verdict: Callable[[Any], bool]) -> Any:
        try:
            answer = call()
        except Exception as error:  # the SDK raises requests' HTTPError on an error status
            self.results[name] = f"raised {type(error).__name__}: {_body_of(error)}"
            return None
        try:
            passed = bool(verdict(answer))
        except Exception as error:  # a malformed answer fails the check, with the reason
            passed, answer = False, f"{type(error).__name__}: {error}"
        self.results[name] = True if passed else f"unexpected answer: {str(answer)[:300]}"
        return answer

    def refused(self, name: str, call: Callable[[], Any], words: str) -> None:
        """The call must fail with the error envelope, its message containing ``words``."""
        try:
            answer = call()
        except Exception as error:
            body = _body_of(error)
            envelope = isinstance(body, dict) and body.get("data") is None
            good = envelope and body.get("code") not in (0, None) and words in body["message"]
            self.results[name] = True if good else f"wrong refusal: {body}"
            return
        self.results[name] = f"answered instead of refusing: {str(answer)[:300]}"


def _body_of(error: Exception) -> Any:
    response = getattr(error, "response", None)
    if response is None:
        return str(error)
    try:
        return response.json()
    except ValueError:
        return response.text


def _dump(items: Any) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else item.model_dump() for item in items or []]


def every_method(base_url: str, api_key: str) -> dict[str, Any]:
    from memos.api.client import MemOSClient  # type: ignore[import-not-found,unused-ignore]

    client = MemOSClient(api_key=api_key, base_url=base_url)
    c = Calls()
    user, agent, conv = "every_user", "every_agent", "every_conv"
    turns = [
        {"role": "user", "content": "I prefer aisle seats on flights to Lisbon."},
        {"role": "assistant", "content": "Noted: aisle seats for Lisbon."},
        {
            "role": "user",
            "content": "Last Tuesday I met Ana at the Lisbon office to review the budget.",
            "chat_time": "2026-03-12 10:00:00",
        },
    ]
    added = c.check(
        "add_message",
        lambda: client.add_message(turns, user_id=user, conversation_id=conv, async_mode=False),
        lambda r: r.code == 0 and r.success and r.status == "completed",
    )
    c.check(
        "add_message(agent_id alone, no conversation)",
        lambda: client.add_message(
            [{"role": "user", "content": "The agent books trains through Trainline."}],
            agent_id=agent,
            async_mode=False,
        ),
        lambda r: r.code == 0 and r.success,
    )
    c.check(
        "add_message(user_id and agent_id lists)",
        lambda: client.add_message(
            [{"role": "user", "content": "Our team retro is on Friday afternoon."}],
            user_id=["every_a", "every_b"],
            agent_id=["every_agent_a"],
            conversation_id="team",
            async_mode=False,
        ),
        lambda r: r.code == 0 and r.success,
    )
    c.check(
        "add_message(allow_memory_view)",
        lambda: client.add_message(
            [{"role": "user", "content": "I have a cat named Miso."}],
            user_id="every_views",
            conversation_id="views",
            allow_memory_view=["preference"],
            async_mode=False,
        ),
        lambda r: r.code == 0 and r.success,
    )
    c.check(
        "get_task_status",
        lambda: client.get_task_status(added.task_id if added else "missing"),
        lambda r: r.code == 0 and r.data.status == "completed",
    )
    c.check(
        "search_memory",
        lambda: client.search_memory("aisle seats Lisbon", user_id=user),
        lambda r: (
            any("aisle" in str(m.get("memory_value")) for m in _dump(r.memories))
            and any("aisle" in str(p.get("preference")) for p in _dump(r.preferences))
        ),
    )
    c.check(
        "search_memory(agent_id alone)",
        lambda: client.search_memory("trains", agent_id=agent),
        lambda r: any("Trainline" in str(m.get("memory_value")) for m in _dump(r.memories)),
    )
    c.check(
        "search_memory(second user of a list)",
        lambda: client.search_memory("team retro", user_id="every_b"),
        lambda r: any("retro" in str(m.get("memory_value")) for m in _dump(r.memories)),
    )
    c.check(
        "search_memory(allow_memory_view kept facts out)",
        lambda: client.search_memory("cat Miso", user_id="every_views", relativity=0),
        lambda r: (
            _dump(r.memories) == []
            and [
                m.model_dump()["content"]
                for m in client.get_message(user_id="every_views", conversation_id="views").messages
            ]
            == ["I have a cat named Miso."]
        ),
    )
    c.check(
        "search_memory(include_memory_view event, context_format)",
        lambda: client.search_memory(
            "when did I meet Ana",
            user_id=user,
            include_memory_view=["event"],
            context_format="memory",
        ),
        lambda r: (
            _dump(r.memories) == []
            and any(
                "Ana" in str(e.get("event_value")) and e.get("event_time")
                for e in _dump(r.data.event_detail_list)
            )
        ),
    )
    c.refused(
        "search_memory(context_format json) refused",
        lambda: client.search_memory("Ana", user_id=user, context_format="json"),
        "context_format",
    )
    c.check(
        "search_memory(filter, include_tool_memory, limits)",
        lambda: client.search_memory(
            "aisle",
            user_id=user,
            conversation_id=conv,
            filter={"and": [{"tags": {"contains": "mode:fast"}}]},
            include_tool_memory=True,
            memory_limit_number=3,
            preference_limit_number=2,
            tool_memory_limit_number=2,
            relativity=0.1,
        ),
        lambda r: 0 < len(_dump(r.memories)) <= 3 and r.data.tool_memory_detail_list == [],
    )
    c.check(
        "get_message",
        lambda: client.get_message(user_id=user, conversation_id=conv),
        lambda r: [m.model_dump()["content"] for m in r.messages] == [t["content"] for t in turns],
    )
    c.check(
        "get_message(message_limit_number, conversation_limit_number, source)",
        lambda: client.get_message(
            user_id=user,
            conversation_id=conv,
            message_limit_number=1,
            conversation_limit_number=1,
            source="every-method",
        ),
        lambda r: [m.model_dump()["content"] for m in r.messages] == [turns[-1]["content"]],
    )
    listed = c.check(
        "get_memory",
        lambda: client.get_memory(user_id=user),
        lambda r: r.code == 0 and len(r.memories) == 3 and len(r.preferences or []) == 1,
    )
    c.check(
        "get_memory(agent_id alone)",
        lambda: client.get_memory(agent_id=agent),
        lambda r: len(r.memories) == 1,
    )
    c.check(
        "get_memory(include_memory_view, filter)",
        lambda: client.get_memory(
            user_id=user,
            include_memory_view=["event"],
            filter={"and": [{"tags": {"contains": "mode:fast"}}]},
        ),
        lambda r: r.memories == [] and len(r.data.event_detail_list or []) == 1,
    )
    first = _dump(listed.memories)[0]["id"] if listed else "missing"
    c.check(
        "get_memory_by_id",
        lambda: client.get_memory_by_id(first),
        lambda r: r["code"] == 0 and r["data"]["id"] == first,
    )
    c.check(
        "update_memory",
        lambda: client.update_memory(first, content="I prefer window seats now.", title="Seats"),
        lambda r: r["code"] == 0 and r["data"]["success"],
    )
    c.check(
        "add_feedback",
        lambda: client.add_feedback(
            user_id=user, conversation_id=conv, feedback_content="Actually I like window seats."
        ),
        lambda r: r.code == 0 and r.success,
    )
    c.check(
        "extract_memory",
        lambda: client.extract_memory([{"role": "user", "content": "I love green tea."}]),
        lambda r: r["code"] == 0 and r["data"]["preference_detail_list"],
    )
    c.refused(
        "extract_memory(model) refused",
        lambda: client.extract_memory([{"role": "user", "content": "Hi"}], model="memos-x"),
        "model",
    )
    c.refused("rerank refused", lambda: client.rerank("q", ["a", "b"], top_n=1), "model")
    c.refused(
        "chat refused",
        lambda: client.chat(user_id=user, conversation_id=conv, query="hi"),
        "model",
    )
    c.refused(
        "chat(stream) refused",
        lambda: list(client.chat(user_id=user, conversation_id=conv, query="hi", stream=True)),
        "model",
    )
    profiles(client, c)
    knowledge(client, c)
    deletes(client, c, user, agent)
    return {"ok": all(v is True for v in c.results.values()), "calls": c.results}


def profiles(client: Any, c: Calls) -> None:
    who, template = "every_profile_user", "tpl_traveller"
    c.check(
        "bind_profile_template",
        lambda: client.bind_profile_template(
            [
                {"user_id": who, "profile_template_id": template},
                {"agent_id": "every_agent", "profile_template_id": template},
            ]
        ),
        lambda r: r["code"] == 0 and r["data"]["success"],
    )
    c.check(
        "edit_profile",
        lambda: client.edit_profile(
            template,
            user_id=who,
            metadata={
                "Basic": {
                    "City": {"value": "Porto", "algorithm_updatable": False},
                    "Job": {"value": "pilot"},
                }
            },
        ),
        lambda r: r["code"] == 0 and r["data"]["success"],
    )
    c.check(
        "edit_profile(remove_fields)",
        lambda: client.edit_profile(template, user_id=who, remove_fields=["Basic.Job"]),
        lambda r: r["code"] == 0 and r["data"]["success"],
    )
    c.check(
        "add_message(a locked profile field stays)",
        lambda: client.add_message(
            [{"role": "user", "content": "My city is Madrid."}],
            user_id=who,
            conversation_id="moving",
            async_mode=False,
        ),
        lambda r: r.code == 0,
    )
    c.check(
        "search_memory(include_memory_view profile)",
        lambda: client.search_memory(
            "where does the user live", user_id=who, include_memory_view=["profile"]
        ),
        lambda r: (
            [(p["memory"], p["algorithm_updatable"]) for p in _dump(r.data.profile_detail_list)]
            == [("Basic.City: Porto", False)]
        ),
    )
    c.check(
        "get_memory(include_memory_view profile)",
        lambda: client.get_memory(user_id=who, include_memory_view=["profile"]),
        lambda r: [p["profile_path"] for p in _dump(r.data.profile_detail_list)] == ["Basic.City"],
    )
    c.check(
        "delete_profile",
        lambda: client.delete_profile(template, user_id=who),
        lambda r: r["code"] == 0 and r["data"]["success"],
    )
    c.check(
        "get_memory(profile deleted)",
        lambda: client.get_memory(user_id=who, include_memory_view=["profile"]),
        lambda r: _dump(r.data.profile_detail_list) == [],
    )


def knowledge(client: Any, c: Calls) -> None:
    created = c.check(
        "create_knowledgebase",
        lambda: client.create_knowledgebase("every_kb", "manuals"),
        lambda r: r.code == 0 and bool(r.knowledgebase_id),
    )
    kb = created.knowledgebase_id if created else "missing"
    doc = base64.b64encode(b"The Lisbon lounge opens at 5 am.").decode()
    skill = base64.b64encode(SKILL.encode()).decode()
    uploaded = c.check(
        "add_knowledgebase_file_json",
        lambda: client.add_knowledgebase_file_json(
            kb,
            [
                {"name": "lounge.md", "content": doc},
                {"name": "refund.md", "type": "skill", "content": skill},
            ],
        ),
        lambda r: [f["status"] for f in r.data] == ["completed", "completed"],
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baggage.txt"
        path.write_text("Each passenger may check one bag of 23 kg.")
        c.check(
            "add_knowledgebase_file_form",
            lambda: client.add_knowledgebase_file_form(kb, [str(path)]),
            lambda r: len(r.data) == 1,
        )
    c.check(
        "get_knowledgebase_file(knowledgebase_id, type)",
        lambda: client.get_knowledgebase_file(
            knowledgebase_id=kb, type="skill", page=1, page_size=10
        ),
        lambda r: [f.model_dump()["name"] for f in r.files] == ["refund.md"],
    )
    ids = [f["id"] for f in uploaded.data] if uploaded else ["missing"]
    c.check(
        "get_knowledgebase_file(file_ids)",
        lambda: client.get_knowledgebase_file(file_ids=ids),
        lambda r: len(r.files) == 2,
    )
    c.check(
        "search_memory(knowledgebase, include_skill)",
        lambda: client.search_memory(
            "refund for a cancelled flight",
            user_id="every_user",
            knowledgebase_ids=[kb],
            include_skill=True,
            skill_limit_number=2,
        ),
        lambda r: (
            [s["skill_value"]["name"] for s in _dump(r.data.skill_detail_list)]
            == ["refund-request"]
        ),
    )
    c.check(
        "delete_knowledgebase_file",
        lambda: client.delete_knowledgebase_file(ids[1:]),
        lambda r: r.success,
    )
    c.check(
        "search_memory(skill file deleted)",
        lambda: client.search_memory(
            "refund", user_id="every_user", knowledgebase_ids=[kb], include_skill=True
        ),
        lambda r: _dump(r.data.skill_detail_list) == [],
    )
    c.check("delete_knowledgebase", lambda: client.delete_knowledgebase(kb), lambda r: r.success)


def deletes(client: Any, c: Calls, user: str, agent: str) -> None:
    def count(**scope: Any) -> int:
        return len(client.get_memory(**scope).memories)

    c.check(
        "delete_memory(filter)",
        lambda: client.delete_memory(filter={"and": [{"agent_id": "every_agent_a"}]}),
        lambda r: r.success and count(user_id="every_a") == 0 and count(user_id=user) > 0,
    )
    c.check(
        "delete_memory(user_id, memory_type)",
        lambda: client.delete_memory(user_id=user, memory_type="PreferenceMemory"),
        lambda r: r.success and not client.get_memory(user_id=user).preferences,
    )
    c.check(
        "delete_memory(agent_id)",
        lambda: client.delete_memory(agent_id=agent),
        lambda r: r.success and count(agent_id=agent) == 0,
    )
    c.check(
        "delete_memory(user_ids)",
        lambda: client.delete_memory(user_ids=[user]),
        lambda r: r.success and count(user_id=user) == 0,
    )
    c.refused(
        "delete_memory(unknown memory_ids) refused",
        lambda: client.delete_memory(memory_ids=["no-such-memory"]),
        "exists",
    )


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write(__doc__ or "")
        return 2
    logging.disable(logging.WARNING)
    report = every_method(argv[1], argv[2])
    sys.stdout.write(json.dumps(report) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
