"""SLA terms as typed, frozen data.

One ``SlaTerm`` is one provider commitment for one service variant (for example "EC2
Region-Level, 99.99%"), loaded from ``rules/sla/terms/<provider>.yaml`` by
``rules.sla.catalogue``. The arithmetic in ``rules.sla.credit`` reads only these types, so a
term corrected in the data file changes every result that depends on it and nothing else.

Percentages and money are ``Decimal``; nothing here is a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Category(StrEnum):
    """The kind of service a term covers; the catalogue ships at least one term per category."""

    COMPUTE_SINGLE_INSTANCE = "compute_single_instance"
    COMPUTE_MULTI_ZONE = "compute_multi_zone"
    COMPUTE_MULTI_INSTANCE = "compute_multi_instance"  # ≥2 instances, one zone (Azure sets)
    BLOCK_STORAGE = "block_storage"
    OBJECT_STORAGE = "object_storage"
    MANAGED_SQL = "managed_sql"
    LOAD_BALANCER = "load_balancer"
    KUBERNETES_CONTROL_PLANE = "kubernetes_control_plane"
    SERVERLESS_FUNCTIONS = "serverless_functions"
    DNS = "dns"


# Categories every provider file must cover (the catalogue meta-tests check this).
REQUIRED_CATEGORIES: tuple[Category, ...] = (
    Category.COMPUTE_SINGLE_INSTANCE,
    Category.COMPUTE_MULTI_ZONE,
    Category.BLOCK_STORAGE,
    Category.OBJECT_STORAGE,
    Category.MANAGED_SQL,
    Category.LOAD_BALANCER,
    Category.KUBERNETES_CONTROL_PLANE,
    Category.SERVERLESS_FUNCTIONS,
    Category.DNS,
)


class ScopeKind(StrEnum):
    """What one SLA measurement covers.

    ``single_instance``: one resource or one service endpoint (a VM, a volume, a bucket class in
    a region); its own unavailability counts. ``multi_zone``: a deployment of several members
    (instances, AZs); only time when *every* member was unavailable counts.
    """

    SINGLE_INSTANCE = "single_instance"
    MULTI_ZONE = "multi_zone"


class MeasurementMode(StrEnum):
    """How the provider turns unavailability into a monthly uptime percentage."""

    MINUTES = "minutes"  # (period minutes - downtime minutes) / period minutes
    ERROR_RATE = "error_rate"  # 100 - mean of per-interval error rates
    ERROR_THRESHOLD = "error_threshold"  # an interval is downtime when its error rate > threshold


class MinutePolicy(StrEnum):
    """How partial minutes of unavailability are counted (``minutes`` mode only)."""

    ANY_PART = "any_part"  # a clock minute counts if unavailable for any part of it
    WHOLE_MINUTE = "whole_minute"  # a clock minute counts only if unavailable all of it
    RUN_FLOOR = "run_floor"  # each unbroken run counts floor(run / 1 min); runs < 1 min vanish
    EXACT = "exact"  # seconds / 60, no rounding


class CreditBasis(StrEnum):
    """What the credit tiers are keyed on."""

    UPTIME_PCT = "uptime_pct"  # tiers of monthly uptime -> percent of the month's charges
    DOWNTIME_MINUTES = "downtime_minutes"  # tiers of downtime -> days of service (Route 53)


class DeadlineRule(StrEnum):
    """How the last day to file a claim follows from the incident and its month."""

    END_OF_NTH_CYCLE_AFTER = "end_of_nth_cycle_after"  # last day of cycle M+n
    MONTHS_AFTER_PERIOD_END = "months_after_period_end"  # period end + n months
    DAYS_AFTER_PERIOD_END = "days_after_period_end"  # period end + n days
    DAYS_AFTER_INCIDENT = "days_after_incident"  # first incident day + n days


@dataclass(frozen=True)
class UptimeTier:
    """``at_least <= uptime < below`` earns ``credit_pct`` percent of the month's charges."""

    below: Decimal
    at_least: Decimal
    credit_pct: Decimal

    def describe(self) -> str:
        """The tier as the SLA tables write it: "< 99.99% and >= 99.0% -> 10%"."""
        if self.at_least == 0:
            return f"< {self.below}% -> {self.credit_pct}%"
        return f"< {self.below}% and >= {self.at_least}% -> {self.credit_pct}%"


