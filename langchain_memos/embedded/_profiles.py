"""Profiles: ``bind/profile_template``, ``edit/profile``, ``delete/profile``, and the
``profile`` view of search and get.

A template is bound to a user or an agent, which makes their (empty) profile; ``edit/profile``
sets fields (``{"Basic": {"City": {"value": "Porto", "algorithm_updatable": false}}}``, at most
three levels) and removes them by dotted path (``"Basic.City"``). Templates are designed in the
MemOS console, so the engine knows only the fields a profile was given. ``algorithm_updatable``
(true unless set false) says whether the engine may change the field from conversations: in fast
mode, a user turn saying ``my <field> is <value>`` (``我的<字段>是<值>``) updates that field.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from pydantic import Field
from typing_extensions import Self

from langchain_memos import _codes as codes
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_str_list, check_text
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._produce import text_of
from langchain_memos.embedded._request_base import Request
from langchain_memos.embedded._scope import Subject, subject_of
from langchain_memos.embedded._text import terms
from langchain_memos.embedded._writer import Writer

__all__ = ["BindProfileTemplate", "DeleteProfile", "EditProfile", "Profiles"]

MAX_DEPTH = 3
_STATES = [
    re.compile(
        r"\bmy\s+([\w ]{1,40}?)\s+is\s+(?:now\s+)?([^.,;!?\n]{1,80}?)(?=\s+and\s|[.,;!?\n]|$)",
        re.IGNORECASE,
    ),
    re.compile(r"我的(\w{1,10}?)(?:是|在)([^，。,.;；！!？?\n]{1,40})"),
]


# ---- the requests ---------------------------------------------------------------------------


class BindProfileTemplate(Request):
    route = "/bind/profile_template"
    writes = True

    bind_list: list[tuple[Subject, str]]

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        items = body.get("bind_list")
        if not isinstance(items, list) or not items:
            raise EngineError(codes.LIST_REQUIRED, "bind_list must be a non-empty list")
        bound = []
        for item in items:
            if not isinstance(item, Mapping) or set(item) - {
                "user_id",
                "agent_id",
                "profile_template_id",
            }:
                raise MemOSInputError(
                    "each bind_list item is {profile_template_id, user_id or agent_id}; got "
                    f"{item!r}"
                )
            template = check_text("profile_template_id", item.get("profile_template_id"))
            bound.append((subject_of(item), template))
        return cls(bind_list=bound)


class DeleteProfile(Request):
    """One subject's profile of one template; ``edit/profile`` adds what it changes."""

    route = "/delete/profile"
    writes = True

    user_id: str | None
    agent_id: str | None
    profile_template_id: str
    subject: Subject = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        subject = subject_of(body)
        template = check_text("profile_template_id", body.get("profile_template_id"))
        return cls(
            user_id=subject.user_id,
            agent_id=subject.agent_id,
            profile_template_id=template,
            subject=subject,
        )


class EditProfile(DeleteProfile):
    route = "/edit/profile"

    # path -> (value, algorithm_updatable, or None to keep it)
    metadata: dict[str, tuple[Any, bool | None]] = Field(default_factory=dict)
    remove_fields: list[str] = Field(default_factory=list)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        profile = DeleteProfile.read(body)
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise MemOSInputError(f"metadata must be a mapping; got {metadata!r}")
        removed = check_str_list("remove_fields", body.get("remove_fields")) or []
        if not metadata and not removed:
            raise MemOSInputError("edit/profile needs metadata or remove_fields")
        return cls(
            **profile.model_dump(),
            subject=profile.subject,
            metadata=_flatten(metadata or {}),
            remove_fields=removed,
        )


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, tuple[Any, bool | None]]:
    """``{"Basic": {"City": {"value": ...}}}`` as ``{"Basic.City": (value, updatable)}``: a leaf
    is a mapping with a ``value`` (and maybe ``algorithm_updatable``) or a plain value."""
    fields: dict[str, tuple[Any, bool | None]] = {}
    for name, node in tree.items():
        if not isinstance(name, str) or not name or "." in name:
            raise MemOSInputError(f"profile field names are non-empty, without dots; got {name!r}")
        path = f"{prefix}{name}"
        if isinstance(node, Mapping) and "value" in node:
            extra = set(node) - {"value", "algorithm_updatable"}
            updatable = node.get("algorithm_updatable")
            if extra or (updatable is not None and not isinstance(updatable, bool)):
                raise MemOSInputError(
                    f"profile field {path} is {{value, algorithm_updatable (a bool)}}; got {node!r}"
                )
            fields[path] = (node["value"], updatable)
        elif isinstance(node, Mapping):
            if path.count(".") + 2 > MAX_DEPTH:
                raise MemOSInputError(f"a profile nests at most {MAX_DEPTH} levels; {path} deeper")
            fields.update(_flatten(node, f"{path}."))
        else:
            fields[path] = (node, None)
    return fields


# ---- the endpoints --------------------------------------------------------------------------


