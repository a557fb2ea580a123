"""Loading the rule catalogue: YAML files, checked against the JSON Schema and then rule by rule.

Every problem raises :class:`~fintropy.errors.ConfigError` naming the file, the rule id and the
field, and listing the valid choices where there is a closed set. A catalogue that loads is
fully compiled: each rule, with its default parameters, is already a Python function.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from fintropy.domain import ACTIONS, Reversibility, Risk, Severity
from fintropy.errors import ConfigError, NotFoundError
from fintropy.inventory_schema import AWS_RESOURCE_TYPES
from rules import expressions as ex
from rules.compiler import CompiledRule, TypeRules, default_reason, type_names, type_rules
from rules.functions import FamilyTable
from rules.model import Advice, Param, Requirement, Rule, TestCase
from rules.prices import (
    DATA_DIR,
    PACKAGE_DIR,
    PRICES_DIR,
    PriceTable,
    load_families,
    load_prices,
    load_yaml,
)
from rules.templates import RESOURCE_FIELDS

logger = logging.getLogger(__name__)

CATALOGUE_DIR = PACKAGE_DIR / "catalogue"
SCHEMA_PATH = PACKAGE_DIR / "schema" / "rule.schema.json"
_COMPILED_CACHE_LIMIT = 4096


class Catalogue:
    """A loaded, validated and compiled set of rules.

    ``rules`` is sorted by id. ``get(rule_id)`` returns a rule or ``None``; ``require(rule_id)``
    raises :class:`NotFoundError` with the closest ids.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        compiled: Mapping[str, CompiledRule],
        prices: Mapping[str, PriceTable],
        families: Mapping[str, FamilyTable],
        fingerprint: str,
    ) -> None:
        self.rules: list[Rule] = sorted(rules, key=lambda r: r.id)
        self._by_id = {rule.id: rule for rule in self.rules}
        self._default = dict(compiled)
        self.prices = dict(prices)
        self.families = dict(families)
        self.fingerprint = fingerprint
        self._bound: dict[tuple[str, tuple[tuple[str, Any], ...]], CompiledRule] = {}
        self._indexes: dict[Any, dict[str, TypeRules]] = {}

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or ``None``."""
        return self._by_id.get(rule_id)

    def require(self, rule_id: str) -> Rule:
        """The rule with this id; NotFoundError naming the closest ids when there is none."""
        rule = self._by_id.get(rule_id.strip().upper())
        if rule is None:
            raise NotFoundError(
                f"No rule {rule_id!r} in the catalogue{ex.suggest(rule_id.upper(), self._by_id)}.",
                "List the rules with `fintropy rules list`.",
            )
        return rule

    def subset(self, rule_ids: Iterable[str]) -> Catalogue:
        """A catalogue holding only the named rules (sharing their compiled form)."""
        chosen = [self.require(rule_id) for rule_id in rule_ids]
        return Catalogue(
            chosen,
            {r.id: self._default[r.id] for r in chosen},
            self.prices,
            self.families,
            self.fingerprint,
        )

    def compiled(self, rule_id: str) -> CompiledRule:
        """The rule compiled with its default parameters."""
        return self._default[self.require(rule_id).id]

    def index(self, params: Mapping[str, Mapping[str, Any]]) -> dict[str, TypeRules]:
        """resource_type -> its compiled rules and checker, with ``params`` (validated) bound."""
        key = tuple(sorted((rid, _freeze(p)) for rid, p in params.items()))
        index = self._indexes.get(key)
        if index is None:
            by_type: dict[str, list[CompiledRule]] = {}
            for rule in self.rules:
                by_type.setdefault(rule.resource_type, []).append(
                    self._bind(rule, params.get(rule.id))
                )
            index = {rtype: type_rules(rtype, compiled) for rtype, compiled in by_type.items()}
            if len(self._indexes) >= 64:
                self._indexes.clear()
            self._indexes[key] = index
        return index

    def _bind(self, rule: Rule, overrides: Mapping[str, Any] | None) -> CompiledRule:
        if not overrides:
            return self._default[rule.id]
        key = (rule.id, _freeze(overrides))
        compiled = self._bound.get(key)
        if compiled is None:
            if len(self._bound) >= _COMPILED_CACHE_LIMIT:
                self._bound.clear()
            params = {**rule.defaults(), **overrides}
            compiled = CompiledRule(
                rule, params, self.prices[rule.provider], self.families[rule.provider]
            )
            self._bound[key] = compiled
        return compiled

    def validate_params(
        self, params: Mapping[str, Mapping[str, Any]] | None
    ) -> dict[str, dict[str, Any]]:
        """Check ``{rule_id: {param: value}}`` overrides; ConfigError on an unknown key or value."""
        checked: dict[str, dict[str, Any]] = {}
        if not params:
            return checked
        if not isinstance(params, Mapping):
            raise ConfigError(
                "Rule parameters must be a mapping of rule id to {param: value}.",
                'Example: {"AWS-EC2-STOPPED": {"allowed_days": 14}}.',
            )
        for rule_id, values in params.items():
            rule = self._by_id.get(rule_id)
            if rule is None:
                raise ConfigError(
                    f"Parameters given for unknown rule {rule_id!r}"
                    f"{ex.suggest(str(rule_id), self._by_id)}.",
                    "Use an id from `fintropy rules list`.",
                )
            if not isinstance(values, Mapping):
                raise ConfigError(
                    f"Parameters for {rule_id} must be a mapping of name to value.",
                    f"Valid names: {', '.join(sorted(rule.params)) or 'none'}.",
                )
            checked[rule_id] = {}
            for name, value in values.items():
                param = rule.params.get(name)
                if param is None:
                    raise ConfigError(
                        f"Rule {rule_id} has no parameter {name!r}"
                        f"{ex.suggest(str(name), rule.params)}.",
                        f"Valid parameters: {', '.join(sorted(rule.params)) or 'none'}.",
                    )
                checked[rule_id][name] = param.check(value, f"rule {rule_id}")
        return checked


def _freeze(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in values.items()))


def load_catalogue(paths: Sequence[str | Path] | None = None) -> Catalogue:
    """Load, check and compile the rule files under ``paths`` (default: the shipped catalogue).

    Loaded catalogues are cached per set of paths; a changed rule, price or family file is
    picked up because the cache key holds a digest of every file's content.
    """
    files = _rule_files([Path(p) for p in paths] if paths else [CATALOGUE_DIR])
    tables = sorted(PRICES_DIR.glob("*.yaml")) + sorted(DATA_DIR.glob("*.yaml"))
    digest = hashlib.sha256()
    for path in (*files, *tables):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return _load_cached(tuple(str(f) for f in files), digest.hexdigest())


@lru_cache(maxsize=8)
def _load_cached(files: tuple[str, ...], fingerprint: str) -> Catalogue:
    started = time.perf_counter()
    validator = _schema_validator()
    rules: dict[str, Rule] = {}
    for name in files:
        path = Path(name)
        for rule in _load_file(path, validator):
            if rule.id in rules:
                raise ConfigError(
                    f"{rule.source}: rule {rule.id}: id already defined in "
                    f"{rules[rule.id].source}.",
                    "Rule ids must be unique across the catalogue; rename one of them.",
                )
            rules[rule.id] = rule
    providers = sorted({rule.provider for rule in rules.values()})
    prices = {p: load_prices(p) for p in providers}
    families = {p: load_families(p) for p in providers}
    compiled: dict[str, CompiledRule] = {}
    final: list[Rule] = []
    for rule in rules.values():
        unit = CompiledRule(rule, rule.defaults(), prices[rule.provider], families[rule.provider])
        _check_tests(rule)
        final.append(_with_data_used(rule, unit.data_used))
        compiled[rule.id] = unit
        unit.rule = final[-1]
    logger.info(
        "rule catalogue loaded",
        extra={"count": len(final), "duration_ms": round((time.perf_counter() - started) * 1000)},
    )
    return Catalogue(final, compiled, prices, families, fingerprint[:16])


def _with_data_used(rule: Rule, data_used: tuple[str, ...]) -> Rule:
    from dataclasses import replace

    return replace(rule, data_used=data_used)


def _rule_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.yaml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"{path}: no such rule file or folder.", "Check the path.")
    if not files:
        raise ConfigError(
            f"No rule files (*.yaml) under {', '.join(map(str, paths))}.", "Check the path."
        )
    return files


def _schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PACKAGE_DIR.parent))
    except ValueError:
        return str(path)


def _load_file(path: Path, validator: Any) -> list[Rule]:
    source = _display(path)
    doc = load_yaml(path)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError(
            f"{source}: {len(errors)} problem(s):\n"
            + "\n".join(_describe(doc, e) for e in errors[:10]),
            "Fix the fields named above; rules/schema/rule.schema.json lists every field.",
        )
    return [_build_rule(source, doc, raw) for raw in doc["rules"]]


def _describe(doc: Any, error: Any) -> str:
    """One line per schema error: rule id, field path, what is wrong and the valid choices."""
    path = list(error.absolute_path)
    rule_id = ""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        raw = doc["rules"][path[1]]
        rule_id = raw.get("id", f"#{path[1]}") if isinstance(raw, dict) else f"#{path[1]}"
        path = path[2:]
    message = error.message
    if error.validator == "required":
        missing = message.split("'")[1] if message.count("'") >= 2 else ""
        path = [*path, missing] if missing else path
        message = "is missing"
        if "then" in error.schema_path:
            message = "is missing: advice-only rules (action: null) need an `advice` block"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        path = [*path, ",".join(unknown)]
        message = f"is not a known field; valid fields: {', '.join(allowed)}"
    elif error.validator == "oneOf":
        message = f"{error.instance!r} is not a name or a {{check, reason}} / {{name, reason}}"
    elif "else" in error.schema_path:
        message = "`advice` is only for rules with action: null; the action says what to do"
    field = ".".join(str(p) for p in path) or "(top level)"
    prefix = f"rule {rule_id}: " if rule_id else ""
    return f"  - {prefix}field '{field}': {message}"


def _fail(source: str, rule_id: str, field: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{source}: rule {rule_id}: field '{field}': {problem}.", fix)


def _build_rule(source: str, doc: Mapping[str, Any], raw: Mapping[str, Any]) -> Rule:
    rule_id = raw["id"]
    if raw["service"] != doc["service"]:
        raise _fail(
            source,
            rule_id,
            "service",
            f"{raw['service']!r} differs from the file's service {doc['service']!r}",
            "Move the rule to its service's file.",
        )
    rtype = raw["resource_type"]
    if rtype not in AWS_RESOURCE_TYPES:
        raise _fail(
            source,
            rule_id,
            "resource_type",
            f"unknown resource type {rtype!r}",
            f"Valid choices: {', '.join(sorted(AWS_RESOURCE_TYPES))}.",
        )
    if not rtype.startswith(doc["provider"] + "."):
        raise _fail(
            source,
            rule_id,
            "resource_type",
            f"{rtype!r} is not a {doc['provider']} type",
            "Use a type of the file's provider.",
        )
    action = raw["action"]
    if action is not None:
        spec = ACTIONS.get(action)
        if spec is None:
            raise _fail(
                source,
                rule_id,
                "action",
                f"unknown action {action!r}",
                f"Valid choices: {', '.join(sorted(ACTIONS))}, or null for advice only.",
            )
        if spec.resource_type != rtype:
            fitting = sorted(a for a, s in ACTIONS.items() if s.resource_type == rtype)
            raise _fail(
                source,
                rule_id,
                "action",
                f"{action!r} acts on {spec.resource_type}, not {rtype}",
                f"Valid choices for {rtype}: {', '.join(fitting) or 'none'}, or null.",
            )
    params = _build_params(source, rule_id, rtype, raw.get("params") or {})
    advice_raw = raw.get("advice")
    advice = (
        Advice(
            advice_raw["text"],
            Reversibility(advice_raw["reversibility"]),
            Risk(advice_raw["risk"]),
        )
        if advice_raw
        else None
    )
    attrs, metrics = type_names(rtype)
    return Rule(
        id=rule_id,
        version=raw["version"],
        title=raw["title"],
        provider=doc["provider"],
        service=raw["service"],
        resource_type=rtype,
        severity=Severity(raw["severity"]),
        rule_class=raw["class"],
        description=" ".join(raw["description"].split()),
        params=params,
        requires=tuple(_requirement(r, metrics) for r in raw["requires"]),
        applies_when=raw.get("applies_when"),
        when=raw["when"],
        lets=dict(raw.get("let") or {}),
        savings=raw["savings"]["amount"],
        savings_formula=raw["savings"]["formula"],
        price_basis=raw["savings"]["price_basis"],
        explanation=" ".join(raw["explanation"].split()),
        evidence=tuple(raw["evidence"]),
        action=action,
        advice=advice,
        limitations=tuple(" ".join(text.split()) for text in raw["limitations"]),
        permissions=tuple(raw["permissions"]),
        references=tuple(raw["references"]),
        tests=tuple(_test_case(source, rule_id, rtype, i, t) for i, t in enumerate(raw["tests"])),
        source=source,
    )


def _requirement(raw: Any, metrics: frozenset[str]) -> Requirement:
    if isinstance(raw, str):
        return Requirement(raw, None, default_reason(raw, raw in metrics))
    if "name" in raw:
        return Requirement(raw["name"], None, raw["reason"])
    return Requirement(None, raw["check"], raw["reason"])


def _build_params(
    source: str, rule_id: str, rtype: str, raw: Mapping[str, Any]
) -> dict[str, Param]:
    attrs, metrics = type_names(rtype)
    params: dict[str, Param] = {}
    for name, spec in raw.items():
        if name in attrs or name in metrics or name in (*RESOURCE_FIELDS, "savings"):
            raise _fail(
                source,
                rule_id,
                f"params.{name}",
                f"{name!r} is also a field of {rtype} or a reserved name",
                "Rename the parameter so expressions stay unambiguous.",
            )
        param = Param(
            name=name,
            type=spec["type"],
            default=spec["default"],
            description=" ".join(spec["description"].split()),
            unit=spec.get("unit", ""),
            minimum=spec.get("min"),
            maximum=spec.get("max"),
            inferred=bool(spec.get("inferred", False)),
        )
        default = param.check(param.default, f"{source}: rule {rule_id}: params.{name}.default")
        params[name] = Param(**{**param.__dict__, "default": default})
    return params


def _test_case(
    source: str, rule_id: str, rtype: str, index: int, raw: Mapping[str, Any]
) -> TestCase:
    attrs, metrics = type_names(rtype)
    resource = raw["resource"]
    field = f"tests[{index}]"
    for key in resource.get("attrs", {}):
        if key not in attrs:
            raise _fail(
                source,
                rule_id,
                f"{field}.resource.attrs",
                f"{key!r} is not an attribute of {rtype}{ex.suggest(key, attrs)}",
                f"Valid: {', '.join(sorted(attrs))}.",
            )
    for key in resource.get("metrics", {}):
        if key not in metrics:
            raise _fail(
                source,
                rule_id,
                f"{field}.resource.metrics",
                f"{key!r} is not a metric of {rtype}{ex.suggest(key, metrics)}",
                f"Valid: {', '.join(sorted(metrics))}.",
            )
    expect = raw["expect"]
    wanted = {"fires": True, "does_not_fire": False, "skipped": "skipped"}.get(raw["case"])
    if wanted is not None and expect["fires"] != wanted:
        raise _fail(
            source,
            rule_id,
            f"{field}.expect.fires",
            f"a {raw['case']!r} case must expect fires: {json.dumps(wanted)}",
            "Make the case label and the expectation agree.",
        )
    if expect["fires"] is True and "savings" not in expect:
        raise _fail(
            source,
            rule_id,
            f"{field}.expect",
            "a case that fires must state the expected savings",
            "Add `savings: <USD per month>`.",
        )
    return TestCase(
        case=raw["case"],
        description=raw.get("description", ""),
        now=raw["now"],
        resource=resource,
        params=raw.get("params") or {},
        expect=expect,
    )


def _check_tests(rule: Rule) -> None:
    for index, case in enumerate(rule.tests):
        if case.params:
            for name, value in case.params.items():
                param = rule.params.get(name)
                if param is None:
                    raise _fail(
                        rule.source,
                        rule.id,
                        f"tests[{index}].params",
                        f"no parameter {name!r}",
                        f"Valid parameters: {', '.join(sorted(rule.params)) or 'none'}.",
                    )
                param.check(value, f"{rule.source}: rule {rule.id}: tests[{index}].params")
