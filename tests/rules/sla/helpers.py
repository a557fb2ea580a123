"""Builders shared by the SLA tests: synthetic terms, UTC datetimes and outages."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from rules.sla.catalogue import parse_terms_document
from rules.sla.credit import Outage
from rules.sla.model import SlaTerm

# A minimal valid term; tests override only what they exercise.
BASE_TERM: dict[str, Any] = {
    "id": "aws.test.term",
    "version": "1.0.0",
    "title": "Synthetic test term",
    "category": "compute_single_instance",
    "service": "Test service",
    "commitment_pct": "99.9",
    "scope": {"kind": "single_instance"},
    "measurement": {"mode": "minutes", "minute_policy": "exact", "unavailable_means": "down"},
    "period": {"kind": "calendar_month", "timezone": "UTC"},
    "credit": {
        "basis": "uptime_pct",
        "cap_pct": 100,
        "base": "the test charges",
        "form": "credit on future bills",
        "tiers": [
            {"below": "99.9", "at_least": "99.0", "credit_pct": 10},
            {"below": "99.0", "at_least": "95.0", "credit_pct": 25},
            {"below": "95.0", "at_least": "0", "credit_pct": 100},
        ],
    },
    "deadline": {"rule": "end_of_nth_cycle_after", "count": 2, "text": "two cycles"},
    "claim": {"channel": "support case", "must_contain": ["dates and times"]},
    "exclusions": [],
    "eligibility": [],
    "source": {"name": "Test SLA", "url": "https://example.com/sla"},
    "effective_date": None,
    "unconfirmed": [],
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``; nested dicts merge, everything else replaces."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def term_dict(**overrides: Any) -> dict[str, Any]:
    """The base term with ``overrides`` merged in."""
    return deep_merge(BASE_TERM, overrides)


def make_term(**overrides: Any) -> SlaTerm:
    """A validated synthetic AWS term (goes through the real loader)."""
    document = {"provider": "aws", "terms": [term_dict(**overrides)]}
    return parse_terms_document(document, "aws.yaml")[0]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def down(start: datetime, minutes: float = 0, seconds: float = 0, **fields: Any) -> Outage:
    """An outage starting at ``start`` lasting ``minutes`` + ``seconds``."""
    return Outage(start, start + timedelta(minutes=minutes, seconds=seconds), **fields)
