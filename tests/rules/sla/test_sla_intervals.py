"""Interval set operations, billing months, and properties checked over seeded random inputs.

hypothesis is not in the project environment, so the properties run as seeded random loops:
the same seed gives the same cases on every run, and a failure names the seed and case.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from rules.sla.catalogue import default_catalogue
from rules.sla.credit import Member, Outage, assess, quantise_downtime, split_by_month
from rules.sla.intervals import (
    Interval,
    clip_intervals,
    intersect_all,
    merge_intervals,
    subtract_intervals,
    total_duration,
)
from rules.sla.period import BillingMonth, add_months

from .helpers import make_term, utc

SEEDS = [11, 23, 2026]
CASES_PER_SEED = 150
ORIGIN = utc(2026, 6, 1)


def iv(start_min: float, end_min: float) -> Interval:
    """An interval in minutes after 1 June 2026 00:00 UTC."""
    return Interval(ORIGIN + timedelta(minutes=start_min), ORIGIN + timedelta(minutes=end_min))


def random_intervals(rng: random.Random, count: int, span_min: int = 600) -> list[Interval]:
    """``count`` random intervals with second resolution inside ``span_min`` minutes."""
    result = []
    for _ in range(count):
        start = rng.randrange(0, span_min * 60)
        length = rng.randrange(1, 120 * 60)
        result.append(
            Interval(ORIGIN + timedelta(seconds=start), ORIGIN + timedelta(seconds=start + length))
        )
    return result


def covered(intervals: list[Interval], moment: datetime) -> bool:
    return any(i.start <= moment < i.end for i in intervals)


# --- merge --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        ([(0, 10)], [(0, 10)]),
        ([(0, 10), (0, 10)], [(0, 10)]),  # duplicate
        ([(0, 10), (5, 15)], [(0, 15)]),  # overlap
        ([(0, 10), (10, 20)], [(0, 20)]),  # touching
        ([(20, 30), (0, 10)], [(0, 10), (20, 30)]),  # unsorted, disjoint
        ([(0, 30), (5, 10)], [(0, 30)]),  # contained
    ],
)
def test_merge_intervals(given: list, expected: list) -> None:
    assert merge_intervals(iv(*g) for g in given) == tuple(iv(*e) for e in expected)


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([], []),
        ([[(0, 60)]], [(0, 60)]),
        ([[(0, 60)], [(30, 90)]], [(30, 60)]),
        ([[(0, 30)], [(30, 60)]], []),  # touching is not overlapping
        ([[(0, 60)], []], []),  # a member never down
        ([[(0, 10), (20, 30)], [(5, 25)]], [(5, 10), (20, 25)]),
        ([[(0, 60)], [(10, 50)], [(20, 70)]], [(20, 50)]),
    ],
)
def test_intersect_all(groups: list, expected: list) -> None:
    result = intersect_all([[iv(*g) for g in group] for group in groups])

    assert result == tuple(iv(*e) for e in expected)


@pytest.mark.parametrize(
    ("base", "cuts", "expected"),
    [
        ([(0, 60)], [], [(0, 60)]),
        ([(0, 60)], [(10, 20)], [(0, 10), (20, 60)]),
        ([(0, 60)], [(-10, 10), (50, 70)], [(10, 50)]),
        ([(0, 60)], [(0, 60)], []),
        ([(0, 10), (20, 30)], [(5, 25)], [(0, 5), (25, 30)]),
        ([(0, 60)], [(10, 20), (15, 25)], [(0, 10), (25, 60)]),
    ],
)
def test_subtract_intervals(base: list, cuts: list, expected: list) -> None:
    result = subtract_intervals([iv(*b) for b in base], [iv(*c) for c in cuts])

    assert result == tuple(iv(*e) for e in expected)


def test_clip_intervals_keeps_only_the_window() -> None:
    result = clip_intervals([iv(-10, 10), iv(50, 70), iv(80, 90)], iv(0, 60).start, iv(0, 60).end)

    assert result == (iv(0, 10), iv(50, 60))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (utc(2026, 6, 1), utc(2026, 6, 1), "at or before"),
        (datetime(2026, 6, 1), datetime(2026, 6, 2), "naive"),
    ],
)
def test_invalid_intervals_are_refused(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Interval(start, end)


def test_intervals_in_other_offsets_compare_as_instants() -> None:
    paris = ZoneInfo("Europe/Paris")
    local = Interval(
        datetime(2026, 6, 1, 2, 30, tzinfo=paris), datetime(2026, 6, 1, 3, 0, tzinfo=paris)
    )

    assert merge_intervals([local, iv(0, 60)]) == (iv(0, 60),)


# --- billing months -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "days", "minutes"),
    [
        ((2026, 2), 28, 40_320),
        ((2028, 2), 29, 41_760),
        ((2026, 6), 30, 43_200),
        ((2026, 12), 31, 44_640),
    ],
)
def test_month_length_in_utc(month: tuple[int, int], days: int, minutes: int) -> None:
    billing = BillingMonth(*month)

    assert billing.days == days
    assert billing.minutes() == minutes


@pytest.mark.parametrize(
    ("month", "minutes"),
    [((2026, 3), 44_580), ((2026, 11), 43_260), ((2026, 6), 43_200)],  # DST: -1 h, +1 h, none
)
def test_month_length_in_a_daylight_saving_zone(month: tuple[int, int], minutes: int) -> None:
    assert BillingMonth(*month).minutes("America/Los_Angeles") == minutes


def test_month_bounds_in_a_billing_time_zone_are_utc_instants() -> None:
    bounds = BillingMonth(2026, 6).bounds("America/Los_Angeles")

    assert bounds.start == datetime(2026, 6, 1, 7, tzinfo=UTC)
    assert bounds.end == datetime(2026, 7, 1, 7, tzinfo=UTC)


def test_billing_time_zone_moves_an_outage_to_the_previous_month() -> None:
    # 2026-07-01 03:00 UTC is 30 June 20:00 in Los Angeles.
    outage = Outage(utc(2026, 7, 1, 3), utc(2026, 7, 1, 4))

    by_month = split_by_month([outage], "America/Los_Angeles")

    assert list(by_month) == [BillingMonth(2026, 6)]


def test_assess_uses_the_terms_billing_time_zone() -> None:
    term = make_term(period={"timezone": "America/Los_Angeles"})

    result = assess(term, [Outage(utc(2026, 3, 1, 3), utc(2026, 3, 1, 4))], "2026-02")

    assert result.period_minutes == 40_320
    assert result.downtime_minutes == 60


@pytest.mark.parametrize(
    ("text", "month"), [("2026-06", BillingMonth(2026, 6)), (" 2028-02 ", BillingMonth(2028, 2))]
)
def test_parse_month(text: str, month: BillingMonth) -> None:
    assert BillingMonth.parse(text) == month
    assert str(month) == text.strip()


@pytest.mark.parametrize("text", ["2026-6", "2026-00", "2026-13", "June"])
def test_parse_month_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        BillingMonth.parse(text)


@pytest.mark.parametrize(
    ("month", "offset", "expected"),
    [((2026, 11), 2, (2027, 1)), ((2026, 1), -1, (2025, 12)), ((2026, 6), 12, (2027, 6))],
)
def test_month_arithmetic(month: tuple, offset: int, expected: tuple) -> None:
    assert BillingMonth(*month).add(offset) == BillingMonth(*expected)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BillingMonth(2026, 6).bounds("Mars/Olympus")


# --- properties over seeded random inputs -------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_is_idempotent_order_free_and_keeps_coverage(seed: int) -> None:
    rng = random.Random(seed)
    for case in range(CASES_PER_SEED):
        items = random_intervals(rng, rng.randrange(0, 12))
        merged = merge_intervals(items)
        shuffled = items[:]
        rng.shuffle(shuffled)

        assert merge_intervals(merged) == merged, (seed, case)
        assert merge_intervals(shuffled) == merged, (seed, case)
        assert all(a.end < b.start for a, b in zip(merged, merged[1:], strict=False)), (seed, case)
        for _ in range(20):
            probe = ORIGIN + timedelta(seconds=rng.randrange(0, 800 * 60))
            assert covered(items, probe) == covered(list(merged), probe), (seed, case, probe)


@pytest.mark.parametrize("seed", SEEDS)
def test_intersection_and_difference_agree_with_point_membership(seed: int) -> None:
    rng = random.Random(seed)
    for case in range(CASES_PER_SEED):
        groups = [random_intervals(rng, rng.randrange(0, 6)) for _ in range(rng.randrange(1, 4))]
        base, cuts = groups[0], random_intervals(rng, rng.randrange(0, 6))
        both = intersect_all(groups)
        left = subtract_intervals(base, cuts)

        for _ in range(25):
            probe = ORIGIN + timedelta(seconds=rng.randrange(0, 800 * 60))
            in_all = all(covered(g, probe) for g in groups)
            assert covered(list(both), probe) == in_all, (seed, case, probe)
            expected_left = covered(base, probe) and not covered(cuts, probe)
            assert covered(list(left), probe) == expected_left, (seed, case, probe)
        overlap = intersect_all([base, cuts])
        assert total_duration(base) == total_duration(left) + total_duration(overlap), (seed, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_splitting_by_month_preserves_total_duration(seed: int) -> None:
    rng = random.Random(seed)
    for case in range(CASES_PER_SEED):
        outages = []
        for _ in range(rng.randrange(1, 5)):
            start = utc(2026, 1, 1) + timedelta(seconds=rng.randrange(0, 365 * 86_400))
            outages.append(Outage(start, start + timedelta(seconds=rng.randrange(1, 90 * 86_400))))

        by_month = split_by_month(outages)

        pieces = [p for group in by_month.values() for p in group]
        total = sum((p.end - p.start for p in pieces), timedelta())
        assert total == sum((o.end - o.start for o in outages), timedelta()), (seed, case)
        for month, group in by_month.items():
            bounds = month.bounds()
            assert all(bounds.start <= p.start < p.end <= bounds.end for p in group), (seed, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_uptime_stays_within_0_and_100_and_policies_are_ordered(seed: int) -> None:
    # whole_minute <= run_floor <= exact <= any_part for the same intervals.
    rng = random.Random(seed)
    period = BillingMonth(2026, 6).bounds()
    terms = {
        p: make_term(measurement={"minute_policy": p})
        for p in ("whole_minute", "run_floor", "exact", "any_part")
    }
    for case in range(CASES_PER_SEED):
        spans = merge_intervals(random_intervals(rng, rng.randrange(0, 10), span_min=60 * 24 * 40))
        minutes = {p: quantise_downtime(spans, t, period) for p, t in terms.items()}

        assert minutes["whole_minute"] <= minutes["run_floor"] <= minutes["exact"], (seed, case)
        assert minutes["exact"] <= minutes["any_part"], (seed, case)
        for policy, term in terms.items():
            outages = [Outage(s.start, s.end) for s in spans]
            result = assess(term, outages, "2026-06", monthly_charge=Decimal("100"))
            assert 0 <= result.uptime_pct <= 100, (seed, case, policy)
            assert result.downtime_minutes == minutes[policy], (seed, case, policy)
            assert Decimal(0) <= result.credit_amount <= Decimal(100), (seed, case, policy)


@pytest.mark.parametrize("seed", SEEDS)
def test_assessment_is_deterministic_under_input_order(seed: int) -> None:
    rng = random.Random(seed)
    term = default_catalogue().get("aws.ec2.region")
    members = [Member("i-a", "a"), Member("i-b", "b"), Member("i-c", "c")]
    for case in range(40):
        outages = [
            Outage(
                s.start,
                s.end,
                resource=rng.choice(["i-a", "i-b", "i-c", ""]),
                source_event_id=f"e{n}",
            )
            for n, s in enumerate(random_intervals(rng, rng.randrange(0, 12)))
        ]
        shuffled, members_shuffled = outages[:], members[:]
        rng.shuffle(shuffled)
        rng.shuffle(members_shuffled)

        first = assess(term, outages, "2026-06", members=members, monthly_charge="500")
        second = assess(term, shuffled, "2026-06", members=members_shuffled, monthly_charge="500")

        assert first.to_dict() == second.to_dict(), (seed, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_multi_zone_downtime_never_exceeds_any_members_downtime(seed: int) -> None:
    rng = random.Random(seed)
    term = default_catalogue().get("gcp.gce.multizone")
    single = make_term(measurement={"minute_policy": "run_floor"})
    members = [Member("vm-1", "z1"), Member("vm-2", "z2")]
    for case in range(60):
        outages = [
            Outage(s.start, s.end, resource=rng.choice(["vm-1", "vm-2"]))
            for s in random_intervals(rng, rng.randrange(1, 10))
        ]

        deployment = assess(term, outages, "2026-06", members=members)

        for member in members:
            own = [o for o in outages if o.resource == member.resource]
            alone = assess(single, own, "2026-06", members=[member])
            assert deployment.downtime_minutes <= alone.downtime_minutes, (seed, case)
        assert deployment.downtime_minutes == Fraction(
            sum(i.duration // timedelta(minutes=1) for i in deployment.downtime_intervals)
        ), (seed, case)
