"""Refusing what an endpoint of the embedded engine does not implement.

A write must never do something other than what was asked: a field the engine would ignore can
widen what it changes (``delete/memory`` with ``memory_type`` deleting every type). A read that
ignored a field would answer another question than the one asked (a view it does not make, a
limit it does not apply). So every endpoint refuses any field with a value that its request model
(``_requests``) does not read, before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Mapping

from langchain_memos._exceptions import MemOSInputError

__all__ = ["MEMORY_TYPES", "refuse_unimplemented"]

# Sent by the official SDK, CLI and plugins on any call: a channel tag for the service's own
# statistics, which changes nothing in the memories.
_EVERYWHERE = frozenset({"source"})

# What to do instead, for the fields callers are known to send.
_INSTEAD = {
    "allow_knowledgebase_ids": "add the text to the knowledge base as a file instead",
}

MEMORY_TYPES: dict[str, tuple[str, str | None]] = {
    # memory_type -> (the engine's kind of memory, the value of the body field naming the type)
    **{
        name: ("fact", name)
        for name in ("WorkingMemory", "LongTermMemory", "UserMemory", "OuterMemory")
    },
    "PreferenceMemory": ("preference", None),
    **{name: ("tool", name) for name in ("ToolTrajectoryMemory", "ToolSchemaMemory")},
    "SkillMemory": ("skill", None),
    "EventMemory": ("event", None),
}


def refuse_unimplemented(
    route: str, body: Mapping[str, object], implemented: frozenset[str]
) -> None:
    """Raise :class:`MemOSInputError` naming every field of ``body`` that ``route`` would ignore:
    any not ``implemented``.

    JSON ``null`` and an empty list ask for nothing, and pass: the official SDK sends ``null`` for
    every option left unset.
    """
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
