"""Half-open time intervals ``[start, end)`` and the set operations the SLA arithmetic needs.

All functions are pure and return sorted, disjoint, non-touching intervals (a "normal form"),
so the same input always gives the same output. Datetimes must be timezone-aware; they are
compared as instants, so mixing UTC and other offsets is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

_MICROS_PER_MINUTE = 60_000_000


@dataclass(frozen=True, order=True)
class Interval:
    """The instants ``start <= t < end``; never empty."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(
                f"interval {self.start.isoformat()} to {self.end.isoformat()} has a naive "
                "datetime; pass timezone-aware datetimes (UTC)"
            )
        if self.end <= self.start:
            raise ValueError(
                f"interval ends ({self.end.isoformat()}) at or before it starts "
                f"({self.start.isoformat()}); the end must be later than the start"
            )

    @property
    def duration(self) -> timedelta:
        """How long the interval lasts."""
        return self.end - self.start


def merge_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Union: overlapping, duplicate and touching intervals become one; output sorted."""
    merged: list[Interval] = []
    for item in sorted(intervals):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return tuple(merged)


def intersect_all(groups: Sequence[Iterable[Interval]]) -> tuple[Interval, ...]:
    """The instants covered by every group at once (empty when ``groups`` is empty).

    A sweep over the merged endpoints: the deployment is down while the count of down members
    equals the number of members.
    """
    if not groups:
        return ()
    events: list[tuple[datetime, int]] = []
    for group in groups:
        for item in merge_intervals(group):
            events.append((item.start, 1))
            events.append((item.end, -1))
    # At equal instants, process ends before starts: [a, b) and [b, c) do not overlap.
    events.sort(key=lambda event: (event[0], event[1]))
    needed = len(groups)
    down = 0
    opened: datetime | None = None
    result: list[Interval] = []
    for instant, step in events:
        down += step
        if down == needed and opened is None:
            opened = instant
        elif down < needed and opened is not None:
            if instant > opened:
                result.append(Interval(opened, instant))
            opened = None
    return merge_intervals(result)


def subtract_intervals(
    base: Iterable[Interval], removals: Iterable[Interval]
) -> tuple[Interval, ...]:
    """``base`` minus ``removals``: only the overlapping parts go, each counted once."""
    cuts = merge_intervals(removals)
    result: list[Interval] = []
    for item in merge_intervals(base):
        start = item.start
        for cut in cuts:
            if cut.end <= start or cut.start >= item.end:
                continue
            if cut.start > start:
                result.append(Interval(start, cut.start))
            start = max(start, cut.end)
            if start >= item.end:
                break
        if start < item.end:
            result.append(Interval(start, item.end))
    return tuple(result)


def clip_intervals(
    intervals: Iterable[Interval], start: datetime, end: datetime
) -> tuple[Interval, ...]:
    """The parts of ``intervals`` inside ``[start, end)``, merged."""
    window = Interval(start, end)
    pieces = [
        Interval(max(item.start, window.start), min(item.end, window.end))
        for item in intervals
        if item.start < window.end and item.end > window.start
    ]
    return merge_intervals(pieces)


def total_duration(intervals: Iterable[Interval]) -> timedelta:
    """The summed length of the union of ``intervals`` (overlaps count once)."""
    return sum((item.duration for item in merge_intervals(intervals)), timedelta())


def minutes_of(duration: timedelta) -> Fraction:
    """A duration in exact (possibly fractional) minutes."""
    return Fraction(duration // timedelta(microseconds=1), _MICROS_PER_MINUTE)
