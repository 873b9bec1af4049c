"""The request fields each data-changing endpoint of the embedded engine implements.

A write must never do something other than what was asked: a field the engine would ignore can
widen what it changes (``delete/memory`` with ``memory_type`` deleting every type). So every
endpoint that changes data names the fields it implements, and any other field with a value is
refused before anything is written. Endpoints that only read are not listed: what they ignore
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from langchain_memos._exceptions import MemOSInputError

__all__ = ["MEMORY_TYPES", "refuse_unimplemented"]

# Sent by the official SDK, CLI and plugins on any call: a channel tag for the service's own
# statistics, which changes nothing in the memories.
_EVERYWHERE = frozenset({"source"})

_WRITE_FIELDS: dict[str, frozenset[str]] = {
    "/add/message": frozenset(
        {
            "user_id",
            "conversation_id",
            "messages",
            "agent_id",
            "app_id",
            "tags",
            "info",
            "allow_public",
            "async_mode",
        }
    ),
    "/add/feedback": frozenset(
        {
            "user_id",
            "conversation_id",
            "feedback_content",
            "feedback_time",
            "agent_id",
            "app_id",
            "allow_public",
        }
    ),
    "/delete/memory": frozenset({"memory_ids", "user_id", "agent_id", "memory_type"}),
    "/update/memory": frozenset({"memory_id", "content", "title", "status"}),
    "/create/knowledgebase": frozenset({"knowledgebase_name", "knowledgebase_description"}),
    "/delete/knowledgebase": frozenset({"knowledgebase_id"}),
    "/add/knowledgebase-file": frozenset({"knowledgebase_id", "file", "type"}),
    "/delete/knowledgebase-file": frozenset({"file_ids"}),
}

# What to do instead, for the fields callers are known to send.
_INSTEAD = {
    "allow_knowledgebase_ids": "add the text to the knowledge base as a file instead",
    "filter": "find the memories with get/memory or search/memory and that filter, then delete "
    "them by memory_ids",
}

MEMORY_TYPES: dict[str, tuple[str, str | None]] = {
    # memory_type -> (the engine's kind of memory, the value of the body field naming the type)
    **{
        name: ("fact", name)
        for name in ("WorkingMemory", "LongTermMemory", "UserMemory", "OuterMemory")
    },
    "PreferenceMemory": ("preference", None),
    **{name: ("tool", name) for name in ("ToolTrajectoryMemory", "ToolSchemaMemory")},
    # The engine makes no skills: a valid type of which it holds none.
    "SkillMemory": ("skill", None),
}


def refuse_unimplemented(route: str, body: Mapping[str, object]) -> None:
    """Raise :class:`MemOSInputError` naming every field of ``body`` that ``route`` would ignore.

    JSON ``null`` and an empty list ask for nothing, and pass: the official SDK sends ``null`` for
    every option left unset.
    """
    implemented = _WRITE_FIELDS.get(route)
    if implemented is None:
        return
    ignored = sorted(
        name
        for name, value in body.items()
        if name not in implemented and name not in _EVERYWHERE and value not in (None, [])
    )
    if not ignored:
        return
    hints = "".join(f"; {name}: {_INSTEAD[name]}" for name in ignored if name in _INSTEAD)
    raise MemOSInputError(
        f"{route[1:]} does not implement {', '.join(ignored)} in the embedded engine, and refuses "
        f"the request rather than ignore it (it implements {', '.join(sorted(implemented))})"
        f"{hints}"
    )
