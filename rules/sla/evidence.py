"""The human-readable arithmetic of an assessment: the evidence-pack steps and number formats.

Each step is one sentence a billing-support agent can check with a calculator, ending in the
one-line summary, e.g. "43,200 min in June 2026; 95 min unavailable; uptime 99.7801% < 99.9%
-> 10% credit of $1,234.00 = $123.40". Pure text building; nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from rules.sla.intervals import Interval, minutes_of, total_duration
from rules.sla.model import (
    CreditBasis,
    DayTier,
    MeasurementMode,
    MinutePolicy,
    ScopeKind,
    SlaTerm,
    UptimeTier,
)

if TYPE_CHECKING:
    from rules.sla.credit import Assessment
    from rules.sla.outages import Member, Outage

_CENT = Decimal("0.01")

POLICY_TEXT: dict[MinutePolicy, str] = {
    MinutePolicy.ANY_PART: "a minute counts when it was unavailable for any part of it",
    MinutePolicy.WHOLE_MINUTE: "a minute counts only when it was unavailable for all of it",
    MinutePolicy.RUN_FLOOR: "each unbroken run counts its whole minutes; runs under 1 min drop",
    MinutePolicy.EXACT: "exact seconds / 60, no rounding",
}


def format_pct(value: Fraction, boundaries: Iterable[Decimal] = ()) -> str:
    """``value`` with 4 decimals, or more when 4 would blur a comparison with a boundary.

    99.89999% shown as "99.9000" next to a 99.9% commitment would read as met; this shows
    "99.89999" instead. Whole numbers print without decimals ("100").
    """
    if value.denominator == 1:
        return str(value.numerator)
    bounds = [Fraction(item) for item in boundaries]
    for places in range(4, 13):
        shown = Fraction(_round(value, places))
        if all((shown < b) == (value < b) and (shown == b) == (value == b) for b in bounds):
            return str(_round(value, places))
    return str(_round(value, 12))


def format_minutes(value: Fraction) -> str:
    """Whole minutes with thousands separators; fractions to at most 3 decimals ("12.5")."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{_round(value, 3).normalize():,f}"


def format_money(amount: Decimal, currency: str) -> str:
    """``$1,234.00`` for USD, ``1,234.00 EUR`` otherwise."""
    text = f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"
    return f"${text}" if currency == "USD" else f"{text} {currency}"


def format_decimal(value: Decimal) -> str:
    """A percentage or count without trailing zeros: 10, 99.9, 99.99."""
    return f"{value.normalize():f}"


def explain(
    term: SlaTerm,
    result: Assessment,
    pieces: Sequence[Outage],
    deployment: Sequence[Member],
    raw: Sequence[Interval],
) -> tuple[str, ...]:
    """The evidence-pack steps for ``result``, ending with the one-line summary."""
    steps = [_term_line(term), _period_line(term, result)]
    steps.extend(_outage_lines(term, result, pieces, deployment, raw))
    steps.append(_downtime_line(term, result))
    steps.append(_uptime_line(term, result))
    steps.extend(_credit_lines(term, result))
    steps.append(_deadline_line(term, result))
    if result.unconfirmed:
        steps.append(
            f"Unconfirmed in term {term.id}: {', '.join(result.unconfirmed)}; check the live SLA "
            "before relying on these figures."
        )
    steps.append(summary_line(term, result))
    return tuple(steps)


def summary_line(term: SlaTerm, result: Assessment) -> str:
    """ "43,200 min in June 2026; 95 min unavailable; uptime 99.7801% < 99.9% -> ..."."""
    sign = "<" if result.breached else ">="
    return (
        f"{result.period_minutes:,} min in {result.month.label}; "
        f"{format_minutes(result.downtime_minutes)} min unavailable; "
        f"uptime {_uptime_text(term, result)}% {sign} {format_decimal(term.commitment_pct)}% "
        f"-> {_credit_phrase(term, result)}"
    )


# --- steps ----------------------------------------------------------------------------------


def _term_line(term: SlaTerm) -> str:
    effective = term.effective_date or "date not recorded"
    return (
        f"Term {term.id} v{term.version} ({term.title}): {format_decimal(term.commitment_pct)}% "
        f"monthly uptime, scope {term.scope.kind}; source {term.source.name} <{term.source.url}>,"
        f" effective {effective}."
    )


