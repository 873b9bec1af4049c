"""Event memories in fast mode: a turn that dates what it tells ("Last Tuesday I met Ana")
becomes an event, with the time phrases it uses and the time it was said.

The cloud's event (``event_detail_list``) holds ``event_key`` (a title), ``event_value`` (what
happened), ``event_time`` (the times named, the message's ``chat_time`` first when it was sent),
``event_location`` and ``event_roles`` (who took part; here, who said it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from langchain_memos.embedded._candidate import Candidate
from langchain_memos.embedded._produce import text_of, turn_of
from langchain_memos.embedded._store import ID_LIST, SAME_SPEAKERS, Store
from langchain_memos.embedded._text import speaks_of_time, title
from langchain_memos.embedded._writer import new_id
from langchain_memos.types import SERVICE_TIMEZONE

__all__ = ["event_of", "time_phrases", "with_turn_context"]

# The turns around each event's turn: its fact's context column (same speakers, conversation
# and text).
_TURN_CONTEXT = (
    f"SELECT m.seq, f.ctx1 AS context FROM memories m JOIN memories n ON {SAME_SPEAKERS} "
    "AND n.kind = 'fact' AND n.text = json_extract(m.body, '$.event_value') "
    f"JOIN memories_fts f ON f.rowid = n.seq WHERE m.seq IN {ID_LIST}"
)


_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december)"
)
_PHRASE = re.compile(
    rf"\b(?:(?:last|next|this|on|every)\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|\b(?:(?:last|next|this|in|early|late)\s+)?{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?"
    rf"(?:,?\s+(?:19|20)\d\d)?"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?:19|20)\d\d)?"
    r"|\b(?:last|next|this)\s+(?:week(?:end)?|month|year|summer|winter|spring|autumn|fall)"
    r"|\b(?:a|one|two|three|four|five|six|\d+)\s+(?:days?|weeks?|months?|years?)\s+ago"
    r"|\b(?:yesterday|today|tonight|tomorrow)(?:\s+(?:morning|afternoon|evening|night))?"
    r"|\b(?:19|20)\d\d\b"
    r"|\d{4}年\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}月\d{1,2}[日号]"
    r"|(?:上|下|这)(?:个)?(?:周|星期|礼拜)[一二三四五六日天]?(?:上午|下午|晚上)?"
    r"|(?:上|下|这)个月|[前昨今明后]天(?:上午|下午|晚上)?|去年|明年|今年|周末|(?:七|八|九|十)?月底",
    re.IGNORECASE,
)


def time_phrases(text: str) -> list[str]:
    """The time phrases of ``text``, in order, each once."""
    return list(dict.fromkeys(match.group(0).strip() for match in _PHRASE.finditer(text)))


def event_of(
    message: Mapping[str, Any], conversation_id: str, stamp: int, said_at: datetime | None
) -> list[tuple[str, dict[str, Any]]]:
    """The event a user's or assistant's turn tells, if it dates it; else nothing."""
    turn = turn_of(message)
    text = text_of(message.get("content")).strip()
    if turn is None or not speaks_of_time(text):
        return []
    times = time_phrases(text)
    if not times:
        return []
    if said_at is not None:
        times.insert(0, said_at.astimezone(SERVICE_TIMEZONE).strftime("%Y-%m-%d %H:%M"))
    return [
        (
            "event",
            {
                "id": new_id(),
                "event_key": title(text),
                "event_value": text,
                "event_type": "EventMemory",
                "event_time": times,
                "event_location": [],
                "event_roles": [turn.speaker],
                "conversation_id": conversation_id,
                "create_time": stamp,
                "update_time": stamp,
                "status": "activated",
                "tags": ["mode:fast"],
            },
        )
    ]


def with_turn_context(store: Store, events: list[Candidate]) -> list[Candidate]:
    """Events with the turns said around their turn as context, so that relativity scores an
    event as it scores its turn's fact (an event is stored without neighbours of its own)."""
    if not events:
        return events
    rows = store.query(_TURN_CONTEXT, [json.dumps([event.seq for event in events])])
    context = {row["seq"]: row["context"] for row in rows}
    for event in events:
        event.context = context.get(event.seq) or event.context
    return events
