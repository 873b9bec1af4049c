"""The recalled items as the lines of a memory prompt, and how near-duplicates are recognised.

:mod:`langchain_memos.prompts` selects among these lines and renders them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from langchain_memos._prompt_templates import EVENT_LABELS, LABELS, Kind, Language
from langchain_memos.types import (
    SERVICE_TIMEZONE,
    EventDetail,
    SearchMemoryResult,
    parse_timestamp,
)

__all__ = ["MemoryLine", "events_over_facts", "memory_lines", "memory_signature", "similar"]


@dataclass(frozen=True)
class MemoryLine:
    """One recalled item as the prompt shows it."""

    kind: Kind
    text: str
    relevance: float
    time: datetime | None
    id: str | None = None
    label: str = ""  # a preference's kind, an event's time and place, in the prompt's language

    def render(self, zone: tzinfo) -> str:
        stamp = f"[{self.time.astimezone(zone):%Y-%m-%d %H:%M}] " if self.time else ""
        label = f"{self.label} " if self.label else ""
        return f"    -{stamp}{label}{self.text}"


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MARKER = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")


def tool_value_text(value: object) -> str:
    """A tool memory's ``tool_value`` as text: a string as it is, a schema (the cloud sends a
    dict) as JSON, nothing as ""."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if value else ""


def memory_signature(text: str) -> frozenset[str]:
    """The words of a memory, without its viewpoint marker: what near-duplicates share."""
    text = _MARKER.sub("", text).lower()
    words: list[str] = []
    for token in _WORD.findall(text):
        if any(ord(c) > 0x2E80 for c in token):
            words += [token[i : i + 2] for i in range(max(1, len(token) - 1))]
        else:
            words.append(token)
    return frozenset(words)


def similar(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    """Whether two signatures overlap at least ``threshold`` (Jaccard)."""
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= threshold


def events_over_facts(lines: Sequence[MemoryLine], threshold: float) -> list[MemoryLine]:
    """``lines`` without the facts an event says again, each such event taking the higher of
    their relevances: MemOS may keep a dated turn as both, and the event also says when."""
    events = [
        (i, memory_signature(line.text)) for i, line in enumerate(lines) if line.kind == "event"
    ]
    if not events:
        return list(lines)
    relevance = {i: lines[i].relevance for i, _ in events}
    told: set[int] = set()
    for i, line in enumerate(lines):
        if line.kind != "fact":
            continue
        signature = memory_signature(line.text)
        twin = next((j for j, seen in events if similar(signature, seen, threshold)), None)
        if twin is not None:
            told.add(i)
            relevance[twin] = max(relevance[twin], line.relevance)
    return [
        replace(line, relevance=relevance[i]) if i in relevance else line
        for i, line in enumerate(lines)
        if i not in told
    ]


def _flat(text: str) -> str:
    return " ".join(text.split())


_SERVICE_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")


def _when(said: str, zone: tzinfo) -> str:
    """An event's time as said; a service timestamp ("2025-06-10 09:30") shown in ``zone``."""
    if _SERVICE_MINUTE.match(said.strip()):
        moment = parse_timestamp(said.strip())
        if moment is not None:
            return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"
    return _flat(said)


def _event_label(event: EventDetail, language: Language, zone: tzinfo) -> str:
    words = EVENT_LABELS[language]
    parts = []
    times = [_when(t, zone) for t in event.event_time if t and t.strip()]
    if times:
        parts.append(words["when"] + words["list"].join(dict.fromkeys(times)))
    places = [_flat(p) for p in event.event_location if p and p.strip()]
    if places:
        parts.append(words["where"] + words["list"].join(places))
    return f"[{words['between'].join(parts)}]" if parts else ""


def memory_lines(
    result: SearchMemoryResult, language: Language, zone: tzinfo = SERVICE_TIMEZONE
) -> list[MemoryLine]:
    """Every recalled item of ``result`` with some text, labelled in ``language``; an event's
    service timestamps are shown in ``zone``, as the prompt's other times."""
    lines = [
        MemoryLine(
            "fact",
            _flat(m.memory_value or m.memory_key or ""),
            m.relativity or 0.0,
            m.created_at or m.updated_at,
            m.id,
        )
        for m in result.memory_detail_list
    ]
    labels = LABELS[language]
    lines += [
        MemoryLine(
            "preference",
            _flat(p.preference or ""),
            p.relativity or 0.0,
            p.created_at or p.updated_at,
            p.id,
            labels.get(p.preference_type or "", ""),
        )
        for p in result.preference_detail_list
    ]
    lines += [
        MemoryLine(
            "profile",
            _flat(p.memory or p.profile_path or ""),
            p.relativity or 0.0,
            p.updated_at or p.created_at,
            p.id,
        )
        for p in result.profile_detail_list
    ]
    lines += [
        MemoryLine(
            "event",
            _flat(e.event_value or e.event_key or ""),
            e.relativity or 0.0,
            e.created_at or e.updated_at,
            e.id,
            _event_label(e, language, zone),
        )
        for e in result.event_detail_list
    ]
    for tool in result.tool_memory_detail_list:
        text = _flat(tool.experience or tool_value_text(tool.tool_value))
        lines.append(MemoryLine("tool", text, tool.relativity or 0.0, tool.created_at, tool.id))
    for skill in result.skill_detail_list:
        about = skill.skill_value
        text = ": ".join(p for p in (about.name, about.description) if p) if about else ""
        lines.append(
            MemoryLine("skill", _flat(text), skill.relativity or 0.0, skill.created_at, skill.id)
        )
    return [line for line in lines if line.text]
