"""Error-rate SLAs: uptime from per-interval request counts, and threshold intervals.

S3, Lambda, Azure Storage, Cloud Storage and OCI "Category 2" services measure availability
from request error rates in fixed intervals aligned to the month's start. ``error_rate`` terms
take 100% minus the mean interval error rate (an interval without requests counts as 0%);
``error_threshold`` terms count a whole interval as downtime when its error rate is above the
threshold and it had enough requests. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction

from rules.sla.intervals import Interval, minutes_of
from rules.sla.model import Measurement, MeasurementMode, SlaTerm
from rules.sla.outages import SlaInputError
from rules.sla.period import BillingMonth


def uptime_from_request_counts(
    term: SlaTerm,
    counts: Iterable[tuple[datetime, int, int]],
    month: BillingMonth | str,
) -> Fraction:
    """Monthly uptime of an error-rate term from per-interval ``(start, total, failed)`` counts.

    Intervals are ``term.measurement.interval_minutes`` long and aligned to the month's start;
    an interval without a row, or with no requests, counts as 0% errors. ``error_rate`` mode:
    100 x (1 - mean error rate). ``error_threshold`` mode: an interval with at least
    ``min_requests`` requests and an error rate above the threshold is downtime.
    """
    measurement = term.measurement
    if measurement.mode is MeasurementMode.MINUTES or not measurement.interval_minutes:
        raise SlaInputError(
            f"term {term.id} is measured in minutes, not from request counts",
            "Use assess() with outage intervals for minute-based terms.",
        )
    bill_month = month if isinstance(month, BillingMonth) else _parse_month(month)
    period = bill_month.bounds(term.period.timezone)
    size = timedelta(minutes=measurement.interval_minutes)
    slots = math.ceil(period.duration / size)
    rates: dict[int, Fraction] = {}
    for start, total, failed in counts:
        index = _slot_index(term, period, size, start)
        if index is None:
            continue
        if index in rates:
            raise SlaInputError(
                f"two request-count rows for the interval starting {start.isoformat()}",
                "Give one row per interval; add the counts of duplicate rows first.",
            )
        if total < 0 or failed < 0 or failed > total:
            raise SlaInputError(
                f"interval {start.isoformat()}: failed={failed}, total={total}",
                "Counts must be non-negative and failed must not exceed total.",
            )
        rates[index] = _interval_error(measurement, total, failed)
    if measurement.mode is MeasurementMode.ERROR_RATE:
        return (1 - sum(rates.values(), Fraction(0)) / slots) * 100
    down_slots = sum(1 for rate in rates.values() if rate == 1)
    return (Fraction(slots) - down_slots) / slots * 100


def threshold_minutes(spans: Sequence[Interval], term: SlaTerm, period: Interval) -> Fraction:
    """Minutes of the intervals whose unavailable share exceeds the error threshold.

    Outages are read as 100% failed requests under uniform traffic, so an interval's error
    rate is the share of it covered by ``spans``.
    """
    measurement = term.measurement
    size = timedelta(minutes=measurement.interval_minutes or 1)
    threshold = Fraction(measurement.error_threshold_pct or 0) / 100
    covered: dict[int, timedelta] = {}
    for item in spans:
        index = (item.start - period.start) // size
        while period.start + index * size < item.end:
            slot_start = period.start + index * size
            slot_end = min(slot_start + size, period.end)
            overlap = min(item.end, slot_end) - max(item.start, slot_start)
            if overlap > timedelta(0):
                covered[index] = covered.get(index, timedelta(0)) + overlap
            index += 1
    down = timedelta(0)
    for index, seconds in covered.items():
        slot_start = period.start + index * size
        slot_len = min(slot_start + size, period.end) - slot_start
        if Fraction(seconds // timedelta(microseconds=1), slot_len // timedelta(microseconds=1)) > (
            threshold
        ):
            down += slot_len
    return minutes_of(down)


def _slot_index(term: SlaTerm, period: Interval, size: timedelta, start: datetime) -> int | None:
    if start.tzinfo is None:
        raise SlaInputError(
            f"request-count row at {start.isoformat()} has a naive datetime",
            "Give interval starts as timezone-aware UTC datetimes.",
        )
    if not period.start <= start < period.end:
        return None
    offset = start - period.start
    if offset % size:
        raise SlaInputError(
            f"request-count row at {start.isoformat()} is not on a "
            f"{term.measurement.interval_minutes}-minute boundary of the month",
            "Align rows to the month's start (intervals of the term's interval_minutes).",
        )
    return offset // size


def _interval_error(measurement: Measurement, total: int, failed: int) -> Fraction:
    if total == 0:
        return Fraction(0)
    rate = Fraction(failed, total)
    if measurement.mode is MeasurementMode.ERROR_RATE:
        return rate
    threshold = Fraction(measurement.error_threshold_pct or 0) / 100
    enough = total >= (measurement.min_requests or 0)
    return Fraction(1) if enough and rate > threshold else Fraction(0)


def _parse_month(text: str) -> BillingMonth:
    try:
        return BillingMonth.parse(str(text))
    except ValueError as exc:
        raise SlaInputError(str(exc), "Pass the month as BillingMonth or 'YYYY-MM'.") from exc