def _period_line(term: SlaTerm, result: Assessment) -> str:
    start = result.period_start.strftime("%Y-%m-%d %H:%M")
    end = result.period_end.strftime("%Y-%m-%d %H:%M")
    return (
        f"Period: {result.month.label} in {term.period.timezone}, {start} to {end} UTC = "
        f"{result.period_minutes:,} min."
    )


def _outage_lines(
    term: SlaTerm,
    result: Assessment,
    pieces: Sequence[Outage],
    deployment: Sequence[Member],
    raw: Sequence[Interval],
) -> list[str]:
    lines: list[str] = []
    outages = [p for p in pieces if not p.excluded]
    raw_minutes = minutes_of(total_duration(raw))
    if not outages:
        lines.append(f"Outages: none recorded in {result.month.label}.")
    else:
        sources = ", ".join(sorted({p.source for p in outages if p.source})) or "unnamed sources"
        lines.append(
            f"Outages: {len(outages)} record(s) in {result.month.label} from {sources}; "
            "duplicates and overlaps counted once."
        )
    if term.scope.kind is ScopeKind.MULTI_ZONE:
        zones = sorted({m.zone for m in deployment if m.zone})
        lines.append(
            f"Deployment: {len(deployment)} member(s) in {len(zones)} zone(s) "
            f"({', '.join(zones) or 'zones unknown'}); only time when all were unavailable at "
            f"once counts: {format_minutes(raw_minutes)} min."
        )
    elif outages:
        lines.append(f"Unavailable: {format_minutes(raw_minutes)} min in {len(raw)} interval(s).")
    excluded = [p for p in pieces if p.excluded]
    if excluded:
        removed = raw_minutes - minutes_of(total_duration(result.downtime_intervals))
        reasons = "; ".join(sorted({p.exclusion_reason for p in excluded}))
        lines.append(
            f"Exclusions: {len(excluded)} window(s) ({reasons}); {format_minutes(removed)} min "
            "removed from the unavailability."
        )
    if not result.eligible:
        lines.append(f"Not eligible: {result.ineligible_reason}.")
    return lines


def _downtime_line(term: SlaTerm, result: Assessment) -> str:
    measurement = term.measurement
    exact = minutes_of(total_duration(result.downtime_intervals))
    downtime = format_minutes(result.downtime_minutes)
    if measurement.mode is MeasurementMode.ERROR_RATE:
        return (
            f"Downtime: error-rate SLA over {measurement.interval_minutes}-minute intervals; each "
            "outage counted as 100% failed requests under uniform traffic, so the mean error "
            f"rate equals the unavailable share: {downtime} min."
        )
    if measurement.mode is MeasurementMode.ERROR_THRESHOLD:
        threshold = format_decimal(measurement.error_threshold_pct or Decimal(0))
        return (
            f"Downtime: a {measurement.interval_minutes}-minute interval counts whole when its "
            f"unavailable share exceeds the {threshold}% error threshold (assumes at least "
            f"{measurement.min_requests or 0} requests in it): {downtime} min."
        )
    policy = result.minute_policy or MinutePolicy.EXACT
    rounding = "" if exact == result.downtime_minutes else f" (exact {format_minutes(exact)} min)"
    return f"Downtime: {downtime} min{rounding}; policy {policy}: {POLICY_TEXT[policy]}."


def _uptime_line(term: SlaTerm, result: Assessment) -> str:
    total = f"{result.period_minutes:,}"
    verdict = "missed" if result.breached else "met"
    sign = "<" if result.breached else ">="
    return (
        f"Uptime: ({total} - {format_minutes(result.downtime_minutes)}) / {total} x 100 = "
        f"{_uptime_text(term, result)}% {sign} {format_decimal(term.commitment_pct)}% -> "
        f"commitment {verdict}."
    )


