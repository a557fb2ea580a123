"""The evidence-pack steps: complete, checkable with a calculator, and stable."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from rules.sla.catalogue import default_catalogue
from rules.sla.credit import Member, assess
from rules.sla.evidence import format_minutes, format_money, format_pct

from .helpers import down, utc

CATALOGUE = default_catalogue()


def test_full_arithmetic_for_a_single_vm_claim() -> None:
    term = CATALOGUE.get("azure.vm.single.premium")
    outages = [
        down(
            utc(2026, 6, 15, 8),
            50,
            resource="vm-1",
            source="azure.resource_health",
            source_event_id="TRK-1",
        ),
        down(utc(2026, 6, 15, 8, 20), 10, resource="vm-1", source="monitor"),  # inside it
    ]

    result = assess(term, outages, "2026-06", monthly_charge=Decimal("200"))

    assert result.arithmetic == (
        "Term azure.vm.single.premium v1.0.0 (Virtual Machines, single instance with Premium SSD "
        "or Ultra Disk on all disks): 99.9% monthly uptime, scope single_instance; source "
        "Microsoft Service Level Agreements (SLA) for Online Services "
        "<https://www.microsoft.com/licensing/docs/view/Service-Level-Agreements-SLA-for-Online-"
        "Services>, effective date not recorded.",
        "Period: June 2026 in UTC, 2026-06-01 00:00 to 2026-07-01 00:00 UTC = 43,200 min.",
        "Outages: 2 record(s) in June 2026 from azure.resource_health, monitor; duplicates and "
        "overlaps counted once.",
        "Unavailable: 50 min in 1 interval(s).",
        "Downtime: 50 min; policy whole_minute: a minute counts only when it was unavailable for "
        "all of it.",
        "Uptime: (43,200 - 50) / 43,200 x 100 = 99.8843% < 99.9% -> commitment missed.",
        "Tier: < 99.9% and >= 99.0% -> 10%.",
        "Credit: 10% of $200.00 = $20.00.",
        "Claim deadline: 2026-08-31 (UTC); rule: The claim must be received within two months of "
        "the end of the billing month in which the incident occurred.",
        "Unconfirmed in term azure.vm.single.premium: claim.filing_api_requires, credit.tiers, "
        "effective_date, exclusions, measurement.minute_policy, period.timezone; check the live "
        "SLA before relying on these figures.",
        "43,200 min in June 2026; 50 min unavailable; uptime 99.8843% < 99.9% -> 10% credit of "
        "$200.00 = $20.00",
    )
    assert result.source_event_ids == ("TRK-1",)


def test_multi_zone_steps_say_only_simultaneous_time_counts() -> None:
    term = CATALOGUE.get("gcp.gce.multizone")
    members = [Member("vm-1", "europe-west1-b"), Member("vm-2", "europe-west1-c")]
    outages = [
        down(utc(2026, 6, 3, 10), 90, resource="vm-1", source="servicehealth"),
        down(utc(2026, 6, 3, 10, 30), 90, resource="vm-2", source="servicehealth"),
    ]

    result = assess(term, outages, "2026-06", members=members)

    text = "\n".join(result.arithmetic)
    assert (
        "Deployment: 2 member(s) in 2 zone(s) (europe-west1-b, europe-west1-c); only time when "
        "all were unavailable at once counts: 60 min."
    ) in text
    assert result.downtime_minutes == 60


def test_ineligible_deployment_steps_give_the_reason() -> None:
    term = CATALOGUE.get("azure.vm.availability_zones")
    members = [Member("vm-1", "1"), Member("vm-2", "1")]

    result = assess(term, [down(utc(2026, 6, 3), 120)], "2026-06", members=members)

    assert "Not eligible: the deployment has 2 member(s) in 1 zone(s); " in "\n".join(
        result.arithmetic
    )
    assert result.summary.endswith("-> no credit (not eligible)")


def test_minimum_is_explained_when_it_removes_the_credit() -> None:
    term = CATALOGUE.get("aws.eks.control_plane")

    result = assess(term, [down(utc(2026, 6, 3), 60)], "2026-06", monthly_charge="7.30")

    assert (
        "Credit: 10% of $7.30 = $0.73; at or below the $1.00 minimum, so no credit is issued."
        in (result.arithmetic)
    )
    assert result.summary.endswith("(at or below the minimum: no credit)")


def test_rounded_downtime_states_the_exact_duration() -> None:
    term = CATALOGUE.get("gcp.gce.single")

    result = assess(term, [down(utc(2026, 6, 3), 2, 30)], "2026-06")

    assert "Downtime: 2 min (exact 2.5 min); policy run_floor" in "\n".join(result.arithmetic)


@pytest.mark.parametrize(
    ("value", "bounds", "shown"),
    [
        (Fraction(43_150, 43_200) * 100, [], "99.8843"),
        (Fraction(100), [], "100"),
        (Fraction(0), [], "0"),
        (Fraction(999, 10), [Decimal("99.9")], "99.9000"),
        (Fraction(4_320_000 - 4_321, 4_320_000) * 100, [Decimal("99.9")], "99.89998"),
        (Fraction(99_000_001, 1_000_000), [Decimal("99.0")], "99.000001"),
    ],
)
def test_format_pct(value: Fraction, bounds: list, shown: str) -> None:
    assert format_pct(value, bounds) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Fraction(43_200), "43,200"), (Fraction(5, 2), "2.5"), (Fraction(1, 6), "0.167")],
)
def test_format_minutes(value: Fraction, shown: str) -> None:
    assert format_minutes(value) == shown


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1234"), "USD", "$1,234.00"),
        (Decimal("0.005"), "USD", "$0.01"),
        (Decimal("99.5"), "EUR", "99.50 EUR"),
    ],
)
def test_format_money(amount: Decimal, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown
