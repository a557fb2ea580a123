"""Load and validate the SLA terms catalogue (``rules/sla/terms/<provider>.yaml``).

Each file holds one provider's terms: a ``common`` block (deadline, claim, period, ...) merged
under every entry of ``terms``. A term's ``exclusions`` and ``eligibility`` add to the common
ones; the common ``unconfirmed`` notes join each term's own, but only for fields the term has.

The merged term is checked against ``sla_terms.schema.json`` and then against rules the schema
cannot express (contiguous tiers that start at the commitment, known time zones,
``unconfirmed`` fields that exist, unique ids). Any problem raises ``ConfigError`` naming the
file, the term id and the field, and saying how to fix it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from fintropy.errors import ConfigError
from rules.sla.model import (
    Category,
    Claim,
    Credit,
    CreditBasis,
    DayTier,
    Deadline,
    DeadlineRule,
    Measurement,
    MeasurementMode,
    MinutePolicy,
    Period,
    Scope,
    ScopeKind,
    SlaTerm,
    Source,
    Unconfirmed,
    UptimeTier,
)
from rules.sla.period import zone

logger = logging.getLogger(__name__)

TERMS_DIR = Path(__file__).parent / "terms"
SCHEMA_PATH = Path(__file__).parent / "sla_terms.schema.json"


@dataclass(frozen=True)
class SlaCatalogue:
    """Every loaded term, sorted by id."""

    terms: tuple[SlaTerm, ...]

    def get(self, term_id: str) -> SlaTerm:
        """The term with ``term_id``; a ConfigError listing close ids when it is unknown."""
        for term in self.terms:
            if term.id == term_id:
                return term
        prefix = term_id.split(".")[0]
        known = ", ".join(t.id for t in self.terms if t.id.startswith(prefix + ".")) or "none"
        raise ConfigError(
            f"unknown SLA term {term_id!r}", f"Use one of the catalogued ids: {known}."
        )

    def for_provider(self, provider: str) -> tuple[SlaTerm, ...]:
        """The terms of one provider, sorted by id."""
        return tuple(t for t in self.terms if t.provider == provider)

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers with at least one term, sorted."""
        return tuple(sorted({t.provider for t in self.terms}))


@lru_cache(maxsize=1)
def _validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    """(file validator, merged-term validator), both from ``sla_terms.schema.json``."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    term_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/term"}
    return Draft202012Validator(schema), Draft202012Validator(term_schema)


@lru_cache(maxsize=1)
def default_catalogue() -> SlaCatalogue:
    """The catalogue shipped in ``rules/sla/terms``, loaded and validated once per process."""
    return load_catalogue(TERMS_DIR)


def load_catalogue(directory: Path | str = TERMS_DIR) -> SlaCatalogue:
    """Load every ``*.yaml`` file in ``directory``; ids must be unique across files."""
    folder = Path(directory)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(
            f"no SLA terms files in {folder}", "Add <provider>.yaml files (aws, azure, gcp, oci)."
        )
    seen: dict[str, str] = {}
    terms: list[SlaTerm] = []
    for path in files:
        for term in load_terms_file(path):
            if term.id in seen:
                raise ConfigError(
                    f"{path.name}: term {term.id}: field id: also defined in {seen[term.id]}",
                    "Give every term a unique id.",
                )
            seen[term.id] = path.name
            terms.append(term)
    logger.info("sla terms loaded", extra={"count": len(terms)})
    return SlaCatalogue(tuple(sorted(terms, key=lambda t: t.id)))


def load_terms_file(path: Path | str) -> tuple[SlaTerm, ...]:
    """Load and validate one provider file."""
    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file.name}: not valid YAML: {exc}", "Fix the YAML syntax.") from exc
    return parse_terms_document(document, file.name)


def parse_terms_document(document: Any, filename: str) -> tuple[SlaTerm, ...]:
    """Validate a parsed terms document (``provider``, ``common``, ``terms``) and build terms."""
    file_validator, term_validator = _validators()
    if not isinstance(document, dict):
        raise ConfigError(
            f"{filename}: the file is not a mapping",
            "Start the file with 'provider:', 'common:' and 'terms:' keys.",
        )
    _raise_first(file_validator.iter_errors(document), filename, "(file)")
    provider = document["provider"]
    if Path(filename).stem != provider:
        raise ConfigError(
            f"{filename}: field provider: {provider!r} does not match the file name",
            f"Name the file {provider}.yaml or change the provider.",
        )
    common = dict(document.get("common") or {})
    shared_unconfirmed = common.pop("unconfirmed", None) or []
    built = []
    for index, raw in enumerate(document["terms"]):
        term_id = str(raw.get("id") or f"#{index + 1}")
        merged = _normalise(_merge(common, raw))
        # A common note applies only to terms that have the field (minute policy vs error rate).
        own = merged.get("unconfirmed") or []
        if isinstance(own, list):
            shared = [item for item in shared_unconfirmed if _applies(item, merged)]
            merged["unconfirmed"] = [*shared, *own]
        _raise_first(term_validator.iter_errors(merged), filename, term_id)
        built.append(_build(merged, provider, filename))
    return tuple(built)


# --- merging and normalising ---------------------------------------------------------------


# Lists a term adds to rather than replaces: a term's own exclusions come on top of the
# provider-wide ones.
_ADDITIVE_KEYS = frozenset({"exclusions", "eligibility"})


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; the override wins on leaves and lists, except additive lists."""
    result: dict[str, Any] = dict(base)
    for key, value in override.items():
        if key in _ADDITIVE_KEYS and isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = [*result[key], *value]
        elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _applies(item: Any, term: Mapping[str, Any]) -> bool:
    # Malformed entries are kept so that the schema reports them.
    if not isinstance(item, Mapping) or not isinstance(item.get("field"), str):
        return True
    return _has_path(term, item["field"])


