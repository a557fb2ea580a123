"""Approval policies: how many distinct approvers a change needs, as reviewable data.

A tenant's policy is an ordered list of rules; the first rule whose conditions all hold gives
the number of approvers, and ``default_approvers`` applies when none does. Pure and
deterministic: no I/O, so the finding workflow's inputs can be computed from it anywhere.

```yaml
approval_policy:
  default_approvers: 1
  rules:
    - {environment: prod, destructive: true, approvers: 2}
    - {min_savings_usd_month: 1000, approvers: 2}
    - {reversibility: irreversible, risk: high, approvers: 2}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fintropy.errors import ConfigError

CONDITIONS = ("environment", "destructive", "reversibility", "risk", "min_savings_usd_month")
_CHOICES = {
    "environment": ("prod", "nonprod"),
    "reversibility": ("reversible", "restorable", "irreversible"),
    "risk": ("low", "medium", "high"),
}

# Without a configured policy: one approver, two for a destructive change in production.
DEFAULT_POLICY: dict[str, Any] = {
    "default_approvers": 1,
    "rules": [{"environment": "prod", "destructive": True, "approvers": 2}],
}


@dataclass(frozen=True)
class Change:
    """The facts about one proposed change that a policy can look at."""

    environment: str
    destructive: bool
    reversibility: str
    risk: str
    savings_usd_month: float


def validate_policy(policy: Any, where: str = "approval_policy") -> dict[str, Any]:
    """Check a policy's shape; raises ConfigError naming the bad rule and field."""
    if policy is None:
        return DEFAULT_POLICY
    if not isinstance(policy, dict):
        raise ConfigError(f"{where} must be a mapping.", "See fintropy/policy.py for the shape.")
    unknown = set(policy) - {"default_approvers", "rules"}
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {sorted(unknown)}.", "Use default_approvers and rules."
        )
    default = policy.get("default_approvers", 1)
    if not isinstance(default, int) or not 1 <= default <= 5:
        raise ConfigError(f"{where}.default_approvers must be 1 to 5, not {default!r}.", "")
    for i, rule in enumerate(policy.get("rules") or []):
        at = f"{where}.rules[{i}]"
        if not isinstance(rule, dict) or "approvers" not in rule:
            raise ConfigError(
                f"{at} needs an approvers count.", "e.g. {environment: prod, approvers: 2}"
            )
        count = rule["approvers"]
        if not isinstance(count, int) or not 1 <= count <= 5:
            raise ConfigError(f"{at}.approvers must be 1 to 5, not {count!r}.", "")
        for key, value in rule.items():
            if key == "approvers":
                continue
            if key not in CONDITIONS:
                raise ConfigError(
                    f"{at} has unknown condition {key!r}.", f"Use: {', '.join(CONDITIONS)}."
                )
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(
                    f"{at}.{key} is {value!r}.", f"Use one of: {', '.join(_CHOICES[key])}."
                )
            if key == "destructive" and not isinstance(value, bool):
                raise ConfigError(f"{at}.destructive must be true or false.", "")
            if key == "min_savings_usd_month" and (not isinstance(value, int | float) or value < 0):
                raise ConfigError(f"{at}.min_savings_usd_month must be a number >= 0.", "")
    return {"default_approvers": default, "rules": list(policy.get("rules") or [])}


def required_approvals(policy: dict[str, Any] | None, change: Change) -> int:
    """How many distinct approvers ``change`` needs under ``policy`` (first match wins)."""
    policy = policy or DEFAULT_POLICY
    for rule in policy.get("rules") or []:
        if _matches(rule, change):
            return int(rule["approvers"])
    return int(policy.get("default_approvers", 1))


def _matches(rule: dict[str, Any], change: Change) -> bool:
    for key, value in rule.items():
        if key == "approvers":
            continue
        if key == "min_savings_usd_month":
            if change.savings_usd_month < float(value):
                return False
        elif getattr(change, key) != value:
            return False
    return True
