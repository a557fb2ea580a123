"""Approval policies as data: first matching rule wins, bad policies are refused clearly."""

from __future__ import annotations

import pytest
import yaml

from fintropy.errors import ConfigError
from fintropy.policy import DEFAULT_POLICY, Change, required_approvals, validate_policy
from fintropy.tenants import parse_tenants

POLICY = {
    "default_approvers": 1,
    "rules": [
        {"environment": "prod", "destructive": True, "approvers": 2},
        {"min_savings_usd_month": 1000, "approvers": 2},
        {"reversibility": "irreversible", "risk": "high", "approvers": 3},
    ],
}


def change(**overrides) -> Change:
    facts = {"environment": "nonprod", "destructive": False, "reversibility": "reversible",
             "risk": "low", "savings_usd_month": 10.0}
    return Change(**{**facts, **overrides})


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, 1),
        ({"environment": "prod"}, 1),
        ({"environment": "prod", "destructive": True}, 2),
        ({"destructive": True}, 1),
        ({"savings_usd_month": 999.99}, 1),
        ({"savings_usd_month": 1000.0}, 2),
        ({"reversibility": "irreversible", "risk": "high"}, 3),
        ({"reversibility": "irreversible", "risk": "medium"}, 1),
    ],
)
def test_first_matching_rule_decides(facts, expected):
    assert required_approvals(POLICY, change(**facts)) == expected


def test_default_policy_needs_two_people_only_for_destructive_production_changes():
    assert required_approvals(None, change(environment="prod", destructive=True)) == 2
    assert required_approvals(None, change(environment="prod")) == 1
    assert validate_policy(None) == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"rules": [{"environment": "staging", "approvers": 2}]}, "prod, nonprod"),
        ({"rules": [{"colour": "red", "approvers": 2}]}, "unknown condition 'colour'"),
        ({"rules": [{"environment": "prod"}]}, "needs an approvers count"),
        ({"rules": [{"environment": "prod", "approvers": 9}]}, "1 to 5"),
        ({"default_approvers": 0}, "1 to 5"),
        ({"rules": [{"min_savings_usd_month": -5, "approvers": 2}]}, ">= 0"),
        ({"approvers": 2}, "unknown keys"),
    ],
)
def test_bad_policies_name_what_is_wrong(policy, message):
    with pytest.raises(ConfigError, match=message):
        validate_policy(policy)


def test_tenants_file_policy_is_validated_before_anything_is_provisioned():
    text = """
tenants:
  - id: acme
    approval_policy: {rules: [{risk: extreme, approvers: 2}]}
"""
    with pytest.raises(ConfigError, match=r"tenants\[0\] \(acme\) approval_policy.*risk"):
        parse_tenants(yaml.safe_load(text), "t.yaml")
