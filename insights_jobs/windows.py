"""Date windows in each ad account's own timezone (Meta dates insights in the account's timezone). The `Window`
type itself is shared by every room (`dates/`)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dates import Window

log = logging.getLogger(__name__)

# Meta keeps insights for 37 months; older ranges fail, so they are clamped (with a warning) before asking.
RETENTION_MONTHS = 37


def account_today(timezone_name: str, now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    try:
        tz = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown account timezone %r, using UTC", timezone_name)
        tz = ZoneInfo("UTC")
    return now.astimezone(tz).date()


def months_before(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + (d.month - 1) - months, 12)
    m += 1
    # clamp the day for short months (31 March - 1 month = 28/29 February)
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def oldest_available(today: date) -> date:
    return months_before(today, RETENTION_MONTHS) + timedelta(days=1)


def restatement_window(timezone_name: str, days: int, now: datetime | None = None) -> Window:
    """The trailing `days` days ending yesterday in the account's timezone: the nightly re-pull."""
    if days < 1:
        raise ValueError("the restatement window has at least one day")
    end = account_today(timezone_name, now) - timedelta(days=1)
    return Window(end - timedelta(days=days - 1), end)


def clamp_window(window: Window, timezone_name: str, now: datetime | None = None) -> Window | None:
    """The part of `window` Meta can still serve: not before 37 months ago, not after today in the account's
    timezone. None when nothing is left."""
    today = account_today(timezone_name, now)
    start, end = window.start, min(window.end, today)
    floor = oldest_available(today)
    if start < floor:
        log.warning("window starts %s, before Meta's 37-month limit; clamped to %s", start, floor)
        start = floor
    if end < start:
        return None
    return Window(start, end)
