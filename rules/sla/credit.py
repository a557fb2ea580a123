"""Monthly uptime and SLA credit from outage intervals: pure, deterministic arithmetic.

The pipeline (reference: sla-credits.md section 4.2):

1. clip every outage to the billing month (an incident across a boundary gives two pieces);
2. per member resource, union its outages (duplicates and overlaps count once) and subtract
   its verified exclusions;
3. combine members: a single-instance term takes the one resource's unavailability, a
   multi-zone term only the instants when *every* member was unavailable;
4. quantise to downtime minutes with the term's minute policy;
5. uptime = (period minutes - downtime) / period minutes x 100, kept as an exact fraction;
6. look up the credit tier, apply the cap and the minimum, compute the amount from the
   month's charges when they are known;
7. compute the claim deadline from the term's rule.

No I/O, no clock: the same inputs always give the same ``Assessment``, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from rules.sla.error_rate import threshold_minutes, uptime_from_request_counts
from rules.sla.evidence import explain, format_pct
from rules.sla.intervals import Interval, clip_intervals, merge_intervals, minutes_of
from rules.sla.model import (
    CreditBasis,
    DayTier,
    DeadlineRule,
    MeasurementMode,
    MinutePolicy,
    SlaTerm,
    UptimeTier,
)
from rules.sla.outages import (
    Member,
    MergedOutage,
    Outage,
    SlaInputError,
    check_eligibility,
    check_outages,
    clip_to_month,
    deployment_unavailability,
    merge_outages,
    overlaps_any,
    resolve_members,
    sorted_unique,
    split_by_month,
)
from rules.sla.period import BillingMonth, add_months, zone

_MINUTE = timedelta(minutes=1)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)

__all__ = [
    "Assessment",
    "BillingMonth",
    "Member",
    "MergedOutage",
    "Outage",
    "SlaInputError",
    "assess",
    "claim_deadline",
    "clip_to_month",
    "compute_credit_amount",
    "compute_day_credit_amount",
    "find_day_tier",
    "find_tier",
    "merge_outages",
    "quantise_downtime",
    "split_by_month",
    "uptime_from_request_counts",
    "uptime_pct",
]


@dataclass(frozen=True)
class Assessment:
    """The result of assessing one term for one month: uptime, credit, deadline and the steps.

    ``uptime_pct`` and ``downtime_minutes`` are exact fractions; ``arithmetic`` is the
    evidence-pack text, one step per line; ``summary`` is the one-line version.
    """

    term_id: str
    term_version: str
    month: BillingMonth
    period_start: datetime
    period_end: datetime
    period_minutes: int
    downtime_minutes: Fraction
    uptime_pct: Fraction
    commitment_pct: Decimal
    breached: bool
    eligible: bool
    ineligible_reason: str
    tier: UptimeTier | DayTier | None
    credit_pct: Decimal | None  # None for day-of-service credits
    credit_days: int | None  # day-of-service credits only
    monthly_charge: Decimal | None
    credit_amount: Decimal | None  # None when the month's charges are unknown
    currency: str
    minute_policy: MinutePolicy | None
    claim_deadline: date | None  # last day (in the billing time zone) a claim is on time
    downtime_intervals: tuple[Interval, ...]
    source_event_ids: tuple[str, ...]
    unconfirmed: tuple[str, ...]
    arithmetic: tuple[str, ...] = field(default=())

    @property
    def claimable(self) -> bool:
        """True when a claim is worth filing: breached, eligible and a credit is owed."""
        if not (self.breached and self.eligible and self.tier is not None):
            return False
        return self.credit_amount is None or self.credit_amount > 0

    @property
    def summary(self) -> str:
        """One line: minutes, downtime, uptime against commitment, credit."""
        return self.arithmetic[-1] if self.arithmetic else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (numbers as strings, exact where it matters)."""
        return {
            "term_id": self.term_id,
            "term_version": self.term_version,
            "month": str(self.month),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "period_minutes": self.period_minutes,
            "downtime_minutes": _fraction_text(self.downtime_minutes),
            "uptime_pct": format_pct(self.uptime_pct, (self.commitment_pct,)),
            "uptime_fraction": f"{self.uptime_pct.numerator}/{self.uptime_pct.denominator}",
            "commitment_pct": str(self.commitment_pct),
            "breached": self.breached,
            "eligible": self.eligible,
            "ineligible_reason": self.ineligible_reason,
            "tier": self.tier.describe() if self.tier else None,
            "credit_pct": None if self.credit_pct is None else str(self.credit_pct),
            "credit_days": self.credit_days,
            "monthly_charge": None if self.monthly_charge is None else str(self.monthly_charge),
            "credit_amount": None if self.credit_amount is None else str(self.credit_amount),
            "currency": self.currency,
            "minute_policy": None if self.minute_policy is None else str(self.minute_policy),
            "claim_deadline": None if self.claim_deadline is None else str(self.claim_deadline),
            "downtime_intervals": [
                [item.start.isoformat(), item.end.isoformat()] for item in self.downtime_intervals
            ],
            "source_event_ids": list(self.source_event_ids),
            "unconfirmed": list(self.unconfirmed),
            "arithmetic": list(self.arithmetic),
        }