def _normalise(term: dict[str, Any]) -> dict[str, Any]:
    # YAML reads 2022 as an int and 2022-05-01 as a date; both mean the same string here.
    value = term.get("effective_date")
    if isinstance(value, date) or (isinstance(value, int) and not isinstance(value, bool)):
        term["effective_date"] = value.isoformat() if isinstance(value, date) else str(value)
    return term


def _raise_first(errors: Iterable[ValidationError], filename: str, term_id: str) -> None:
    ordered = sorted(errors, key=lambda e: (list(e.absolute_path), e.message))
    if not ordered:
        return
    error = ordered[0]
    path = _dotted(error.absolute_path) or "(top level)"
    more = f" ({len(ordered) - 1} more problem(s) after this one)" if len(ordered) > 1 else ""
    raise ConfigError(
        f"{filename}: term {term_id}: field {path}: {error.message}{more}",
        "Correct the field to match rules/sla/sla_terms.schema.json.",
    )


def _dotted(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- building and semantic checks ----------------------------------------------------------


def _build(data: dict[str, Any], provider: str, filename: str) -> SlaTerm:
    term_id = data["id"]

    def fail(field: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{filename}: term {term_id}: field {field}: {problem}", fix)

    if term_id.split(".")[0] != provider:
        raise fail("id", f"does not start with '{provider}.'", f"Prefix the id with {provider}.")
    commitment = _decimal(data["commitment_pct"])
    if not Decimal(0) < commitment <= Decimal(100):
        raise fail("commitment_pct", f"{commitment} is outside (0, 100]", "Use a percentage.")
    timezone = data["period"]["timezone"]
    try:
        zone(timezone)
    except ValueError as exc:
        raise fail("period.timezone", str(exc), "Use an IANA zone name such as UTC.") from exc

    credit = _build_credit(data["credit"], commitment, fail)
    for item in data["unconfirmed"]:
        if not _has_path(data, item["field"]):
            raise fail(
                "unconfirmed",
                f"names {item['field']!r}, which is not a field of this term",
                "Name an existing field as a dotted path, e.g. credit.tiers.",
            )
    return SlaTerm(
        id=term_id,
        version=data["version"],
        provider=provider,
        category=Category(data["category"]),
        service=data["service"],
        title=data["title"],
        commitment_pct=commitment,
        scope=_build_scope(data["scope"]),
        measurement=_build_measurement(data["measurement"]),
        period=Period(kind=data["period"]["kind"], timezone=timezone),
        credit=credit,
        deadline=Deadline(
            rule=DeadlineRule(data["deadline"]["rule"]),
            count=data["deadline"]["count"],
            text=data["deadline"]["text"],
        ),
        claim=_build_claim(data["claim"]),
        exclusions=tuple(data["exclusions"]),
        eligibility=tuple(data["eligibility"]),
        source=Source(name=data["source"]["name"], url=data["source"]["url"]),
        effective_date=data["effective_date"],
        unconfirmed=tuple(
            Unconfirmed(field=item["field"], note=item["note"]) for item in data["unconfirmed"]
        ),
        file=filename,
    )


def _build_scope(data: dict[str, Any]) -> Scope:
    return Scope(
        kind=ScopeKind(data["kind"]),
        min_zones=data.get("min_zones", 1),
        min_members=data.get("min_members", 1),
        description=data.get("description", ""),
    )


def _build_measurement(data: dict[str, Any]) -> Measurement:
    policy = data.get("minute_policy")
    threshold = data.get("error_threshold_pct")
    return Measurement(
        mode=MeasurementMode(data["mode"]),
        unavailable_means=data["unavailable_means"],
        minute_policy=MinutePolicy(policy) if policy else None,
        interval_minutes=data.get("interval_minutes"),
        error_threshold_pct=None if threshold is None else _decimal(threshold),
        min_requests=data.get("min_requests"),
        counted_errors=data.get("counted_errors", ""),
    )


def _build_claim(data: dict[str, Any]) -> Claim:
    return Claim(
        channel=data["channel"],
        must_contain=tuple(data["must_contain"]),
        subject=data.get("subject", ""),
        filing_api=data.get("filing_api"),
        filing_api_requires=data.get("filing_api_requires", ""),
    )


def _build_credit(data: dict[str, Any], commitment: Decimal, fail: Any) -> Credit:
    basis = CreditBasis(data["basis"])
    cap = _decimal(data["cap_pct"])
    if not Decimal(0) < cap <= Decimal(100):
        raise fail("credit.cap_pct", f"{cap} is outside (0, 100]", "Use a percentage.")
    tiers = tuple(
        UptimeTier(
            below=_decimal(t["below"]),
            at_least=_decimal(t["at_least"]),
            credit_pct=_decimal(t["credit_pct"]),
        )
        for t in data.get("tiers", [])
    )
    day_tiers = tuple(
        DayTier(t["at_least_minutes"], t.get("below_minutes"), t["credit_days"])
        for t in data.get("day_tiers", [])
    )
    if basis is CreditBasis.UPTIME_PCT:
        _check_uptime_tiers(tiers, commitment, fail)
    else:
        _check_day_tiers(day_tiers, fail)
    minimum = data.get("minimum_amount")
    return Credit(
        basis=basis,
        tiers=tiers,
        day_tiers=day_tiers,
        cap_pct=cap,
        base=data["base"],
        form=data["form"],
        minimum_amount=None if minimum is None else _decimal(minimum),
        minimum_currency=data.get("minimum_currency", "USD"),
    )


def _check_uptime_tiers(tiers: tuple[UptimeTier, ...], commitment: Decimal, fail: Any) -> None:
    """Tiers run from the commitment down to 0 without gaps, credits rising as uptime falls."""
    expected_below = commitment
    previous_credit = Decimal(0)
    for index, tier in enumerate(tiers):
        where = f"credit.tiers[{index}]"
        if tier.below != expected_below:
            raise fail(
                f"{where}.below",
                f"{tier.below} leaves a gap or overlap (expected {expected_below})",
                "The first tier's 'below' is the commitment; each next one is the previous "
                "'at_least'.",
            )
        if not tier.at_least < tier.below:
            raise fail(
                f"{where}.at_least", f"{tier.at_least} is not below {tier.below}", "Fix the range."
            )
        if not previous_credit < tier.credit_pct <= Decimal(100):
            raise fail(
                f"{where}.credit_pct",
                f"{tier.credit_pct} must exceed the previous tier ({previous_credit}), max 100",
                "List tiers from the best uptime down, with rising credits.",
            )
        expected_below, previous_credit = tier.at_least, tier.credit_pct
    if tiers[-1].at_least != 0:
        raise fail(
            f"credit.tiers[{len(tiers) - 1}].at_least",
            f"the last tier stops at {tiers[-1].at_least}, leaving lower uptime uncovered",
            "End the last tier at 'at_least: 0'.",
        )


def _check_day_tiers(tiers: tuple[DayTier, ...], fail: Any) -> None:
    """Day tiers run upward without gaps; only the last is open-ended; days rise."""
    for index, tier in enumerate(tiers):
        where = f"credit.day_tiers[{index}]"
        last = index == len(tiers) - 1
        if (tier.below_minutes is None) != last:
            raise fail(
                f"{where}.below_minutes",
                "only the last tier may (and must) have no upper bound",
                "Give every tier but the last a below_minutes.",
            )
        if tier.below_minutes is not None and tier.below_minutes <= tier.at_least_minutes:
            raise fail(f"{where}.below_minutes", "is not above at_least_minutes", "Fix the range.")
        if index:
            prev = tiers[index - 1]
            if tier.at_least_minutes != prev.below_minutes:
                raise fail(
                    f"{where}.at_least_minutes",
                    f"{tier.at_least_minutes} leaves a gap (expected {prev.below_minutes})",
                    "Start each tier where the previous one ends.",
                )
            if tier.credit_days <= prev.credit_days:
                raise fail(
                    f"{where}.credit_days", "does not rise", "Give longer outages more days."
                )


def _has_path(data: Mapping[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))