@dataclass(frozen=True)
class DayTier:
    """``at_least_minutes <= downtime < below_minutes`` earns ``credit_days`` days of service."""

    at_least_minutes: int
    below_minutes: int | None  # None: no upper bound
    credit_days: int

    def describe(self) -> str:
        """The tier in words: "5 to 30 min down -> 1 day of service"."""
        credit = f"{self.credit_days} {'day' if self.credit_days == 1 else 'days'} of service"
        if self.below_minutes is None:
            return f">= {self.at_least_minutes} min down -> {credit}"
        return f"{self.at_least_minutes} to {self.below_minutes - 1} min down -> {credit}"


@dataclass(frozen=True)
class Scope:
    """The deployment a commitment applies to."""

    kind: ScopeKind
    min_zones: int = 1  # distinct zones the deployment must span (multi_zone)
    min_members: int = 1  # running members the deployment must have (multi_zone)
    description: str = ""


@dataclass(frozen=True)
class Measurement:
    """How downtime is defined and measured."""

    mode: MeasurementMode
    unavailable_means: str  # the provider's definition of "unavailable", paraphrased
    minute_policy: MinutePolicy | None = None  # minutes mode
    interval_minutes: int | None = None  # error_rate / error_threshold modes
    error_threshold_pct: Decimal | None = None  # error_threshold mode
    min_requests: int | None = None  # error_threshold mode: fewer requests never count
    counted_errors: str = ""  # which failures count (error-rate modes)


@dataclass(frozen=True)
class Period:
    """The SLA measurement period: a calendar month whose boundaries lie in ``timezone``."""

    kind: str  # "calendar_month" | "billing_cycle" | "billing_month" (all monthly)
    timezone: str  # IANA name; month boundaries are midnights in this zone


@dataclass(frozen=True)
class Credit:
    """How a breach turns into a credit."""

    basis: CreditBasis
    tiers: tuple[UptimeTier, ...]  # best (smallest) credit first; uptime_pct basis
    day_tiers: tuple[DayTier, ...]  # downtime_minutes basis
    cap_pct: Decimal  # the credit never exceeds this share of the month's charges
    base: str  # what the percentage is a percentage of
    form: str  # how the credit is paid (future bills, no cash, ...)
    minimum_amount: Decimal | None = None  # a credit at or below this is not issued
    minimum_currency: str = "USD"  # the minimum applies only to charges in this currency


@dataclass(frozen=True)
class Deadline:
    """The claim window as data: ``rule`` with ``count`` cycles, months or days."""

    rule: DeadlineRule
    count: int
    text: str  # the provider's wording, paraphrased


@dataclass(frozen=True)
class Claim:
    """Where and how a claim is filed, and what it must contain."""

    channel: str
    must_contain: tuple[str, ...]
    subject: str = ""
    filing_api: str | None = None  # None: a person must submit a form
    filing_api_requires: str = ""


@dataclass(frozen=True)
class Source:
    """Where the term comes from."""

    name: str
    url: str


@dataclass(frozen=True)
class Unconfirmed:
    """A field of the term that the reference marks unconfirmed, and why."""

    field: str  # dotted path inside the term, e.g. "credit.tiers"
    note: str


@dataclass(frozen=True)
class SlaTerm:
    """One provider's uptime commitment for one service variant, with its version and source."""

    id: str  # "<provider>.<service>.<variant>", unique across the catalogue
    version: str  # semver of this data entry
    provider: str
    category: Category
    service: str
    title: str
    commitment_pct: Decimal
    scope: Scope
    measurement: Measurement
    period: Period
    credit: Credit
    deadline: Deadline
    claim: Claim
    exclusions: tuple[str, ...]
    eligibility: tuple[str, ...]
    source: Source
    effective_date: str | None  # "YYYY", "YYYY-MM" or "YYYY-MM-DD" as far as known
    unconfirmed: tuple[Unconfirmed, ...]
    file: str = ""  # the catalogue file it came from, for messages

    def is_unconfirmed(self, field: str) -> bool:
        """True when ``field`` or any field above or below it is marked unconfirmed."""
        for item in self.unconfirmed:
            if item.field == field or item.field.startswith(field + "."):
                return True
            if field.startswith(item.field + "."):
                return True
        return False
