"""Whose memories a request reads or writes (a user, or an agent alone), and which memory views
it asks for.

A memory written with a ``user_id`` is that user's (its ``agent_id``, if any, is filterable
metadata); one written with an ``agent_id`` alone is the agent's own, which a user's search never
sees and an agent's search finds. Views are the cloud's memory categories: ``detail_factual``,
``preference``, ``tool_memory``, ``event``, ``skill`` and ``profile``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from langchain_memos import _codes as codes
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_bool, check_str_list
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._request_base import user_id_of

__all__ = ["VIEWS", "Subject", "owners_of", "subject_of", "views_of"]

# view -> (the engine's kind of memory, the key of its list in an answer)
VIEWS: dict[str, tuple[str, str]] = {
    "detail_factual": ("fact", "memory_detail_list"),
    "preference": ("preference", "preference_detail_list"),
    "tool_memory": ("tool", "tool_memory_detail_list"),
    "event": ("event", "event_detail_list"),
    "skill": ("skill", "skill_detail_list"),
    "profile": ("profile", "profile_detail_list"),
}


class Subject(BaseModel):
    """A user, or an agent alone: whose memories a read covers."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None
    agent_id: str | None

    @property
    def owner(self) -> tuple[str, str]:
        """The subject as an owner of memories: (its letter, its id), see _scope_tokens."""
        if self.user_id is not None:
            return "u", self.user_id
        return "a", str(self.agent_id)

    @property
    def key(self) -> str:
        """One text naming the subject (profiles are stored under it)."""
        if self.user_id is not None:
            return json.dumps(["user", self.user_id])
        return json.dumps(["agent", self.agent_id])

    def sql(self) -> tuple[str, list[Any]]:
        """SQL over ``memories m`` selecting the subject's own memories."""
        if self.user_id is not None:
            return "m.user_id = ?", [self.user_id]
        return "(m.user_id IS NULL AND m.knowledgebase_id IS NULL AND m.agent_id = ?)", [
            self.agent_id
        ]


def subject_of(body: Mapping[str, Any]) -> Subject:
    """The one ``user_id`` or ``agent_id`` of a read (both, or neither, is refused)."""
    user, agent = body.get("user_id"), body.get("agent_id")
    if user is not None and agent is not None:
        raise MemOSInputError("pass exactly one of user_id, agent_id; got both")
    if agent is not None:
        return Subject(user_id=None, agent_id=user_id_of(agent, "agent_id"))
    return Subject(user_id=user_id_of(user), agent_id=None)


def _ids(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not values:
        raise MemOSInputError(f"{name} must not be an empty list")
    ids = [user_id_of(item, name) for item in values]
    return list(dict.fromkeys(ids))


def owners_of(body: Mapping[str, Any]) -> list[tuple[str | None, str | None]]:
    """The (user, agent) pairs a write goes to: every listed user with every listed agent (or
    none), or, without users, every listed agent alone."""
    users, agents = _ids(body, "user_id"), _ids(body, "agent_id")
    if not users and not agents:
        raise EngineError(codes.FIELD_REQUIRED, "user_id or agent_id is required")
    if not users:
        return [(None, agent) for agent in agents]
    with_agents: list[str | None] = [*agents] if agents else [None]
    return [(user, agent) for user in users for agent in with_agents]


def views_of(
    body: Mapping[str, Any], name: str, default: list[str], switches: Mapping[str, bool | None]
) -> list[str]:
    """The views a request asks for, in ``VIEWS`` order.

    ``name`` (a list of view names), when given, names the views: it is the newer form of the
    switches, which the official SDK always sends with their defaults, so beside it only a
    switch that is off by default (``include_tool_memory``, ``include_skill``) adds its view
    when true. Without it: ``default``, each switch adding its view when true and removing it
    when false.
    """
    named = check_str_list(name, body.get(name))
    unknown = sorted(set(named or []) - set(VIEWS))
    if unknown:
        raise EngineError(
            codes.BAD_REQUEST,
            f"Invalid request parameters: unknown memory view {', '.join(map(repr, unknown))} "
            f"in {name}; the views are {', '.join(VIEWS)}",
        )
    if named is not None:
        added = {view for view, on in switches.items() if on is True and view != "preference"}
        return [view for view in VIEWS if view in named or view in added]
    chosen = set(default)
    for view, on in switches.items():
        if on is True:
            chosen.add(view)
        elif on is False:
            chosen.discard(view)
    return [view for view in VIEWS if view in chosen]


def switch(body: Mapping[str, Any], name: str) -> bool | None:
    return check_bool(name, body.get(name))
