"""Outage intervals per resource, and how they combine into a deployment's unavailability.

An ``Outage`` is one observed interval in which a resource (or, with ``resource`` empty, the
whole deployment or one zone of it) was unavailable, with the event that reported it. This
module merges duplicates, splits outages at month boundaries, and combines members: a
single-instance commitment takes one resource's unavailability, a multi-zone commitment only
the instants when every member was unavailable. Verified exclusions are subtracted per member
before members are combined. Pure functions; sorted outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fintropy.errors import FinOpsError
from rules.sla.intervals import Interval, intersect_all, merge_intervals, subtract_intervals
from rules.sla.model import ScopeKind, SlaTerm
from rules.sla.period import BillingMonth


class SlaInputError(FinOpsError):
    """Outages, members, month or charges passed to the SLA arithmetic are invalid."""

    code = "sla_input_error"


@dataclass(frozen=True)
class Outage:
    """One observed interval ``[start, end)`` in which a resource was unavailable.

    ``resource`` empty means the whole deployment (every member, or every member in ``zone``
    when a zone is given), e.g. a regional or AZ-wide provider event without entities. An
    ``excluded`` outage is a verified exclusion window (scheduled maintenance, customer-caused,
    ...): its time is subtracted from the unavailability of the members it applies to.
    """

    start: datetime
    end: datetime
    resource: str = ""
    zone: str = ""
    source: str = ""  # "aws.health", "azure.resource_health", "monitor", ...
    source_event_id: str = ""  # event ARN, Tracking ID, event name, announcement OCID
    excluded: bool = False
    exclusion_reason: str = ""

    def __post_init__(self) -> None:
        try:
            Interval(self.start, self.end)
        except ValueError as exc:
            raise SlaInputError(
                f"outage {self.source_event_id or self.resource or '(unnamed)'}: {exc}",
                "Give start and end as timezone-aware UTC datetimes with end after start.",
            ) from exc
        if self.excluded and not self.exclusion_reason.strip():
            raise SlaInputError(
                f"excluded outage {self.source_event_id or self.resource or '(unnamed)'} "
                "has no exclusion_reason",
                "Say why the interval is excluded (e.g. 'scheduled maintenance, notice 7 days').",
            )
        if self.exclusion_reason and not self.excluded:
            raise SlaInputError(
                f"outage {self.source_event_id or self.resource or '(unnamed)'} has an "
                "exclusion_reason but excluded=False",
                "Set excluded=True for an exclusion window, or drop the reason.",
            )

    @property
    def interval(self) -> Interval:
        """The outage as an interval."""
        return Interval(self.start, self.end)

    def applies_to(self, member: Member) -> bool:
        """True when this outage concerns ``member``."""
        if self.resource:
            return self.resource == member.resource
        return not self.zone or self.zone == member.zone


@dataclass(frozen=True, order=True)
class Member:
    """One member of a deployment: an instance, volume or AZ endpoint, and its zone."""

    resource: str
    zone: str = ""


@dataclass(frozen=True)
class MergedOutage:
    """Outages of one resource merged into one unbroken interval, with every source kept."""

    start: datetime
    end: datetime
    resource: str
    zone: str
    excluded: bool
    source_event_ids: tuple[str, ...]
    exclusion_reasons: tuple[str, ...]


def merge_outages(outages: Iterable[Outage]) -> tuple[MergedOutage, ...]:
    """Merge duplicate and overlapping outages of the same resource, zone and exclusion flag.

    Each merged interval keeps the sorted event ids (and exclusion reasons) of every outage
    that contributed to it. Output is sorted by start, end, resource, zone.
    """
    groups: dict[tuple[str, str, bool], list[Outage]] = {}
    for outage in outages:
        groups.setdefault((outage.resource, outage.zone, outage.excluded), []).append(outage)
    merged: list[MergedOutage] = []
    for (resource, zone_name, excluded), items in groups.items():
        for span in merge_intervals(item.interval for item in items):
            inside = [item for item in items if span.start <= item.start and item.end <= span.end]
            merged.append(
                MergedOutage(
                    start=span.start,
                    end=span.end,
                    resource=resource,
                    zone=zone_name,
                    excluded=excluded,
                    source_event_ids=sorted_unique(item.source_event_id for item in inside),
                    exclusion_reasons=sorted_unique(item.exclusion_reason for item in inside),
                )
            )
    return tuple(sorted(merged, key=lambda m: (m.start, m.end, m.resource, m.zone, m.excluded)))


def clip_to_month(
    outages: Iterable[Outage], month: BillingMonth, timezone: str = "UTC"
) -> tuple[Outage, ...]:
    """The pieces of ``outages`` that fall inside ``month``; outages outside it are dropped."""
    bounds = month.bounds(timezone)
    pieces = [
        replace(outage, start=max(outage.start, bounds.start), end=min(outage.end, bounds.end))
        for outage in outages
        if outage.start < bounds.end and outage.end > bounds.start
    ]
    return tuple(sorted(pieces, key=_outage_key))


def split_by_month(
    outages: Iterable[Outage], timezone: str = "UTC"
) -> dict[BillingMonth, tuple[Outage, ...]]:
    """Group outage pieces by the month they fall in; a boundary-crossing outage splits in two.

    Every month from the earliest start to the latest end that holds a piece appears, in
    order. The pieces' durations add up to the original outages' durations.
    """
    items = list(outages)
    months: set[BillingMonth] = set()
    for outage in items:
        month = BillingMonth.of(outage.start, timezone)
        last = BillingMonth.of(outage.end - timedelta(microseconds=1), timezone)
        while month <= last:
            months.add(month)
            month = month.add(1)
    return {month: clip_to_month(items, month, timezone) for month in sorted(months)}


def check_outages(outages: Iterable[Outage]) -> tuple[Outage, ...]:
    """Every item is an ``Outage``; returned in a stable sorted order."""
    items = tuple(outages)
    for item in items:
        if not isinstance(item, Outage):
            raise SlaInputError(
                f"outages holds a {type(item).__name__}, not an Outage",
                "Build each interval with rules.sla.credit.Outage(start, end, resource=...).",
            )
    return tuple(sorted(items, key=_outage_key))


def resolve_members(
    term: SlaTerm, outages: Sequence[Outage], members: Sequence[Member] | None
) -> tuple[Member, ...]:
    """The deployment the term is assessed for, checked against the outages.

    Multi-zone terms need ``members``; single-instance terms take one member, or infer it from
    the outages when all of them name the same resource (or none).
    """
    if members is not None:
        deployment = tuple(sorted(set(members)))
        if not deployment:
            raise SlaInputError(
                f"term {term.id}: members is empty", "List the deployment's members, or pass None."
            )
        names = {m.resource for m in deployment}
        strangers = sorted({o.resource for o in outages if o.resource and o.resource not in names})
        if strangers:
            raise SlaInputError(
                f"term {term.id}: outages name resources outside the deployment: "
                + ", ".join(strangers),
                "Add them to members, or drop their outages before assessing.",
            )
    if term.scope.kind is ScopeKind.MULTI_ZONE:
        if members is None:
            raise SlaInputError(
                f"term {term.id} is a multi-zone commitment but no members were given",
                "Pass members=[Member(resource, zone), ...] for every instance in the deployment;"
                " only time when all of them were unavailable counts.",
            )
        return deployment
    if members is not None:
        if len(deployment) > 1:
            raise SlaInputError(
                f"term {term.id} covers a single instance but {len(deployment)} members were given",
                "Assess each resource separately, or use the term's multi-zone variant.",
            )
        return deployment
    named = sorted({o.resource for o in outages if o.resource})
    if len(named) > 1:
        raise SlaInputError(
            f"term {term.id} covers a single instance but outages name {len(named)} resources: "
            + ", ".join(named),
            "Assess each resource separately (pass members=[Member(resource)]).",
        )
    return (Member(named[0] if named else ""),)


def deployment_unavailability(
    term: SlaTerm, pieces: Sequence[Outage], deployment: Sequence[Member]
) -> tuple[tuple[Interval, ...], tuple[Interval, ...]]:
    """(unavailability before exclusions, after exclusions), combined across members.

    Each member's outages are unioned and its exclusions subtracted; a multi-zone term then
    keeps only the instants when every member was unavailable.
    """
    raw_groups: list[tuple[Interval, ...]] = []
    net_groups: list[tuple[Interval, ...]] = []
    for member in deployment:
        own = [p for p in pieces if p.applies_to(member)]
        down = merge_intervals(p.interval for p in own if not p.excluded)
        cuts = merge_intervals(p.interval for p in own if p.excluded)
        raw_groups.append(down)
        net_groups.append(subtract_intervals(down, cuts))
    if term.scope.kind is ScopeKind.MULTI_ZONE:
        return intersect_all(raw_groups), intersect_all(net_groups)
    return raw_groups[0], net_groups[0]


def check_eligibility(term: SlaTerm, deployment: Sequence[Member]) -> tuple[bool, str]:
    """(eligible, reason): a multi-zone term needs its minimum members and zones."""
    if term.scope.kind is not ScopeKind.MULTI_ZONE:
        return True, ""
    zones = {m.zone for m in deployment if m.zone}
    if len(deployment) >= term.scope.min_members and len(zones) >= term.scope.min_zones:
        return True, ""
    return False, (
        f"the deployment has {len(deployment)} member(s) in {len(zones)} zone(s); "
        f"{term.id} needs at least {term.scope.min_members} member(s) in "
        f"{term.scope.min_zones} zone(s)"
    )


def overlaps_any(piece: Outage, spans: Sequence[Interval]) -> bool:
    """True when ``piece`` shares some instant with one of ``spans``."""
    return any(piece.start < s.end and s.start < piece.end for s in spans)


def sorted_unique(values: Iterable[str]) -> tuple[str, ...]:
    """The distinct non-empty strings, sorted."""
    return tuple(sorted({v for v in values if v}))


def _outage_key(outage: Outage) -> tuple[Any, ...]:
    return (
        outage.start,
        outage.end,
        outage.resource,
        outage.zone,
        outage.excluded,
        outage.source,
        outage.source_event_id,
        outage.exclusion_reason,
    )
