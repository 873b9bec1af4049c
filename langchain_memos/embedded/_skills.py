"""Skills: a knowledge base file of ``type: "skill"`` (a ``SKILL.md``-style markdown file with
``name`` and ``description`` in its front matter) becomes one skill memory, which
``search/memory`` recalls into ``skill_detail_list`` with ``include_skill`` (or the ``skill``
view) from the knowledge bases it searches.

Zipped skill packages need the MemOS cloud: the engine reads the markdown file alone.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_memos import _codes as codes
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._writer import new_id

__all__ = ["skill_memory"]

MAX_SKILL_BYTES = 100 * 1024
_FRONT_MATTER = re.compile(r"\A---\s*\n(?P<head>.*?)\n---\s*(?:\n|\Z)(?P<body>.*)\Z", re.DOTALL)


def skill_memory(name: str, data: bytes, text: str, file_id: str, now: int) -> dict[str, Any]:
    """The skill a markdown file describes; a file that is not one is refused, naming why."""
    if not name.lower().endswith(".md"):
        raise EngineError(
            codes.BAD_FILE,
            f"a skill file is markdown (.md) in the embedded engine; {name} needs the MemOS cloud",
        )
    if len(data) > MAX_SKILL_BYTES:
        raise EngineError(codes.BAD_FILE, f"a skill file is at most 100 KB; {name} is larger")
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    head = _fields(match["head"]) if match else {}
    if not head.get("name") or not head.get("description"):
        raise EngineError(
            codes.BAD_FILE,
            f"{name} is not a skill: its front matter (between --- lines) must give a name and "
            "a description",
        )
    procedure = match["body"].strip() if match else ""
    return {
        "id": new_id(),
        "skill_value": {
            "name": head["name"],
            "description": head["description"],
            "procedure": procedure,
            "experience": [],
            "preference": [],
            "examples": [],
            "script": {},
            "others": {},
        },
        "skill_type": "SkillFile",
        "skill_url": None,
        "conversation_id": "default_session",
        "status": "activated",
        "confidence": 1.0,
        "tags": ["knowledgebase", "skill", name],
        "create_time": now,
        "update_time": now,
        "sources": [{"file_id": file_id, "name": name}],
    }


def _fields(head: str) -> dict[str, str]:
    fields = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t")):
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields
