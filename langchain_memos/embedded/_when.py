"""The time a question is about: "on May 3, 2023", "in 2023", "last May", "yesterday", "去年"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NamedTuple

from langchain_memos.embedded._text import MONTHS, epoch_ms
from langchain_memos.types import SERVICE_TIMEZONE

# What is told of a day is often told a few days later ("last weekend we ..."): a memory from up
# to this long after the time a question names is still about it.
TOLD_WITHIN = timedelta(days=14)

_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_PATTERNS = [
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)),
    ("day", re.compile(r"(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]")),
    ("month", re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)),
    ("month", re.compile(r"(?P<year>\d{4})年(?P<month>\d{1,2})月")),
    ("last_month_name", re.compile(rf"\blast\s+{_MONTH}\b", re.IGNORECASE)),
    # A month without its year is its latest ("What did I buy in August?", "8月买了什么"): after
    # in/during/since (not "of April's dog", "this may sound"), not a name's ("May's"), not an
    # age (6月龄, 6个月大).
    (
        "recent_month",
        re.compile(rf"\b(?P<since>in|during|since)\s+{_MONTH}\b(?!['\u2019])", re.IGNORECASE),
    ),
    ("recent_month", re.compile(r"(?<![\d年])(?P<month>\d{1,2})月(?![\d日号龄大])")),
    ("year", re.compile(rf"\b(?:in|during|of|since)\s+{_YEAR}\b|(?P<cn>\d{{4}})年", re.IGNORECASE)),
]
_RELATIVE = [
    (re.compile(r"\byesterday\b|昨天", re.IGNORECASE), 1, 1),
    (re.compile(r"前天"), 2, 2),
    (re.compile(r"\btoday\b|\btonight\b|今天", re.IGNORECASE), 0, 0),
    # Last weekend lies within the nine days before today whatever today is; most of last week.
    (re.compile(r"\blast\s+(?:week|weekend)\b|上周|上个?星期|上个?周末", re.IGNORECASE), 9, 9),
]
_WEEKDAYS = frozenset(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
_CN_DATE = frozenset("年月日号")
_LAST_MONTH = re.compile(r"\blast\s+month\b|上个月", re.IGNORECASE)
_LAST_YEAR = re.compile(r"\blast\s+year\b|去年", re.IGNORECASE)


class Named(NamedTuple):
    """A time a question names: the window search favours (to ``TOLD_WITHIN`` after its end),
    the span itself (epoch ms, end excluded), and the words that name it ("August 2025",
    "2025年9月", "yesterday")."""

    window: tuple[int, int]
    span: tuple[int, int]
    words: str


def time_window(question: str, now: datetime) -> tuple[int, int] | None:
    """The span (epoch ms, from the start of the time named to ``TOLD_WITHIN`` after its end)
    of the first date, month, year or relative time a question names; ``None`` if it names none.
    Relative times count back from ``now``."""
    named = named_time(question, now)
    return None if named is None else named.window


def named_time(question: str, now: datetime) -> Named | None:
    """The first date, month, year or relative time a question names (see :func:`time_window`);
    ``None`` too when ``now`` is so near the ends of the calendar (an engine's injected clock)
    that the time would fall outside it."""
    try:
        return _first_named(question, now)
    except (OverflowError, ValueError):  # "yesterday" on 0001-01-01, 去年 in year 1
        return None


def _first_named(question: str, now: datetime) -> Named | None:
    local = now.astimezone(SERVICE_TIMEZONE)
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match is None:
            continue
        span = _span(kind, match, local)
        if span is not None:
            try:
                return _named(*span, match.group())
            except OverflowError:  # "9999年12月31日", "0001年": no time to favour there
                continue
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for pattern, back, length in _RELATIVE:
        if found := pattern.search(question):
            start = today - timedelta(days=back)
            return _named(start, start + timedelta(days=max(length, 1)), found.group())
    if found := _LAST_MONTH.search(question):
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return _named(_at(year, month, 1), _next_month(year, month), found.group())
    if found := _LAST_YEAR.search(question):
        return _named(_at(local.year - 1, 1, 1), _at(local.year, 1, 1), found.group())
    return None


def dateish(term: str) -> bool:
    """Whether a search term is part of a date wherever it stands: a number, a weekday
    ("sundays") or a Chinese date character (年, 月, 日, 号). A month's name is one only in the
    time a question names: April and June are people too, and "may" a verb."""
    return term.isdigit() or term.rstrip("s") in _WEEKDAYS or term in _CN_DATE


def _named(start: datetime, end: datetime, words: str) -> Named:
    span = epoch_ms(start), epoch_ms(end)
    return Named((span[0], epoch_ms(end + TOLD_WITHIN)), span, words)


def _month(value: str) -> int | None:
    return int(value) if value.isdigit() else MONTHS.get(value.lower().rstrip("."))


def _span(kind: str, match: re.Match[str], now: datetime) -> tuple[datetime, datetime] | None:
    try:
        if kind == "year":
            year = int(match["year"] or match["cn"])
            return _at(year, 1, 1), _at(year + 1, 1, 1)
        month = _month(match["month"])
        if month is None:
            return None
        if kind == "last_month_name":
            year = now.year if month < now.month else now.year - 1
            return _at(year, month, 1), _next_month(year, month)
        if kind == "recent_month":
            if match["month"].lower() == "may" and match["month"] != "May":
                return None  # "in may" is rarely the month, written lower-case
            year = now.year if month <= now.month else now.year - 1
            since = (match.groupdict().get("since") or "").lower() == "since"
            return _at(year, month, 1), now if since else _next_month(year, month)
        year = int(match["year"])
        if kind == "month":
            return _at(year, month, 1), _next_month(year, month)
        start = _at(year, month, int(match["day"]))
        return start, start + timedelta(days=1)
    except (ValueError, OverflowError):  # no such date, or past year 9999
        return None  # "February 30, 2023"


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=SERVICE_TIMEZONE)


def _next_month(year: int, month: int) -> datetime:
    return _at(year + month // 12, month % 12 + 1, 1)
