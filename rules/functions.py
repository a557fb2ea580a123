"""The pure functions rule expressions may call.

Each function is total over the values adapters produce: ``None`` in gives ``None`` (or
``False`` for predicates) out, never an exception, so a missing attribute cannot crash a scan.
The compiler (``rules.expressions``) passes ``now`` and the resource's tags where a function
needs them; rule authors never see those arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

SECONDS_PER_DAY = 86400.0


class MissingPrice(LookupError):
    """A price key the price table does not hold; the engine turns it into a skipped result."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _parse_epoch(ts: str) -> float:
    parsed = datetime.fromisoformat(ts)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@lru_cache(maxsize=8192)
def epoch_seconds(ts: str) -> float:
    """Seconds since the epoch of an ISO-8601 time; a time without a zone is taken as UTC."""
    return _parse_epoch(ts)


def age_days(ts: str | None, now: float) -> float | None:
    """Days from ``ts`` to ``now`` (epoch seconds); ``None`` when ``ts`` is unknown."""
    if ts is None:
        return None
    return (now - epoch_seconds(ts)) / SECONDS_PER_DAY


def age_hours(ts: str | None, now: float) -> float | None:
    """Hours from ``ts`` to ``now`` (epoch seconds); ``None`` when ``ts`` is unknown."""
    if ts is None:
        return None
    return (now - epoch_seconds(ts)) / 3600.0


def tag(tags: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """The value of tag ``name``, or ``default``."""
    return tags.get(name, default)


def has_tag(tags: Mapping[str, str], name: str) -> bool:
    """True when the resource carries tag ``name`` (any value)."""
    return name in tags


def first_tag(tags: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The value of the first of ``names`` the resource carries, or ``None``."""
    for name in names:
        value = tags.get(name)
        if value is not None:
            return value
    return None


def lower(text: str | None) -> str | None:
    """``text`` in lower case (``None`` stays ``None``)."""
    return None if text is None else text.lower()


def startswith(text: str | None, prefixes: str | tuple[str, ...]) -> bool:
    """True when ``text`` starts with the prefix (or any of the prefixes)."""
    return text is not None and text.startswith(prefixes)


def endswith(text: str | None, suffixes: str | tuple[str, ...]) -> bool:
    """True when ``text`` ends with the suffix (or any of the suffixes)."""
    return text is not None and text.endswith(suffixes)


def count(items: Sized | None) -> int:
    """The number of items (0 for ``None``)."""
    return 0 if items is None else len(items)


def all_in(items: Iterable[Any] | None, choices: Iterable[Any]) -> bool:
    """True when there is at least one item and every item is one of ``choices``."""
    if not items:
        return False
    allowed = choices if isinstance(choices, frozenset) else frozenset(choices)
    return allowed.issuperset(items)


def any_in(items: Iterable[Any] | None, choices: Iterable[Any]) -> bool:
    """True when at least one item is one of ``choices``."""
    if not items:
        return False
    allowed = choices if isinstance(choices, frozenset) else frozenset(choices)
    return not allowed.isdisjoint(items)


def coalesce(value: Any, default: Any) -> Any:
    """``value`` unless it is ``None``, else ``default``."""
    return default if value is None else value


@lru_cache(maxsize=4096)
def _split_type(instance_type: str) -> tuple[str, str, str] | None:
    """Split ``m5.large`` into ("", "m5", "large"), ``db.m5.large`` into ("db.", "m5", "large")."""
    prefix = ""
    rest = instance_type
    if rest.startswith("db."):
        prefix, rest = "db.", rest[3:]
    family, dot, size = rest.partition(".")
    if not dot or not family or not size:
        return None
    return prefix, family, size


def family(instance_type: str | None) -> str | None:
    """The family of an EC2 instance type or RDS class (``m5`` for ``db.m5.large``)."""
    parts = None if instance_type is None else _split_type(instance_type)
    return None if parts is None else parts[1]


def size(instance_type: str | None) -> str | None:
    """The size of an EC2 instance type or RDS class (``large`` for ``db.m5.large``)."""
    parts = None if instance_type is None else _split_type(instance_type)
    return None if parts is None else parts[2]


class LazyMap(dict[Any, Any]):
    """A memo: ``lazy[key]`` computes ``compute(key)`` on the first miss and keeps it.

    Compiled rules index these directly, which costs one dictionary look-up per call once
    the estate's few hundred distinct instance types have been seen.
    """

    def __init__(self, compute: Callable[[Any], Any], limit: int = 65536) -> None:
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, key: Any) -> Any:
        value = self.compute(key)
        if len(self) < self.limit:
            self[key] = value
        return value


SIZES = LazyMap(size)
EPOCHS = LazyMap(_parse_epoch, limit=100000)
FAMILIES = LazyMap(family)


@dataclass(frozen=True)
class FamilyTable:
    """Instance-family facts rules read through ``equivalent()`` and ``vcpus()``.

    ``maps`` holds one family-to-family mapping per kind ("previous_generation", "graviton",
    "amd"); ``vcpus_by_size`` gives the vCPU count of a size in the standard families and
    ``vcpus_by_type`` the exceptions (``t2.micro`` has one vCPU).
    """

    maps: Mapping[str, Mapping[str, str]]
    vcpus_by_size: Mapping[str, int]
    vcpus_by_type: Mapping[str, int]
    _lazy: dict[str, LazyMap] = field(default_factory=dict, compare=False)

    def equivalent(self, kind: str, instance_type: str | None) -> str | None:
        """The same size in the mapped family (``m4.large`` -> ``m5.large``), or ``None``."""
        return self.equivalents(kind)[instance_type]  # type: ignore[no-any-return]

    def equivalents(self, kind: str) -> LazyMap:
        """instance type -> its equivalent of ``kind`` (or ``None``), memoised."""
        lazy = self._lazy.get(kind)
        if lazy is None:
            mapping = self.maps[kind]

            def compute(instance_type: str | None) -> str | None:
                parts = None if instance_type is None else _split_type(instance_type)
                target = None if parts is None else mapping.get(parts[1])
                return None if parts is None or target is None else f"{parts[0]}{target}.{parts[2]}"

            lazy = self._lazy[kind] = LazyMap(compute)
        return lazy

    def vcpus(self, instance_type: str | None) -> int | None:
        """The vCPU count of a standard-family type or class, or ``None`` when not known."""
        parts = None if instance_type is None else _split_type(instance_type)
        if parts is None:
            return None
        _, fam, sz = parts
        exact = self.vcpus_by_type.get(f"{fam}.{sz}")
        return exact if exact is not None else self.vcpus_by_size.get(sz)


def utc_epoch(now: datetime) -> float:
    """Epoch seconds of ``now``; a naive datetime is taken as UTC."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.timestamp()
