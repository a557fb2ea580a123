"""Billing months: their boundaries in a provider's time zone, their length, and date arithmetic.

An SLA is measured per month. The month's boundaries are midnights in the provider's billing
time zone (UTC unless the term says otherwise), converted to UTC instants, so a month in
``America/Los_Angeles`` that contains a daylight-saving change is an hour shorter or longer.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rules.sla.intervals import Interval

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@lru_cache(maxsize=32)
def zone(name: str) -> tzinfo:
    """The IANA time zone ``name``; a clear error when it does not exist.

    UTC needs no zone database, so terms in UTC load even where the system has no zone files.
    """
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'UTC' or "
            "'America/Los_Angeles' (install the tzdata package if the system has no zone files)"
        ) from exc


@dataclass(frozen=True, order=True)
class BillingMonth:
    """One month of one year, e.g. ``BillingMonth(2026, 6)``; ``str()`` gives ``"2026-06"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not between 1 and 12")
        if not 1970 <= self.year <= 9998:
            raise ValueError(f"year {self.year} is outside 1970..9998")

    @classmethod
    def parse(cls, text: str) -> BillingMonth:
        """Read ``"YYYY-MM"``."""
        match = _MONTH_RE.match(text.strip())
        if not match:
            raise ValueError(f"month {text!r} is not in YYYY-MM form (for example '2026-06')")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime, timezone: str = "UTC") -> BillingMonth:
        """The month that contains ``moment`` in ``timezone``."""
        local = moment.astimezone(zone(timezone))
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """``"June 2026"``."""
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def days(self) -> int:
        """Calendar days in the month."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        """The month's first calendar day."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The month's last calendar day."""
        return date(self.year, self.month, self.days)

    def add(self, months: int) -> BillingMonth:
        """The month ``months`` later (or earlier, when negative)."""
        index = self.year * 12 + (self.month - 1) + months
        return BillingMonth(index // 12, index % 12 + 1)

    def bounds(self, timezone: str = "UTC") -> Interval:
        """The month as UTC instants: local midnight on the 1st to local midnight a month on."""
        tz = zone(timezone)
        nxt = self.add(1)
        start = datetime(self.year, self.month, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(nxt.year, nxt.month, 1, tzinfo=tz).astimezone(UTC)
        return Interval(start, end)

    def minutes(self, timezone: str = "UTC") -> int:
        """Whole minutes in the month (40,320 to 44,640 in UTC)."""
        return int(self.bounds(timezone).duration // timedelta(minutes=1))


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months, clamped to the target month's last day."""
    target = BillingMonth(day.year, day.month).add(months)
    return date(target.year, target.month, min(day.day, target.days))
