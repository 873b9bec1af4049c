"""The service's time: its zone (UTC+08:00), how it reads the times this package sends, and how
every timestamp it sends becomes a timezone-aware ``datetime``."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TypeAlias

from langchain_memos._exceptions import MemOSInputError

__all__ = ["SERVICE_TIMEZONE", "Timestamp", "format_service_time", "parse_timestamp"]

# The service documents naive timestamps ("2025-09-12 08:00:00") as Beijing time.
SERVICE_TIMEZONE: tzinfo = timezone(timedelta(hours=8), "Asia/Shanghai")

Timestamp: TypeAlias = int | float | str | None
"""Epoch milliseconds in practice; ISO-8601 or ``YYYY-MM-DD HH:MM:SS`` strings in the docs."""


def format_service_time(moment: datetime) -> str:
    """``moment`` as the service reads times: ``YYYY-MM-DD HH:MM:SS`` in :data:`SERVICE_TIMEZONE`.

    The one rule for every time this package sends (``chat_time``, filter bounds): an aware
    ``datetime`` is converted to the service's timezone (UTC+8); a naive one is taken as already
    in it, as the service itself reads naive times.

    Example:
        >>> format_service_time(datetime(2025, 12, 10, 0, 0, tzinfo=timezone.utc))
        '2025-12-10 08:00:00'
    """
    # Within hours of year 1 or 9999 the conversion overflows: the moment keeps its own offset.
    with suppress(OverflowError):
        if moment.tzinfo is not None:
            moment = moment.astimezone(SERVICE_TIMEZONE)
    # strftime's %Y does not pad a year before 1000 to four digits on every platform.
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}"


def checked_service_time(moment: datetime, what: str) -> str:
    """:func:`format_service_time` of a time a caller hands over (``what``): one that has no
    UTC+8 time (within hours of the end of year 9999 or the start of year 1) is refused, not
    sent at its own offset, which the service would read as another moment."""
    if moment.tzinfo is not None:
        try:
            moment.astimezone(SERVICE_TIMEZONE)
        except OverflowError:
            raise MemOSInputError(
                f"{what} {moment.isoformat()} has no time in the service's timezone (UTC+8)"
            ) from None
    return format_service_time(moment)


def parse_timestamp(value: Timestamp, *, naive_tz: tzinfo = SERVICE_TIMEZONE) -> datetime | None:
    """Turn any timestamp the service sends into a timezone-aware ``datetime``.

    Numbers (and numeric strings) above 10^11 are epoch milliseconds, smaller ones epoch seconds.
    Strings are ISO-8601 or ``YYYY-MM-DD HH:MM[:SS]``; naive ones are read in ``naive_tz``
    (Beijing time, as the service documents). Unparseable values give ``None``.

    Example:
        >>> parse_timestamp(1762674694466).isoformat()
        '2025-11-09T07:51:34.466000+00:00'
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=naive_tz)
    try:
        seconds = value / 1000 if abs(value) >= 1e11 else float(value)
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # out of datetime's range, or NaN
        return None