# --- downtime, uptime, tier, credit, deadline -----------------------------------------------


def quantise_downtime(
    intervals: Iterable[Interval],
    term: SlaTerm,
    period: Interval,
    minute_policy: MinutePolicy | None = None,
) -> Fraction:
    """Downtime minutes in ``period`` by the term's measurement mode and minute policy.

    ``minutes`` mode applies the minute policy. ``error_rate`` mode treats each interval as
    100% failed requests under uniform traffic, so the mean interval error rate equals the
    exact unavailable share of the period. ``error_threshold`` mode counts a whole measurement
    interval as down when the unavailable share of it exceeds the error threshold.
    """
    spans = clip_intervals(intervals, period.start, period.end)
    mode = term.measurement.mode
    if mode is MeasurementMode.ERROR_RATE:
        return sum((minutes_of(item.duration) for item in spans), Fraction(0))
    if mode is MeasurementMode.ERROR_THRESHOLD:
        return threshold_minutes(spans, term, period)
    policy = minute_policy or term.measurement.minute_policy or MinutePolicy.EXACT
    if policy is MinutePolicy.EXACT:
        return sum((minutes_of(item.duration) for item in spans), Fraction(0))
    if policy is MinutePolicy.RUN_FLOOR:
        return Fraction(sum(item.duration // _MINUTE for item in spans))
    if policy is MinutePolicy.WHOLE_MINUTE:
        whole = 0
        for item in spans:
            first, last = _ceil_minute(item.start), _floor_minute(item.end)
            whole += max(0, (last - first) // _MINUTE)
        return Fraction(whole)
    touched = merge_intervals(
        Interval(_floor_minute(item.start), _ceil_minute(item.end)) for item in spans
    )
    return Fraction(sum(item.duration // _MINUTE for item in touched))


def uptime_pct(period_minutes: int, downtime_minutes: Fraction) -> Fraction:
    """``(period - downtime) / period x 100`` as an exact fraction, within [0, 100]."""
    if period_minutes <= 0:
        raise SlaInputError(
            f"period of {period_minutes} min", "The period must be longer than zero minutes."
        )
    down = min(max(downtime_minutes, Fraction(0)), Fraction(period_minutes))
    return (Fraction(period_minutes) - down) / period_minutes * 100


def find_tier(tiers: Sequence[UptimeTier], uptime: Fraction) -> UptimeTier | None:
    """The tier with ``at_least <= uptime < below``; None when the commitment was met.

    A value exactly on a boundary belongs to the better tier: 99.0% exactly is in
    "< 99.99% and >= 99.0%".
    """
    for tier in tiers:
        if Fraction(tier.at_least) <= uptime < Fraction(tier.below):
            return tier
    return None


def find_day_tier(tiers: Sequence[DayTier], downtime_minutes: Fraction) -> DayTier | None:
    """The day-of-service tier for ``downtime_minutes``; None below the smallest tier."""
    for tier in tiers:
        upper = math.inf if tier.below_minutes is None else tier.below_minutes
        if tier.at_least_minutes <= downtime_minutes < upper:
            return tier
    return None


def compute_credit_amount(
    term: SlaTerm, credit_pct: Decimal, monthly_charge: Decimal, currency: str = "USD"
) -> Decimal:
    """``credit_pct`` of the month's charges, capped, rounded to cents, minimum applied."""
    pct = min(credit_pct, term.credit.cap_pct)
    amount = (monthly_charge * pct / _HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP)
    return _apply_minimum(term, amount, currency)


def compute_day_credit_amount(
    term: SlaTerm,
    credit_days: int,
    monthly_charge: Decimal,
    month: BillingMonth,
    currency: str = "USD",
) -> Decimal:
    """``credit_days`` times the month's average daily charge, capped, minimum applied."""
    daily = monthly_charge / Decimal(month.days)
    cap = monthly_charge * term.credit.cap_pct / _HUNDRED
    amount = min(daily * credit_days, cap).quantize(_CENT, rounding=ROUND_HALF_UP)
    return _apply_minimum(term, amount, currency)


def claim_deadline(
    term: SlaTerm, month: BillingMonth, first_incident: datetime | None = None
) -> date | None:
    """The last day (in the term's billing time zone) on which a claim for ``month`` is on time.

    * ``end_of_nth_cycle_after`` n: the last day of month + n (AWS: March -> 31 May);
    * ``months_after_period_end`` n: the month's end + n months (Azure: March -> 31 May);
    * ``days_after_period_end`` n: n days counted from the month's close (GCP: March -> 30 April);
    * ``days_after_incident`` n: n days counted from the day of ``first_incident`` (OCI);
      None when there was no incident.
    """
    count = term.deadline.count
    rule = term.deadline.rule
    if rule is DeadlineRule.END_OF_NTH_CYCLE_AFTER:
        return month.add(count).last_day
    if rule is DeadlineRule.MONTHS_AFTER_PERIOD_END:
        return add_months(month.add(1).first_day, count) - timedelta(days=1)
    if rule is DeadlineRule.DAYS_AFTER_PERIOD_END:
        return month.add(1).first_day + timedelta(days=count - 1)
    if first_incident is None:
        return None
    incident_day = first_incident.astimezone(zone(term.period.timezone)).date()
    return incident_day + timedelta(days=count - 1)


# --- the entry point ------------------------------------------------------------------------


def assess(
    term: SlaTerm,
    outages: Iterable[Outage],
    month: BillingMonth | str,
    members: Sequence[Member] | None = None,
    monthly_charge: Decimal | int | str | None = None,
    *,
    currency: str = "USD",
    minute_policy: MinutePolicy | str | None = None,
) -> Assessment:
    """Assess ``term`` for ``month`` from ``outages``: uptime, breach, tier, credit, deadline.

    ``members`` lists the deployment (required for multi-zone terms; optional for single
    instance terms, where it names the one resource). ``monthly_charge`` is that month's
    charges for the credit base (no one-time fees); when None the credit is stated as a
    percentage only. ``minute_policy`` overrides the term's policy (``minutes`` mode only).
    """
    bill_month = _coerce_month(month)
    charge = _coerce_charge(monthly_charge)
    currency = _coerce_currency(currency)
    policy = _coerce_policy(term, minute_policy)
    items = check_outages(outages)
    deployment = resolve_members(term, items, members)
    period = bill_month.bounds(term.period.timezone)
    period_minutes = bill_month.minutes(term.period.timezone)
    pieces = clip_to_month(items, bill_month, term.period.timezone)

    # Per member: union of its outages, minus its exclusions; then combine members.
    raw, down = deployment_unavailability(term, pieces, deployment)
    downtime = quantise_downtime(down, term, period, policy)
    uptime = uptime_pct(period_minutes, downtime)
    breached = uptime < Fraction(term.commitment_pct)
    eligible, reason = check_eligibility(term, deployment)

    tier, credit_pct, credit_days, amount = _credit(
        term, bill_month, downtime, uptime, charge, currency
    )
    if not (breached and eligible):
        tier, credit_pct, credit_days = None, _zero_pct(term), None
        amount = None if charge is None else Decimal("0.00")
    # The incidents behind the counted downtime, with their unclipped starts (OCI's clock).
    contributing = [o for o in items if not o.excluded and overlaps_any(o, down)]
    first_incident = min((o.start for o in contributing), default=None)
    deadline = claim_deadline(term, bill_month, first_incident)

    result = Assessment(
        term_id=term.id,
        term_version=term.version,
        month=bill_month,
        period_start=period.start,
        period_end=period.end,
        period_minutes=period_minutes,
        downtime_minutes=downtime,
        uptime_pct=uptime,
        commitment_pct=term.commitment_pct,
        breached=breached,
        eligible=eligible,
        ineligible_reason=reason,
        tier=tier,
        credit_pct=credit_pct,
        credit_days=credit_days,
        monthly_charge=charge,
        credit_amount=amount,
        currency=currency,
        minute_policy=policy if term.measurement.mode is MeasurementMode.MINUTES else None,
        claim_deadline=deadline,
        downtime_intervals=down,
        source_event_ids=sorted_unique(p.source_event_id for p in contributing),
        unconfirmed=tuple(sorted({item.field for item in term.unconfirmed})),
    )
    return replace(result, arithmetic=explain(term, result, pieces, deployment, raw))


# --- private helpers ------------------------------------------------------------------------


def _coerce_month(month: BillingMonth | str) -> BillingMonth:
    if isinstance(month, BillingMonth):
        return month
    try:
        return BillingMonth.parse(str(month))
    except ValueError as exc:
        raise SlaInputError(str(exc), "Pass the month as BillingMonth or 'YYYY-MM'.") from exc


def _coerce_charge(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float | bool):
        raise SlaInputError(
            f"monthly_charge {value!r} is a {type(value).__name__}",
            "Pass money as a Decimal or a string such as '1234.00' (floats round in binary).",
        )
    try:
        charge = Decimal(value)
    except ArithmeticError as exc:
        raise SlaInputError(
            f"monthly_charge {value!r} is not a number", "Pass a Decimal such as '1234.00'."
        ) from exc
    if not charge.is_finite() or charge < 0:
        raise SlaInputError(
            f"monthly_charge {value!r} is negative or not finite",
            "Pass the month's charges for the credit base as zero or more.",
        )
    return charge


def _coerce_currency(value: str) -> str:
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise SlaInputError(
            f"currency {value!r} is not an ISO 4217 code", "Pass a code such as 'USD' or 'EUR'."
        )
    return code


def _coerce_policy(term: SlaTerm, value: MinutePolicy | str | None) -> MinutePolicy | None:
    if value is None:
        return term.measurement.minute_policy
    if term.measurement.mode is not MeasurementMode.MINUTES:
        raise SlaInputError(
            f"term {term.id} is measured by {term.measurement.mode}, not in minutes",
            "Drop minute_policy; it applies only to minute-based terms.",
        )
    try:
        return MinutePolicy(value)
    except ValueError as exc:
        choices = ", ".join(item.value for item in MinutePolicy)
        raise SlaInputError(f"unknown minute_policy {value!r}", f"Use one of: {choices}.") from exc


def _credit(
    term: SlaTerm,
    month: BillingMonth,
    downtime: Fraction,
    uptime: Fraction,
    charge: Decimal | None,
    currency: str,
) -> tuple[UptimeTier | DayTier | None, Decimal | None, int | None, Decimal | None]:
    """(tier, credit %, credit days, amount) before the breach and eligibility gates."""
    if term.credit.basis is CreditBasis.DOWNTIME_MINUTES:
        day_tier = find_day_tier(term.credit.day_tiers, downtime)
        days = day_tier.credit_days if day_tier else 0
        amount = None
        if charge is not None:
            amount = compute_day_credit_amount(term, days, charge, month, currency)
        return day_tier, None, days, amount
    tier = find_tier(term.credit.tiers, uptime)
    pct = min(tier.credit_pct, term.credit.cap_pct) if tier else Decimal(0)
    amount = None if charge is None else compute_credit_amount(term, pct, charge, currency)
    return tier, pct, None, amount


def _zero_pct(term: SlaTerm) -> Decimal | None:
    return None if term.credit.basis is CreditBasis.DOWNTIME_MINUTES else Decimal(0)


def _apply_minimum(term: SlaTerm, amount: Decimal, currency: str) -> Decimal:
    # The minimum is stated in one currency (AWS: USD 1); other currencies are not converted.
    minimum = term.credit.minimum_amount
    if minimum is not None and currency == term.credit.minimum_currency and amount <= minimum:
        return Decimal("0.00")
    return amount


def _floor_minute(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return utc.replace(second=0, microsecond=0)


def _ceil_minute(moment: datetime) -> datetime:
    floor = _floor_minute(moment)
    return floor if floor == moment else floor + _MINUTE


def _fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"