class Profiles:
    """The profiles of users and agents, and the fields the engine may learn from their turns."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._store = writer.store  # its schema holds the profiles' tables

    def bind_profile_template(self, request: BindProfileTemplate) -> dict[str, Any]:
        now = self._writer.now_ms()
        with self._store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO profiles (subject, template_id, create_time) "
                "VALUES (?, ?, ?)",
                [(subject.key, template, now) for subject, template in request.bind_list],
            )
        return {"success": True}

    def edit_profile(self, request: EditProfile) -> dict[str, Any]:
        key, template = request.subject.key, request.profile_template_id
        now = self._writer.now_ms()
        with self._store.transaction() as db:
            self._require(db, key, template)
            for path in request.remove_fields:
                db.execute(
                    "DELETE FROM profile_fields WHERE subject = ? AND template_id = ? "
                    "AND (path = ? OR path LIKE ? ESCAPE '\\')",
                    (key, template, path, _escape(path) + ".%"),
                )
            for path, (value, updatable) in request.metadata.items():
                db.execute(
                    "INSERT INTO profile_fields (subject, template_id, path, value, "
                    "algorithm_updatable, update_time) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (subject, template_id, path) DO UPDATE SET "
                    "value = excluded.value, "
                    "algorithm_updatable = coalesce(?, algorithm_updatable), "
                    "update_time = excluded.update_time",
                    (
                        key,
                        template,
                        path,
                        json.dumps(value, ensure_ascii=False),
                        1 if updatable is not False else 0,
                        now,
                        None if updatable is None else int(updatable),
                    ),
                )
        return {"success": True}

    def delete_profile(self, request: DeleteProfile) -> dict[str, Any]:
        key, template = request.subject.key, request.profile_template_id
        with self._store.transaction() as db:
            self._require(db, key, template)
            for table in ("profile_fields", "profiles"):
                db.execute(
                    f"DELETE FROM {table} WHERE subject = ? AND template_id = ?", (key, template)
                )
        return {"success": True}

    @staticmethod
    def _require(db: sqlite3.Connection, key: str, template: str) -> None:
        found = db.execute(
            "SELECT 1 FROM profiles WHERE subject = ? AND template_id = ?", (key, template)
        ).fetchone()
        if found is None:
            raise EngineError(
                codes.BAD_REQUEST,
                f"Invalid request parameters: no profile of template {template} is bound to "
                f"{json.loads(key)[0]} {json.loads(key)[1]}; bind it with bind/profile_template",
            )

    # ---- the profile view ---------------------------------------------------------------

    def fields(self, subject: Subject, query: str | None = None, limit: int = 50) -> list[Any]:
        """The subject's profile fields as ``profile_detail_list`` items; for a ``query``, the
        ones sharing most of its words first, each with that share as its ``relativity``."""
        rows = self._store.query(
            "SELECT template_id, path, value, algorithm_updatable, update_time "
            "FROM profile_fields WHERE subject = ? ORDER BY template_id, path",
            (subject.key,),
        )
        items = [_item(subject, row) for row in rows]
        if query is None:
            return items[:limit]
        words = set(terms(query))
        for item in items:
            found = words & set(terms(item["memory"]))
            item["relativity"] = round(len(found) / len(words), 4) if words else 0.0
        return sorted(items, key=lambda item: -item["relativity"])[:limit]

    def learn(
        self, db: sqlite3.Connection, subject: Subject, messages: list[dict[str, Any]], now: int
    ) -> None:
        """Update the updatable fields the user's turns state a value for."""
        said = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        stated = [match for text in said for pattern in _STATES for match in pattern.finditer(text)]
        if not stated:
            return
        rows = db.execute(
            "SELECT template_id, path FROM profile_fields WHERE subject = ? "
            "AND algorithm_updatable = 1",
            (subject.key,),
        ).fetchall()
        for match in stated:
            name, value = match.group(1).strip().lower(), match.group(2).strip()
            for row in rows:
                if row["path"].rsplit(".", 1)[-1].lower() == name:
                    db.execute(
                        "UPDATE profile_fields SET value = ?, update_time = ? WHERE subject = ? "
                        "AND template_id = ? AND path = ?",
                        (json.dumps(value, ensure_ascii=False), now, subject.key, *row),
                    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _item(subject: Subject, row: sqlite3.Row) -> dict[str, Any]:
    value = json.loads(row["value"])
    path = row["path"]
    category, _, field = path.rpartition(".")
    return {
        "id": f"{subject.key}/{row['template_id']}/{path}",
        "memory": f"{path}: {value if isinstance(value, str) else json.dumps(value)}",
        "memory_type": "ProfileMemory",
        "template_id": row["template_id"],
        "profile_template_id": row["template_id"],
        "profile_category": category,
        "profile_field": field,
        "profile_path": path,
        "value": value,
        "status": "activated",
        "confidence": 1.0,
        "algorithm_updatable": bool(row["algorithm_updatable"]),
        "update_time": row["update_time"],
    }
