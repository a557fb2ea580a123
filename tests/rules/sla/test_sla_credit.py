"""The uptime and credit arithmetic: month lengths, tiers, minutes, overlaps, caps, members."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from rules.sla.catalogue import default_catalogue
from rules.sla.credit import (
    Member,
    Outage,
    SlaInputError,
    assess,
    compute_credit_amount,
    find_tier,
    merge_outages,
    quantise_downtime,
    split_by_month,
    uptime_from_request_counts,
)
from rules.sla.intervals import Interval
from rules.sla.period import BillingMonth

from .helpers import down, make_term, utc

CATALOGUE = default_catalogue()

# Months used throughout: June 2026 has 30 days, July 2026 31, February 2026 28, February 2028 29.
JUN, JUL, FEB, FEB_LEAP = "2026-06", "2026-07", "2026-02", "2028-02"
MONTH_START = {JUN: utc(2026, 6, 1), JUL: utc(2026, 7, 1), FEB: utc(2026, 2, 1)}
MONTH_START[FEB_LEAP] = utc(2028, 2, 1)


def whole_minutes_term(commitment: str):
    """A term with the given commitment and tiers 10/25/100 below it, counting whole minutes."""
    return make_term(
        commitment_pct=commitment,
        measurement={"minute_policy": "whole_minute"},
        credit={
            "tiers": [
                {"below": commitment, "at_least": "99.0", "credit_pct": 10},
                {"below": "99.0", "at_least": "95.0", "credit_pct": 25},
                {"below": "95.0", "at_least": "0", "credit_pct": 100},
            ]
        },
    )


def outage_of(month: str, minutes: float = 0, seconds: float = 0, **fields) -> Outage:
    """An outage on the 10th of ``month`` at noon."""
    start = MONTH_START[month] + timedelta(days=9, hours=12)
    return down(start, minutes, seconds, **fields)


# --- the month-length edge ----------------------------------------------------------------


# Allowed downtime = period minutes x (1 - commitment): 99.9% allows 43.2 min in a 30-day
# month and 44.64 in a 31-day one; 99.95% allows 21.6 / 22.32; February (28 days) 40.32 and
# 20.16, February (29 days) 41.76 and 20.88. The first whole minute above the allowance breaches.
@pytest.mark.parametrize(
    ("commitment", "month", "minutes", "breached"),
    [
        ("99.9", JUN, 43, False),
        ("99.9", JUN, 44, True),
        ("99.9", JUL, 44, False),
        ("99.9", JUL, 45, True),
        ("99.9", FEB, 40, False),
        ("99.9", FEB, 41, True),
        ("99.9", FEB_LEAP, 41, False),
        ("99.9", FEB_LEAP, 42, True),
        ("99.95", JUN, 21, False),
        ("99.95", JUN, 22, True),
        ("99.95", JUL, 22, False),
        ("99.95", JUL, 23, True),
        ("99.95", FEB, 20, False),
        ("99.95", FEB, 21, True),
        ("99.95", FEB_LEAP, 20, False),
        ("99.95", FEB_LEAP, 21, True),
        ("99.99", JUN, 4, False),
        ("99.99", JUN, 5, True),
        ("99.99", JUL, 4, False),
        ("99.99", JUL, 5, True),
        ("99.99", FEB, 4, False),
        ("99.99", FEB, 5, True),
    ],
)
def test_breach_depends_on_month_length(
    commitment: str, month: str, minutes: int, breached: bool
) -> None:
    term = whole_minutes_term(commitment)

    result = assess(term, [outage_of(month, minutes)], month)

    assert result.breached is breached
    assert (result.credit_pct == 10) is breached


@pytest.mark.parametrize(("commitment", "minutes"), [("99.9", 44), ("99.95", 22)])
def test_same_outage_breaches_in_30_day_month_but_not_in_31_day_month(
    commitment: str, minutes: int
) -> None:
    term = whole_minutes_term(commitment)

    june = assess(term, [outage_of(JUN, minutes)], JUN)
    july = assess(term, [outage_of(JUL, minutes)], JUL)

    assert (june.period_minutes, july.period_minutes) == (43_200, 44_640)
    assert june.breached
    assert june.credit_pct == 10
    assert not july.breached
    assert july.credit_pct == 0


def test_no_whole_minute_outage_separates_30_and_31_day_months_at_99_99() -> None:
    # 99.99% allows 4.32 min (30 days) and 4.464 min (31 days): no whole minute lies between.
    term = whole_minutes_term("99.99")

    for minutes in range(1, 10):
        june = assess(term, [outage_of(JUN, minutes)], JUN)
        july = assess(term, [outage_of(JUL, minutes)], JUL)
        assert june.breached == july.breached, minutes


def test_seconds_separate_30_and_31_day_months_at_99_99() -> None:
    # 260 s = 4.333 min: above 4.32 (30 days), below 4.464 (31 days).
    term = make_term(
        commitment_pct="99.99",
        credit={"tiers": [{"below": "99.99", "at_least": "0", "credit_pct": 10}]},
    )

    june = assess(term, [outage_of(JUN, seconds=260)], JUN)
    july = assess(term, [outage_of(JUL, seconds=260)], JUL)

    assert june.breached
    assert not july.breached


@pytest.mark.parametrize(
    ("month", "seconds", "breached"),
    [
        (JUN, 43 * 60 + 12, False),  # exactly 43.2 min: uptime exactly 99.9%, not below it
        (JUN, 43 * 60 + 13, True),
        (JUL, 44 * 60 + 38, False),  # 44.64 min = 44 min 38.4 s
        (JUL, 44 * 60 + 39, True),
        (FEB, 40 * 60 + 19, False),  # 40.32 min = 40 min 19.2 s
        (FEB, 40 * 60 + 20, True),
    ],
)
def test_exact_allowance_is_not_a_breach(month: str, seconds: int, breached: bool) -> None:
    term = make_term(commitment_pct="99.9")

    result = assess(term, [outage_of(month, seconds=seconds)], month)

    assert result.breached is breached


def test_exactly_the_allowance_gives_uptime_equal_to_commitment() -> None:
    term = make_term(commitment_pct="99.9")

    result = assess(term, [outage_of(JUN, seconds=43 * 60 + 12)], JUN)

    assert result.uptime_pct == Fraction(999, 10)
    assert result.tier is None
    assert not result.claimable


# --- tier boundaries ----------------------------------------------------------------------


# aws.ec2.region: < 99.99 and >= 99.0 -> 10%; < 99.0 and >= 95.0 -> 30%; < 95.0 -> 100%.
# In a 30-day month 99.0% is 432 min down and 95.0% is 2,160 min down.
@pytest.mark.parametrize(
    ("minutes", "credit_pct"),
    [(4, 0), (5, 10), (431, 10), (432, 10), (433, 30), (2_159, 30), (2_160, 30), (2_161, 100)],
)
def test_tier_boundaries_belong_to_the_better_tier(minutes: int, credit_pct: int) -> None:
    term = CATALOGUE.get("aws.ec2.region")
    members = [Member("i-a", "us-east-1a"), Member("i-b", "us-east-1b")]
    region_wide = outage_of(JUN, minutes, source_event_id="arn:aws:health:event/1")

    result = assess(term, [region_wide], JUN, members=members, monthly_charge=Decimal("1000"))

    assert result.credit_pct == credit_pct
    assert result.credit_amount == Decimal(1000) * credit_pct / 100


@pytest.mark.parametrize(
    ("uptime", "expected"),
    [
        (Fraction(99990, 1000), None),
        (Fraction(99989, 1000), 10),
        (Fraction(99, 1), 10),
        (Fraction(98999, 1000), 30),
        (Fraction(95, 1), 30),
        (Fraction(94999, 1000), 100),
        (Fraction(0), 100),
    ],
)
def test_find_tier_uses_lower_inclusive_upper_exclusive_ranges(
    uptime: Fraction, expected: int | None
) -> None:
    tiers = CATALOGUE.get("aws.ec2.region").credit.tiers

    tier = find_tier(tiers, uptime)

    assert (tier.credit_pct if tier else None) == expected


def test_boundary_at_99_in_a_31_day_month_uses_exact_seconds() -> None:
    # 1% of 44,640 min is 446.4 min = 446 min 24 s.
    term = make_term(commitment_pct="99.9")

    at_boundary = assess(term, [outage_of(JUL, seconds=446 * 60 + 24)], JUL)
    past_boundary = assess(term, [outage_of(JUL, seconds=446 * 60 + 25)], JUL)

    assert at_boundary.uptime_pct == 99
    assert at_boundary.credit_pct == 10
    assert past_boundary.credit_pct == 25


# --- partial minutes and each provider's rounding -----------------------------------------


# 10:00:30 to 10:02:30 is two minutes long and touches three clock minutes, covering one fully.
@pytest.mark.parametrize(
    ("policy", "expected"),
    [("whole_minute", 1), ("any_part", 3), ("run_floor", 2), ("exact", 2)],
)
def test_minute_policies_on_a_straddling_outage(policy: str, expected: int) -> None:
    term = make_term(measurement={"minute_policy": policy})

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 30), 2)], JUN)

    assert result.downtime_minutes == expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("whole_minute", Fraction(0)),
        ("any_part", Fraction(1)),
        ("run_floor", Fraction(0)),
        ("exact", Fraction(59, 60)),
    ],
)
def test_minute_policies_on_a_59_second_blip(policy: str, expected: Fraction) -> None:
    term = make_term(measurement={"minute_policy": policy})

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 0), seconds=59)], JUN)

    assert result.downtime_minutes == expected


def test_any_part_counts_a_clock_minute_once_for_two_blips_in_it() -> None:
    term = make_term(measurement={"minute_policy": "any_part"})
    blips = [
        down(utc(2026, 6, 10, 10, 0, 10), seconds=10),
        down(utc(2026, 6, 10, 10, 0, 40), seconds=10),
    ]

    result = assess(term, blips, JUN)

    assert result.downtime_minutes == 1


@pytest.mark.parametrize(("policy", "expected"), [("run_floor", 1), ("whole_minute", 0)])
def test_touching_outages_form_one_run_before_rounding(policy: str, expected: int) -> None:
    # 30 s + 40 s from two sources, back to back: one 70 s run, no clock minute fully covered.
    term = make_term(measurement={"minute_policy": policy})
    outages = [
        down(utc(2026, 6, 10, 10, 0, 30), seconds=30, source="aws.health"),
        down(utc(2026, 6, 10, 10, 1, 0), seconds=40, source="monitor"),
    ]

    result = assess(term, outages, JUN)

    assert result.downtime_minutes == expected


def test_gcp_ignores_blips_shorter_than_a_minute() -> None:
    term = CATALOGUE.get("gcp.gce.single")
    blips = [
        down(utc(2026, 6, 10, 10, 0, 0) + timedelta(minutes=5 * n), seconds=50) for n in range(30)
    ]

    result = assess(term, blips, JUN, members=[Member("vm-1")])

    assert result.minute_policy == "run_floor"
    assert result.downtime_minutes == 0
    assert not result.breached


def test_gcp_counts_whole_minutes_of_each_run() -> None:
    # Two runs of 2 min 59 s each count 2 min each under Google's consecutive-minute rule.
    term = CATALOGUE.get("gcp.gce.single")
    runs = [down(utc(2026, 6, 10, 10), 2, 59), down(utc(2026, 6, 11, 10), 2, 59)]

    result = assess(term, runs, JUN)

    assert result.downtime_minutes == 4


def test_aws_counts_only_fully_unavailable_minutes_by_default() -> None:
    term = CATALOGUE.get("aws.ec2.instance")

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 30), 2)], JUN)

    assert result.minute_policy == "whole_minute"
    assert result.downtime_minutes == 1
    assert "policy whole_minute" in "\n".join(result.arithmetic)


def test_minute_policy_override_is_applied_and_recorded() -> None:
    term = CATALOGUE.get("azure.vm.single.premium")

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 30), 2)], JUN, minute_policy="any_part")

    assert result.downtime_minutes == 3
    assert result.minute_policy == "any_part"
    assert "policy any_part" in "\n".join(result.arithmetic)


def test_minute_policy_override_is_refused_for_error_rate_terms() -> None:
    with pytest.raises(SlaInputError, match="minute_policy"):
        assess(CATALOGUE.get("aws.s3.standard"), [], JUN, minute_policy="any_part")


def test_unknown_minute_policy_lists_the_choices() -> None:
    with pytest.raises(SlaInputError) as caught:
        assess(CATALOGUE.get("aws.ec2.instance"), [], JUN, minute_policy="nearest")

    assert "any_part" in caught.value.remediation
    assert "run_floor" in caught.value.remediation


# --- error-rate measurement ---------------------------------------------------------------


def test_error_rate_term_counts_exact_unavailable_share() -> None:
    term = CATALOGUE.get("aws.s3.standard")

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 0), 7, 30)], JUN)

    assert result.downtime_minutes == Fraction(15, 2)
    assert result.minute_policy is None
    assert "uniform traffic" in "\n".join(result.arithmetic)


@pytest.mark.parametrize(("seconds", "counted"), [(6, 0), (7, 1), (60, 1), (66, 1), (67, 2)])
def test_error_threshold_counts_minutes_above_ten_percent(seconds: int, counted: int) -> None:
    # Cloud Functions (old SLA): a minute is Downtime above 10% errors; 6 s of 60 is exactly 10%.
    term = CATALOGUE.get("gcp.cloud_functions")

    result = assess(term, [down(utc(2026, 6, 10, 10, 0, 0), seconds=seconds)], JUN)

    assert result.downtime_minutes == counted


def test_request_counts_give_mean_error_rate_uptime() -> None:
    # One 5-minute interval at 50% errors among 8,640 intervals in June.
    term = CATALOGUE.get("aws.s3.standard")
    rows = [(utc(2026, 6, 10, 10, 0), 1000, 500), (utc(2026, 6, 10, 10, 5), 0, 0)]

    uptime = uptime_from_request_counts(term, rows, JUN)

    assert uptime == 100 - Fraction(1, 2) / 8640 * 100


def test_request_counts_below_minimum_never_count_as_downtime() -> None:
    term = CATALOGUE.get("gcp.cloud_functions")
    rows = [
        (utc(2026, 6, 10, 10, 0), 100, 11),  # 11% of 100: down
        (utc(2026, 6, 10, 10, 1), 99, 50),  # too few executions
        (utc(2026, 6, 10, 10, 2), 200, 20),  # exactly 10%: not above the threshold
    ]

    uptime = uptime_from_request_counts(term, rows, JUN)

    assert uptime == Fraction(43_199, 43_200) * 100


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(utc(2026, 6, 1, 0, 1), 10, 1)], "5-minute boundary"),
        ([(utc(2026, 6, 1), 10, 11)], "failed must not exceed total"),
        ([(utc(2026, 6, 1), 10, 1), (utc(2026, 6, 1), 10, 1)], "two request-count rows"),
    ],
)
def test_bad_request_counts_are_refused(rows: list, message: str) -> None:
    with pytest.raises(SlaInputError) as caught:
        uptime_from_request_counts(CATALOGUE.get("aws.s3.standard"), rows, JUN)

    assert message in str(caught.value)


def test_request_counts_refused_for_minute_terms() -> None:
    with pytest.raises(SlaInputError, match="measured in minutes"):
        uptime_from_request_counts(CATALOGUE.get("aws.ec2.instance"), [], JUN)


# --- overlapping and duplicate events -----------------------------------------------------


def test_duplicate_events_from_two_sources_count_once() -> None:
    term = make_term()
    start = utc(2026, 6, 10, 10)
    outages = [
        down(start, 30, source="aws.health", source_event_id="arn:event/1"),
        down(start, 30, source="monitor", source_event_id="mon-7"),
        down(start, 30, source="aws.health", source_event_id="arn:event/1"),
    ]

    result = assess(term, outages, JUN)

    assert result.downtime_minutes == 30
    assert result.source_event_ids == ("arn:event/1", "mon-7")


def test_overlapping_events_are_unioned() -> None:
    term = make_term()
    outages = [
        down(utc(2026, 6, 10, 10, 0), 30),
        down(utc(2026, 6, 10, 10, 20), 30),  # overlaps by 10 min
        down(utc(2026, 6, 10, 10, 5), 5),  # inside the first
        down(utc(2026, 6, 10, 12, 0), 10),  # separate
    ]

    result = assess(term, outages, JUN)

    assert result.downtime_minutes == 60
    assert [
        (i.start.hour, i.start.minute, i.end.hour, i.end.minute) for i in result.downtime_intervals
    ] == [(10, 0, 10, 50), (12, 0, 12, 10)]


def test_merge_outages_keeps_every_event_id_of_a_merged_run() -> None:
    outages = [
        down(utc(2026, 6, 10, 10, 0), 30, resource="i-1", source_event_id="b"),
        down(utc(2026, 6, 10, 10, 20), 30, resource="i-1", source_event_id="a"),
        down(utc(2026, 6, 10, 10, 0), 30, resource="i-2", source_event_id="c"),
    ]

    merged = merge_outages(outages)

    assert [(m.resource, m.source_event_ids, m.end - m.start) for m in merged] == [
        ("i-2", ("c",), timedelta(minutes=30)),
        ("i-1", ("a", "b"), timedelta(minutes=50)),
    ]


# --- an incident across a month boundary --------------------------------------------------


def test_incident_across_month_end_becomes_two_claims() -> None:
    term = CATALOGUE.get("aws.ec2.instance")
    incident = Outage(
        utc(2026, 6, 30, 20, 0),
        utc(2026, 7, 1, 2, 0),
        resource="i-1",
        source_event_id="arn:event/9",
    )

    by_month = split_by_month([incident])
    june = assess(term, by_month[BillingMonth(2026, 6)], JUN, monthly_charge=Decimal("100"))
    july = assess(term, by_month[BillingMonth(2026, 7)], JUL, monthly_charge=Decimal("100"))

    assert list(by_month) == [BillingMonth(2026, 6), BillingMonth(2026, 7)]
    assert (june.downtime_minutes, july.downtime_minutes) == (240, 120)
    assert june.credit_pct == 10
    assert july.credit_pct == 0
    assert (june.claim_deadline.isoformat(), july.claim_deadline.isoformat()) == (
        "2026-08-31",
        "2026-09-30",
    )


def test_assess_clips_an_unsplit_incident_to_the_month() -> None:
    term = make_term()
    incident = Outage(utc(2026, 6, 30, 23, 30), utc(2026, 7, 1, 0, 45))

    june = assess(term, [incident], JUN)
    july = assess(term, [incident], JUL)

    assert (june.downtime_minutes, july.downtime_minutes) == (30, 45)


def test_split_across_several_months_preserves_duration() -> None:
    incident = Outage(utc(2026, 1, 31, 12), utc(2026, 4, 1, 6))

    by_month = split_by_month([incident])

    assert [str(m) for m in by_month] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    total = sum((p.end - p.start for pieces in by_month.values() for p in pieces), timedelta())
    assert total == incident.end - incident.start


def test_outage_ending_exactly_at_midnight_stays_in_its_month() -> None:
    by_month = split_by_month([Outage(utc(2026, 6, 30, 23), utc(2026, 7, 1))])

    assert list(by_month) == [BillingMonth(2026, 6)]


# --- exclusions ---------------------------------------------------------------------------


def maintenance(start, minutes, **fields) -> Outage:
    return down(start, minutes, excluded=True, exclusion_reason="scheduled maintenance", **fields)


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([], 60),
        ([(15, 15)], 45),  # inside the outage
        ([(-30, 40)], 50),  # overlapping its start: only the overlap goes
        ([(90, 30)], 60),  # outside the outage: nothing removed
        ([(15, 15), (20, 5)], 45),  # overlapping windows are subtracted once
        ([(0, 60)], 0),  # the whole outage
    ],
)
def test_exclusions_remove_only_the_overlap(windows: list, expected: int) -> None:
    term = make_term()
    start = utc(2026, 6, 10, 10)
    outages = [down(start, 60)] + [maintenance(start + timedelta(minutes=o), m) for o, m in windows]

    result = assess(term, outages, JUN)

    assert result.downtime_minutes == expected


def test_exclusion_is_reported_with_its_reason() -> None:
    term = make_term()
    start = utc(2026, 6, 10, 10)

    result = assess(term, [down(start, 60), maintenance(start, 15)], JUN)

    text = "\n".join(result.arithmetic)
    assert "Exclusions: 1 window(s) (scheduled maintenance); 15 min removed" in text


def test_exclusion_can_turn_a_breach_into_no_breach() -> None:
    term = make_term()
    start = utc(2026, 6, 10, 10)

    without = assess(term, [down(start, 60)], JUN)
    with_window = assess(term, [down(start, 60), maintenance(start, 30)], JUN)

    assert without.breached
    assert not with_window.breached


def test_exclusion_needs_a_reason() -> None:
    with pytest.raises(SlaInputError, match="no exclusion_reason"):
        down(utc(2026, 6, 10), 10, excluded=True)


def test_reason_without_exclusion_is_refused() -> None:
    with pytest.raises(SlaInputError, match="excluded=False"):
        down(utc(2026, 6, 10), 10, exclusion_reason="maintenance")


# --- multi-zone intersection --------------------------------------------------------------

ZONES = [Member("i-a", "us-east-1a"), Member("i-b", "us-east-1b")]


@pytest.mark.parametrize(
    ("outages", "expected"),
    [
        ([("i-a", 0, 60)], 0),  # one zone down: the deployment still serves
        ([("i-a", 0, 60), ("i-b", 30, 60)], 30),  # overlap of both
        ([("i-a", 0, 30), ("i-b", 30, 30)], 0),  # back to back, never both
        ([("i-a", 0, 60), ("i-b", 10, 10), ("i-b", 40, 10)], 20),
        ([("", 0, 25)], 25),  # a region-wide event takes every member down
    ],
)
def test_multi_zone_counts_only_time_when_every_member_is_down(
    outages: list, expected: int
) -> None:
    term = CATALOGUE.get("aws.ec2.region")
    start = utc(2026, 6, 10, 10)
    items = [down(start + timedelta(minutes=o), m, resource=r) for r, o, m in outages]

    result = assess(term, items, JUN, members=ZONES)

    assert result.downtime_minutes == expected


def test_zone_wide_event_applies_to_the_members_in_that_zone() -> None:
    term = CATALOGUE.get("aws.ec2.region")
    start = utc(2026, 6, 10, 10)
    outages = [
        down(start, 60, zone="us-east-1a", source_event_id="az-event"),
        down(start + timedelta(minutes=45), 60, resource="i-b"),
    ]

    result = assess(term, outages, JUN, members=ZONES)

    assert result.downtime_minutes == 15
    assert result.source_event_ids == ("az-event",)


def test_third_member_still_up_means_no_downtime() -> None:
    term = CATALOGUE.get("aws.ec2.region")
    members = [*ZONES, Member("i-c", "us-east-1c")]
    start = utc(2026, 6, 10, 10)

    result = assess(
        term,
        [down(start, 60, resource="i-a"), down(start, 60, resource="i-b")],
        JUN,
        members=members,
    )

    assert result.downtime_minutes == 0


def test_member_exclusion_is_removed_before_intersecting() -> None:
    term = CATALOGUE.get("aws.ec2.region")
    start = utc(2026, 6, 10, 10)
    outages = [
        down(start, 60, resource="i-a"),
        down(start, 60, resource="i-b"),
        maintenance(start, 20, resource="i-b"),
    ]

    result = assess(term, outages, JUN, members=ZONES)

    assert result.downtime_minutes == 40


def test_single_zone_deployment_is_not_eligible_for_region_level_credit() -> None:
    term = CATALOGUE.get("aws.ec2.region")
    members = [Member("i-a", "us-east-1a"), Member("i-b", "us-east-1a")]

    result = assess(
        term, [down(utc(2026, 6, 10), 600)], JUN, members=members, monthly_charge=Decimal("500")
    )

    assert result.breached
    assert not result.eligible
    assert result.credit_pct == 0
    assert result.credit_amount == Decimal("0.00")
    assert "1 zone(s)" in result.ineligible_reason
    assert not result.claimable


def test_multi_zone_term_without_members_is_refused() -> None:
    with pytest.raises(SlaInputError) as caught:
        assess(CATALOGUE.get("gcp.gce.multizone"), [], JUN)

    assert "members" in caught.value.remediation


def test_outage_of_a_resource_outside_the_deployment_is_refused() -> None:
    with pytest.raises(SlaInputError, match="i-zzz"):
        assess(
            CATALOGUE.get("aws.ec2.region"),
            [down(utc(2026, 6, 10), 5, resource="i-zzz")],
            JUN,
            members=ZONES,
        )


def test_single_instance_term_refuses_outages_of_two_resources() -> None:
    outages = [down(utc(2026, 6, 10), 5, resource="i-1"), down(utc(2026, 6, 11), 5, resource="i-2")]

    with pytest.raises(SlaInputError, match="Assess each resource separately"):
        assess(CATALOGUE.get("aws.ec2.instance"), outages, JUN)


def test_single_instance_member_filters_deployment_wide_events() -> None:
    term = CATALOGUE.get("aws.ec2.instance")
    outages = [down(utc(2026, 6, 10), 30, resource="i-1"), down(utc(2026, 6, 11), 20)]

    result = assess(term, outages, JUN, members=[Member("i-1", "us-east-1a")])

    assert result.downtime_minutes == 50


# --- caps, minimums and unknown charges ---------------------------------------------------


def test_cap_limits_the_credit_percentage() -> None:
    term = make_term(credit={"cap_pct": 50})

    result = assess(term, [outage_of(JUN, 3000)], JUN, monthly_charge=Decimal("400"))

    assert result.tier.credit_pct == 100
    assert result.credit_pct == 50
    assert result.credit_amount == Decimal("200.00")
    assert any(step.startswith("Cap: credits stop at 50%") for step in result.arithmetic)


def test_credit_never_exceeds_the_month_charge() -> None:
    term = CATALOGUE.get("azure.vm.single.premium")

    result = assess(term, [down(utc(2026, 6, 1), 43_200)], JUN, monthly_charge=Decimal("73.19"))

    assert result.uptime_pct == 0
    assert result.credit_amount == Decimal("73.19")


def test_day_of_service_credit_is_capped_at_the_month_charge() -> None:
    # 30 days of service in a 28-day February would exceed the month's charge.
    term = CATALOGUE.get("aws.route53.dns")

    result = assess(term, [outage_of(FEB, 300)], FEB, monthly_charge=Decimal("56.00"))

    assert result.credit_days == 30
    assert result.credit_amount == Decimal("56.00")


@pytest.mark.parametrize(
    ("charge", "amount"),
    [("5.00", "0.00"), ("10.00", "0.00"), ("10.10", "1.01"), ("1234.00", "123.40")],
)
def test_aws_issues_no_credit_at_or_below_one_dollar(charge: str, amount: str) -> None:
    term = CATALOGUE.get("aws.ec2.instance")

    result = assess(term, [outage_of(JUN, 300)], JUN, monthly_charge=Decimal(charge))

    assert result.credit_pct == 10
    assert result.credit_amount == Decimal(amount)
    assert result.claimable is (Decimal(amount) > 0)


def test_minimum_in_usd_is_not_applied_to_other_currencies() -> None:
    term = CATALOGUE.get("aws.ec2.instance")

    result = assess(term, [outage_of(JUN, 300)], JUN, monthly_charge="5.00", currency="EUR")

    assert result.credit_amount == Decimal("0.50")
    assert result.summary.endswith("10% credit of 5.00 EUR = 0.50 EUR")


def test_unknown_charges_state_the_percentage_only() -> None:
    term = CATALOGUE.get("aws.eks.control_plane")

    result = assess(term, [outage_of(JUN, 60)], JUN)

    assert result.credit_pct == 10
    assert result.credit_amount is None
    assert result.claimable
    assert result.summary.endswith("-> 10% credit (charges unknown)")
    assert any("charges unknown" in step for step in result.arithmetic)


def test_unknown_charges_for_day_credits_state_the_days() -> None:
    result = assess(CATALOGUE.get("aws.route53.dns"), [outage_of(JUN, 10)], JUN)

    assert result.credit_days == 1
    assert result.credit_amount is None
    assert result.summary.endswith("1 day(s) of service credit (charges unknown)")


@pytest.mark.parametrize(
    ("minutes", "days"), [(4, 0), (5, 1), (30, 1), (31, 7), (240, 7), (241, 30)]
)
def test_route53_day_tiers(minutes: int, days: int) -> None:
    result = assess(
        CATALOGUE.get("aws.route53.dns"),
        [outage_of(JUN, minutes)],
        JUN,
        monthly_charge=Decimal("300"),
    )

    assert result.breached
    assert (result.credit_days or 0) == days
    assert result.credit_amount == Decimal(10 * days).quantize(Decimal("0.01"))


@pytest.mark.parametrize("charge", [1.5, -1, "abc", True])
def test_bad_charges_are_refused_with_a_fix(charge: object) -> None:
    with pytest.raises(SlaInputError) as caught:
        assess(make_term(), [], JUN, monthly_charge=charge)

    assert caught.value.remediation


def test_charge_given_as_string_is_exact() -> None:
    result = assess(make_term(), [outage_of(JUN, 100)], JUN, monthly_charge="0.30")

    assert result.credit_amount == Decimal("0.03")


# --- input validation ---------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    from datetime import datetime

    with pytest.raises(SlaInputError, match="naive"):
        Outage(datetime(2026, 6, 1), datetime(2026, 6, 2))


def test_end_before_start_is_refused() -> None:
    with pytest.raises(SlaInputError, match="end must be later"):
        Outage(utc(2026, 6, 2), utc(2026, 6, 1), source_event_id="evt-1")


@pytest.mark.parametrize("month", ["2026-13", "June 2026", "26-06"])
def test_bad_month_is_refused(month: str) -> None:
    with pytest.raises(SlaInputError):
        assess(make_term(), [], month)


def test_non_outage_items_are_refused() -> None:
    with pytest.raises(SlaInputError, match="not an Outage"):
        assess(make_term(), [Interval(utc(2026, 6, 1), utc(2026, 6, 2))], JUN)  # type: ignore[list-item]


def test_bad_currency_is_refused() -> None:
    with pytest.raises(SlaInputError, match="ISO 4217"):
        assess(make_term(), [], JUN, currency="dollars")


# --- results ------------------------------------------------------------------------------


def test_no_outages_means_full_uptime_and_no_claim() -> None:
    result = assess(CATALOGUE.get("aws.ec2.instance"), [], JUN, monthly_charge=Decimal("10"))

    assert result.uptime_pct == 100
    assert not result.breached
    assert result.credit_amount == Decimal("0.00")
    assert (
        result.summary
        == "43,200 min in June 2026; 0 min unavailable; uptime 100% >= 99.5% -> no credit"
    )


def test_outages_outside_the_month_do_not_count() -> None:
    result = assess(make_term(), [outage_of(JUL, 600)], JUN)

    assert result.downtime_minutes == 0


def test_uptime_display_never_blurs_a_miss_into_the_commitment() -> None:
    # 43.21 min down in 30 days: 99.8999768...% would read 99.9000 at 4 places.
    term = make_term()

    result = assess(term, [outage_of(JUN, seconds=43 * 60 + 12.6)], JUN)

    assert result.breached
    assert "uptime 99.89998% < 99.9%" in result.summary
    assert result.to_dict()["uptime_pct"] == "99.89998"


def test_to_dict_is_json_ready() -> None:
    import json

    term = CATALOGUE.get("aws.ec2.instance")
    result = assess(
        term, [outage_of(JUN, 300, source_event_id="arn:1")], JUN, monthly_charge="10.10"
    )

    data = json.loads(json.dumps(result.to_dict()))

    assert data["credit_amount"] == "1.01"
    assert data["uptime_fraction"] == "3575/36"  # (43,200 - 300) / 43,200 x 100
    assert data["claim_deadline"] == "2026-08-31"
    assert data["source_event_ids"] == ["arn:1"]
    assert data["arithmetic"][-1] == result.summary


def test_quantise_downtime_clips_to_the_period() -> None:
    term = make_term()
    period = BillingMonth(2026, 6).bounds()

    minutes = quantise_downtime([Interval(utc(2026, 5, 31, 23), utc(2026, 6, 1, 1))], term, period)

    assert minutes == 60


def test_compute_credit_amount_applies_the_cap_itself() -> None:
    term = make_term(credit={"cap_pct": 50})

    amount = compute_credit_amount(term, Decimal(100), Decimal("400"))

    assert amount == Decimal("200.00")


def test_compute_credit_amount_rounds_half_up_to_cents() -> None:
    amount = compute_credit_amount(make_term(), Decimal(10), Decimal("0.25"))

    assert amount == Decimal("0.03")
