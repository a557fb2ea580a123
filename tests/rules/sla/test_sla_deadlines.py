"""Claim deadlines from each provider's rule (sla-credits.md sections 0 and 4.2, step 11)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.sla.catalogue import default_catalogue
from rules.sla.credit import assess, claim_deadline
from rules.sla.period import BillingMonth

from .helpers import down, make_term, utc

CATALOGUE = default_catalogue()


# AWS: received by the end of the second billing cycle after the incident's cycle.
@pytest.mark.parametrize(
    ("month", "deadline"),
    [
        ((2026, 3), date(2026, 5, 31)),  # the reference's example
        ((2026, 6), date(2026, 8, 31)),
        ((2026, 7), date(2026, 9, 30)),
        ((2026, 11), date(2027, 1, 31)),
        ((2026, 12), date(2027, 2, 28)),
        ((2027, 12), date(2028, 2, 29)),  # leap February
    ],
)
def test_aws_end_of_second_billing_cycle(month: tuple[int, int], deadline: date) -> None:
    term = CATALOGUE.get("aws.ec2.instance")

    assert claim_deadline(term, BillingMonth(*month)) == deadline


# Azure: within two months of the end of the billing month of the incident.
@pytest.mark.parametrize(
    ("month", "deadline"),
    [
        ((2026, 3), date(2026, 5, 31)),  # the reference's example
        ((2026, 4), date(2026, 6, 30)),
        ((2026, 2), date(2026, 4, 30)),
        ((2026, 12), date(2027, 2, 28)),
        ((2027, 12), date(2028, 2, 29)),
    ],
)
def test_azure_two_months_after_month_end(month: tuple[int, int], deadline: date) -> None:
    term = CATALOGUE.get("azure.vm.single.premium")

    assert claim_deadline(term, BillingMonth(*month)) == deadline


# GCP: within 30 days of becoming eligible, which starts when the month closes.
@pytest.mark.parametrize(
    ("month", "deadline"),
    [
        ((2026, 3), date(2026, 4, 30)),  # the reference's "about 30 April"
        ((2026, 1), date(2026, 3, 2)),  # February 2026 has 28 days
        ((2028, 1), date(2028, 3, 1)),  # February 2028 has 29
        ((2026, 12), date(2027, 1, 30)),
    ],
)
def test_gcp_thirty_days_after_month_close(month: tuple[int, int], deadline: date) -> None:
    term = CATALOGUE.get("gcp.gce.single")

    assert claim_deadline(term, BillingMonth(*month)) == deadline


# OCI: "within 30 days", counted conservatively from the day the incident started.
@pytest.mark.parametrize(
    ("incident", "deadline"),
    [
        (utc(2026, 3, 10, 14), date(2026, 4, 8)),
        (utc(2026, 3, 31, 23, 30), date(2026, 4, 29)),
        (utc(2026, 2, 1), date(2026, 3, 2)),
    ],
)
def test_oci_thirty_days_from_the_incident(incident, deadline: date) -> None:
    term = CATALOGUE.get("oci.compute.instance")
    month = BillingMonth.of(incident)

    assert claim_deadline(term, month, incident) == deadline


def test_oci_without_an_incident_has_no_deadline() -> None:
    term = CATALOGUE.get("oci.compute.instance")

    result = assess(term, [], "2026-03")

    assert result.claim_deadline is None
    assert any(step.startswith("Claim deadline: none") for step in result.arithmetic)


def test_oci_counts_from_the_real_start_of_an_incident_that_began_last_month() -> None:
    term = CATALOGUE.get("oci.compute.instance")
    incident = down(utc(2026, 2, 28, 23), 120)

    result = assess(term, [incident], "2026-03")

    assert result.downtime_minutes == 60
    assert result.claim_deadline == date(2026, 3, 29)


def test_oci_counts_from_the_earliest_incident_of_the_month() -> None:
    term = CATALOGUE.get("oci.compute.instance")
    outages = [down(utc(2026, 3, 20), 30), down(utc(2026, 3, 5), 30)]

    result = assess(term, outages, "2026-03")

    assert result.claim_deadline == date(2026, 4, 3)


def test_oci_ignores_excluded_windows_when_finding_the_incident() -> None:
    term = CATALOGUE.get("oci.compute.instance")
    outages = [
        down(utc(2026, 3, 2), 30, excluded=True, exclusion_reason="customer change"),
        down(utc(2026, 3, 20), 30),
    ]

    result = assess(term, outages, "2026-03")

    assert result.claim_deadline == date(2026, 4, 18)


@pytest.mark.parametrize(
    ("provider", "rule", "count"),
    [
        ("aws", "end_of_nth_cycle_after", 2),
        ("azure", "months_after_period_end", 2),
        ("gcp", "days_after_period_end", 30),
        ("oci", "days_after_incident", 30),
    ],
)
def test_every_term_of_a_provider_uses_its_deadline_rule(
    provider: str, rule: str, count: int
) -> None:
    terms = CATALOGUE.for_provider(provider)

    assert terms
    assert {(t.deadline.rule, t.deadline.count) for t in terms} == {(rule, count)}


def test_deadline_uses_the_billing_time_zone() -> None:
    # 2026-03-01 05:00 UTC is still 28 February in Los Angeles.
    term = make_term(
        period={"timezone": "America/Los_Angeles"},
        deadline={"rule": "days_after_incident", "count": 30},
    )

    assert claim_deadline(term, BillingMonth(2026, 2), utc(2026, 3, 1, 5)) == date(2026, 3, 29)


def test_deadline_is_reported_in_the_assessment_and_its_steps() -> None:
    result = assess(CATALOGUE.get("gcp.gce.single"), [down(utc(2026, 3, 3), 90)], "2026-03")

    assert result.claim_deadline == date(2026, 4, 30)
    assert any(step.startswith("Claim deadline: 2026-04-30 (UTC)") for step in result.arithmetic)
