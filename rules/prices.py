"""List price tables (``rules/prices/<provider>.yaml``) and instance-family facts.

A price file holds groups of prices sharing a unit, a source and an as-of date::

    hours_per_month: 730
    groups:
      - key: ebs.gb_month
        unit: USD per GB-month
        source: "INF ebs_volume"
        as_of: "2026-12-03"
        prices: {gp2: 0.10, gp3: 0.08}
      - key: nat.hour
        unit: USD per hour
        source: "INF nat_gateway"
        as_of: "2026-12-03"
        usd: 0.045

Rules read them as ``price("ebs.gb_month", volume_type)``: the parts are joined with ``.``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fintropy.errors import ConfigError
from rules.functions import FamilyTable, MissingPrice

PACKAGE_DIR = Path(__file__).resolve().parent
PRICES_DIR = PACKAGE_DIR / "prices"
DATA_DIR = PACKAGE_DIR / "data"


@dataclass(frozen=True)
class PriceEntry:
    """One list price with where it came from."""

    key: str
    usd: float
    unit: str
    source: str
    as_of: str


class PriceDict(dict[str, float]):
    """Key -> USD; a missing key raises MissingPrice (compiled rules index it directly)."""

    def __missing__(self, key: str) -> float:
        raise MissingPrice(key)


class PriceGroup(dict[Any, float]):
    """The prices under one group key (``ec2.hour``), by name; a miss raises MissingPrice."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, name: Any) -> float:
        raise MissingPrice(f"{self.key}.{name}")


class PriceTable:
    """The list prices of one provider.

    ``usd`` maps full keys to prices; ``groups`` maps a group key to its :class:`PriceGroup`,
    so ``price("ec2.hour", instance_type)`` compiles to one look-up by the instance type.
    """

    def __init__(
        self,
        entries: Mapping[str, PriceEntry],
        hours_per_month: float,
        path: str,
        groups: Mapping[str, Mapping[str, float]] | None = None,
    ):
        self.entries = dict(entries)
        self.hours_per_month = hours_per_month
        self.path = path
        self.usd = PriceDict({key: entry.usd for key, entry in entries.items()})
        self.groups: dict[str, PriceGroup] = {}
        for key, prices in (groups or {}).items():
            group = self.groups.setdefault(key, PriceGroup(key))
            group.update(prices)

    def __call__(self, *parts: Any) -> float:
        """The price under the key made of ``parts`` joined with '.'; MissingPrice if absent."""
        return self.usd[".".join([str(p) for p in parts])]


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with the safe loader (the C one when available)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}).",
            "Fix the YAML syntax (indentation, quotes, colons).",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).", "Check the path.") from None


def load_prices(provider: str, directory: Path = PRICES_DIR) -> PriceTable:
    """Load and check ``<directory>/<provider>.yaml``."""
    path = directory / f"{provider}.yaml"
    doc = load_yaml(path)
    fix = "See the layout in rules/prices.py."
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'groups' list.", fix)
    hours = doc.get("hours_per_month")
    if not isinstance(hours, int | float) or hours <= 0:
        raise ConfigError(f"{path}: 'hours_per_month' must be a positive number.", fix)
    entries: dict[str, PriceEntry] = {}
    groups: dict[str, dict[str, float]] = {}
    for index, group in enumerate(doc["groups"]):
        where = f"{path}: groups[{index}]"
        if not isinstance(group, dict):
            raise ConfigError(f"{where}: expected a mapping.", fix)
        missing = [k for k in ("key", "unit", "source", "as_of") if k not in group]
        if ("prices" in group) == ("usd" in group):
            missing.append("exactly one of 'prices' or 'usd'")
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}.", fix)
        unknown = set(group) - {"key", "unit", "source", "as_of", "prices", "usd", "note"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown field(s) {sorted(unknown)}.",
                "Allowed: key, unit, source, as_of, prices (or usd for one price), note.",
            )
        prices = group["prices"] if "prices" in group else {"": group["usd"]}
        if not isinstance(prices, dict) or not prices:
            raise ConfigError(f"{where}: 'prices' must map names to numbers.", fix)
        for name, usd in prices.items():
            key = f"{group['key']}.{name}" if name != "" else str(group["key"])
            if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
                raise ConfigError(f"{where}: price {key!r} must be a number >= 0.", fix)
            if key in entries:
                raise ConfigError(f"{where}: price {key!r} is defined twice.", fix)
            entries[key] = PriceEntry(
                key, float(usd), str(group["unit"]), str(group["source"]), str(group["as_of"])
            )
            if name != "":
                groups.setdefault(str(group["key"]), {})[str(name)] = float(usd)
    return PriceTable(entries, float(hours), str(path), groups)


def load_families(provider: str, directory: Path = DATA_DIR) -> FamilyTable:
    """Load ``<directory>/<provider>_families.yaml`` (an empty table when there is none)."""
    path = directory / f"{provider}_families.yaml"
    if not path.exists():
        return FamilyTable(maps={}, vcpus_by_size={}, vcpus_by_type={})
    doc = load_yaml(path)
    maps = doc.get("maps") if isinstance(doc, dict) else None
    vcpus = doc.get("vcpus_by_size") if isinstance(doc, dict) else None
    exceptions = doc.get("vcpus_by_type", {}) if isinstance(doc, dict) else None
    if (
        not isinstance(maps, dict)
        or not isinstance(vcpus, dict)
        or not isinstance(exceptions, dict)
    ):
        raise ConfigError(
            f"{path}: expected 'maps' (kind -> family -> family), 'vcpus_by_size' and "
            "'vcpus_by_type'.",
            "See rules/data/aws_families.yaml for the layout.",
        )
    for kind, mapping in maps.items():
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ConfigError(f"{path}: maps.{kind} must map family names to family names.", "")
    return FamilyTable(
        maps={k: dict(v) for k, v in maps.items()},
        vcpus_by_size={str(k): int(v) for k, v in vcpus.items()},
        vcpus_by_type={str(k): int(v) for k, v in exceptions.items()},
    )
