"""Parse snooze durations such as ``30d``, ``12h``, ``90m`` or ``45s``."""

from __future__ import annotations

import re
from datetime import timedelta

from fintropy.errors import ConfigError

_DURATION = re.compile(r"^(\d{1,4})([dhms])$")
_UNIT = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
MAX = timedelta(days=365)


def parse_duration(text: str) -> timedelta:
    """A positive duration of at most a year; raises ConfigError naming the accepted forms."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ConfigError(
            f"{text!r} is not a duration.", "Write a number and a unit: 30d, 12h, 90m or 45s."
        )
    value = timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    if value <= timedelta(0) or value > MAX:
        raise ConfigError(f"{text!r} is out of range.", "Snooze for between 1s and 365d.")
    return value