def _credit_lines(term: SlaTerm, result: Assessment) -> list[str]:
    if not result.breached:
        return ["Credit: none (commitment met)."]
    if not result.eligible:
        return ["Credit: none (the deployment does not qualify for this commitment)."]
    if term.credit.basis is CreditBasis.DOWNTIME_MINUTES:
        return _day_credit_lines(term, result)
    tier = result.tier
    if not isinstance(tier, UptimeTier) or result.credit_pct is None:
        return ["Credit: none (no tier matches)."]
    lines = [f"Tier: {tier.describe()}."]
    if tier.credit_pct > term.credit.cap_pct:
        lines.append(
            f"Cap: credits stop at {format_decimal(term.credit.cap_pct)}% of the month's "
            f"charges, so {format_decimal(tier.credit_pct)}% becomes "
            f"{format_decimal(result.credit_pct)}%."
        )
    pct = format_decimal(result.credit_pct)
    if result.monthly_charge is None or result.credit_amount is None:
        lines.append(
            f"Credit: {pct}% of the month's charges for the credit base ({term.credit.base}); "
            f"charges unknown, so the amount is stated as a percentage.{_minimum_note(term)}"
        )
        return lines
    gross = (result.monthly_charge * result.credit_pct / 100).quantize(
        _CENT, rounding=ROUND_HALF_UP
    )
    line = (
        f"Credit: {pct}% of {format_money(result.monthly_charge, result.currency)} = "
        f"{format_money(gross, result.currency)}"
    )
    if result.credit_amount != gross:
        minimum = format_money(
            term.credit.minimum_amount or Decimal(0), term.credit.minimum_currency
        )
        line += f"; at or below the {minimum} minimum, so no credit is issued"
    lines.append(line + ".")
    return lines


def _day_credit_lines(term: SlaTerm, result: Assessment) -> list[str]:
    tier = result.tier
    if not isinstance(tier, DayTier):
        smallest = min((t.at_least_minutes for t in term.credit.day_tiers), default=0)
        return [
            f"Credit: none ({format_minutes(result.downtime_minutes)} min is below the smallest "
            f"tier, {smallest} min)."
        ]
    lines = [f"Tier: {tier.describe()}."]
    if result.monthly_charge is None or result.credit_amount is None:
        lines.append(
            f"Credit: {tier.credit_days} day(s) of service at the average daily charge for the "
            f"credit base ({term.credit.base}); charges unknown.{_minimum_note(term)}"
        )
        return lines
    daily = result.monthly_charge / result.month.days
    lines.append(
        f"Credit: {tier.credit_days} day(s) x {format_money(daily, result.currency)} a day "
        f"({format_money(result.monthly_charge, result.currency)} / {result.month.days} days) = "
        f"{format_money(result.credit_amount, result.currency)}."
    )
    return lines


def _deadline_line(term: SlaTerm, result: Assessment) -> str:
    if result.claim_deadline is None:
        return f"Claim deadline: none (no incident to claim); rule: {term.deadline.text}"
    return (
        f"Claim deadline: {result.claim_deadline.isoformat()} ({term.period.timezone}); "
        f"rule: {term.deadline.text}"
    )


# --- helpers --------------------------------------------------------------------------------


def _credit_phrase(term: SlaTerm, result: Assessment) -> str:
    if not result.breached:
        return "no credit"
    if not result.eligible:
        return "no credit (not eligible)"
    if result.tier is None:
        return "no credit (below the smallest tier)"
    if result.credit_days is not None:
        days = f"{result.credit_days} day(s) of service credit"
        if result.credit_amount is None:
            return f"{days} (charges unknown)"
        return f"{days} = {format_money(result.credit_amount, result.currency)}"
    pct = format_decimal(result.credit_pct or Decimal(0))
    if result.monthly_charge is None or result.credit_amount is None:
        return f"{pct}% credit (charges unknown)"
    gross = (result.monthly_charge * (result.credit_pct or 0) / 100).quantize(
        _CENT, rounding=ROUND_HALF_UP
    )
    text = (
        f"{pct}% credit of {format_money(result.monthly_charge, result.currency)} = "
        f"{format_money(gross, result.currency)}"
    )
    if result.credit_amount != gross:
        text += " (at or below the minimum: no credit)"
    return text


def _minimum_note(term: SlaTerm) -> str:
    if term.credit.minimum_amount is None:
        return ""
    minimum = format_money(term.credit.minimum_amount, term.credit.minimum_currency)
    return f" A credit is issued only above {minimum}."


def _uptime_text(term: SlaTerm, result: Assessment) -> str:
    bounds = [term.commitment_pct, *(t.at_least for t in term.credit.tiers)]
    return format_pct(result.uptime_pct, bounds)


def _round(value: Fraction, places: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
