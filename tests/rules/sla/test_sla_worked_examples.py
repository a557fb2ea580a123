"""Every worked example of sla-credits.md section 4.3, through the shipped terms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from rules.sla.catalogue import default_catalogue
from rules.sla.credit import Member, assess

from .helpers import down, utc

CATALOGUE = default_catalogue()


@pytest.mark.parametrize(
    ("days", "month", "minutes"),
    [
        (28, "2026-02", 40_320),
        (29, "2028-02", 41_760),
        (30, "2026-06", 43_200),
        (31, "2026-07", 44_640),
    ],
)
def test_minutes_per_month(days: int, month: str, minutes: int) -> None:
    result = assess(CATALOGUE.get("azure.vm.single.premium"), [], month)

    assert result.period_minutes == minutes == days * 24 * 60


# A. Single VM, 99.9%, down 50 min in a 30-day month, VM cost $200/month -> 10%, $20.
@pytest.mark.parametrize("term_id", ["azure.vm.single.premium", "gcp.gce.single"])
def test_example_a_single_vm_down_50_minutes(term_id: str) -> None:
    outage = down(utc(2026, 6, 15, 8), 50, resource="vm-1", source_event_id="evt-a")

    result = assess(CATALOGUE.get(term_id), [outage], "2026-06", monthly_charge=Decimal("200"))

    assert result.uptime_pct == Fraction(43_150, 43_200) * 100
    assert result.breached
    assert result.credit_pct == 10
    assert result.credit_amount == Decimal("20.00")
    assert result.summary == (
        "43,200 min in June 2026; 50 min unavailable; uptime 99.8843% < 99.9% "
        "-> 10% credit of $200.00 = $20.00"
    )


def test_example_a_allowance_is_43_2_minutes() -> None:
    term = CATALOGUE.get("azure.vm.single.premium")
    start = utc(2026, 6, 15, 8)

    at_allowance = assess(term, [down(start, 43)], "2026-06")
    over_allowance = assess(term, [down(start, 44)], "2026-06")

    assert not at_allowance.breached
    assert over_allowance.breached


def test_example_a_as_aws_ec2_single_instance_gives_no_credit() -> None:
    # 99.5% allows 216 min a month; 50 min is well inside it.
    term = CATALOGUE.get("aws.ec2.instance")

    result = assess(term, [down(utc(2026, 6, 15, 8), 50)], "2026-06", monthly_charge=Decimal("200"))

    assert not result.breached
    assert result.credit_amount == Decimal("0.00")
    assert not result.claimable
    assert "aws.ec2.instance" in result.arithmetic[0]
    assert any("measurement" in step for step in result.arithmetic if "Unconfirmed" in step)


def test_example_a_aws_allowance_is_216_minutes() -> None:
    term = CATALOGUE.get("aws.ec2.instance")
    start = utc(2026, 6, 15, 8)

    assert not assess(term, [down(start, 216)], "2026-06").breached
    assert assess(term, [down(start, 217)], "2026-06").breached


# B. How month length moves the result, 99.9% commitment.
@pytest.mark.parametrize(
    ("month", "minutes", "shown", "credit_pct"),
    [
        ("2026-06", 44, "99.8981", 10),  # 43,156 / 43,200
        ("2026-07", 44, "99.9014", 0),  # 44,596 / 44,640
        ("2026-02", 41, "99.8983", 10),  # 40,279 / 40,320
        ("2026-02", 40, "99.9008", 0),  # 40,280 / 40,320
    ],
)
@pytest.mark.parametrize("term_id", ["azure.vm.single.premium", "gcp.gce.single"])
def test_example_b_month_length_moves_the_result(
    term_id: str, month: str, minutes: int, shown: str, credit_pct: int
) -> None:
    year, mon = (int(part) for part in month.split("-"))
    outage = down(utc(year, mon, 10, 3), minutes)

    result = assess(CATALOGUE.get(term_id), [outage], month)

    assert f"uptime {shown}%" in result.summary
    assert result.credit_pct == credit_pct
    assert result.breached is (credit_pct > 0)


def test_example_b_exact_fractions() -> None:
    term = CATALOGUE.get("azure.vm.single.premium")

    june = assess(term, [down(utc(2026, 6, 10), 44)], "2026-06")
    july = assess(term, [down(utc(2026, 7, 10), 44)], "2026-07")

    assert june.uptime_pct == Fraction(43_156, 43_200) * 100
    assert july.uptime_pct == Fraction(44_596, 44_640) * 100


def test_brief_example_summary_line() -> None:
    # "43,200 min in June 2026; 95 min unavailable; uptime 99.780% < 99.9% -> 10% credit of
    # $1,234.00 = $123.40" (the issue's example, with our 4-decimal display).
    term = CATALOGUE.get("azure.vm.availability_zones")
    members = [Member("vm-1", "1"), Member("vm-2", "2")]
    outages = [
        down(utc(2026, 6, 3, 9), 95, resource="vm-1"),
        down(utc(2026, 6, 3, 9) - timedelta(minutes=5), 120, resource="vm-2"),
    ]

    result = assess(term, outages, "2026-06", members=members, monthly_charge=Decimal("1234"))

    assert result.summary == (
        "43,200 min in June 2026; 95 min unavailable; uptime 99.7801% < 99.99% "
        "-> 10% credit of $1,234.00 = $123.40"
    )
