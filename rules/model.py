"""Typed, frozen views of the rule files: what code reads about a rule.

A :class:`Rule` is the reviewed text of one catalogue entry (its expressions are kept as the
strings an analyst wrote); ``rules.compiler`` turns it into something that runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fintropy.domain import ACTIONS, Reversibility, Risk, Severity
from fintropy.errors import ConfigError

PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
}


@dataclass(frozen=True)
class Param:
    """A typed threshold a tenant may override, with its default and bounds."""

    name: str
    type: str  # int | float | str | bool | list
    default: Any
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    inferred: bool = False  # the default is practitioner practice, not a published default

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` in this param's type, or raise ConfigError saying what is wrong."""
        kinds = PARAM_TYPES[self.type]
        wrong_bool = isinstance(value, bool) and self.type in ("int", "float")
        if wrong_bool or not isinstance(value, kinds):
            raise ConfigError(
                f"{where}: parameter {self.name!r} must be of type {self.type}, "
                f"got {value!r} ({type(value).__name__}).",
                f"Give a {self.type} value ({self.description}).",
            )
        if self.type in ("int", "float"):
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                raise ConfigError(
                    f"{where}: parameter {self.name!r} = {value!r} is outside its range "
                    f"{_bound(low)}..{_bound(high)} {self.unit}".rstrip()
                    + ".",
                    f"Choose a value from {_bound(low)} to {_bound(high)}.",
                )
            return float(value) if self.type == "float" else value
        if self.type == "list":
            return list(value)
        return value


def _bound(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Requirement:
    """Data a rule needs; when it is missing the rule is skipped for that resource, with a reason.

    Either ``name`` (an attribute that must be known, or a metric that must be present) or
    ``check`` (an expression that must hold, such as enough days of metrics).
    """

    name: str | None
    check: str | None
    reason: str  # a template


@dataclass(frozen=True)
class Advice:
    """For advice-only rules: what to do, and how reversible and risky doing it is."""

    text: str
    reversibility: Reversibility
    risk: Risk


@dataclass(frozen=True)
class TestCase:
    """One worked case a rule must pass: a small resource, a time, and the expected outcome."""

    case: str  # fires | does_not_fire | boundary | skipped
    description: str
    now: str
    resource: Mapping[str, Any]  # id, name, attrs, metrics, tags
    params: Mapping[str, Any]
    expect: Mapping[str, Any]  # fires: true|false|"skipped", savings, reason_contains, ...


@dataclass(frozen=True)
class Rule:
    """One catalogue rule, as reviewed."""

    id: str
    version: str
    title: str
    provider: str
    service: str
    resource_type: str
    severity: Severity
    rule_class: str
    description: str
    params: Mapping[str, Param]
    requires: tuple[Requirement, ...]
    applies_when: str | None
    when: str
    lets: Mapping[str, str]
    savings: str
    savings_formula: str
    price_basis: str
    explanation: str
    evidence: tuple[str, ...]
    action: str | None
    advice: Advice | None
    limitations: tuple[str, ...]
    permissions: tuple[str, ...]
    references: tuple[str, ...]
    tests: tuple[TestCase, ...]
    source: str  # the file it came from, relative to the rules package when shipped
    data_used: tuple[str, ...] = field(default=())  # attributes and metrics it reads

    @property
    def reversibility(self) -> Reversibility | None:
        """How reversible the remediation is (from the action, or stated in the advice)."""
        if self.action is not None:
            return ACTIONS[self.action].reversibility
        return self.advice.reversibility if self.advice else None

    @property
    def risk(self) -> Risk | None:
        """The operational risk of the remediation (from the action, or stated in the advice)."""
        if self.action is not None:
            return ACTIONS[self.action].risk
        return self.advice.risk if self.advice else None

    def defaults(self) -> dict[str, Any]:
        """Parameter name -> default value."""
        return {name: p.default for name, p in self.params.items()}
