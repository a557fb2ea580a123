"""Registry meta-tests: every shipped rule is complete, consistent and explainable."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from fintropy.domain import ACTIONS, Resource
from fintropy.errors import ConfigError
from fintropy.inventory_schema import AWS_RESOURCE_TYPES
from rules import evaluate, load_catalogue
from rules.cases import run_case, worked_example
from rules.loader import CATALOGUE_DIR, SCHEMA_PATH
from rules.prices import load_yaml

CATALOGUE = load_catalogue()
RULES = [pytest.param(rule, id=rule.id) for rule in CATALOGUE.rules]
SOURCE_KEYS = {
    "T-AWS",
    "FP-AWS",
    "C7N",
    "HAR",
    "FLX",
    "DD",
    "TA",
    "CO",
    "COH",
    "CFG",
    "FIN",
    "CFM",
    "NOPS",
    "PF",
    "INF",
    "PRAC",
    "aws-recommendation",
}
REQUIRED_IDS = {
    "AWS-EBS-UNATTACHED",
    "AWS-EBS-GP2",
    "AWS-EIP-UNATTACHED",
    "AWS-EC2-LOWUTIL-TA",
    "AWS-EC2-STOPPED",
    "AWS-EC2-OLDGEN",
    "AWS-EBS-SNAP-OLD",
    "AWS-EBS-SNAP-ORPHAN",
    "AWS-ELB-LOWREQ",
    "AWS-ALB-NOTARGETS",
    "AWS-NAT-UNUSED",
    "AWS-RDS-IDLE-TA",
    "AWS-RDS-GP2",
    "AWS-S3-NOLIFECYCLE",
    "AWS-S3-MPU",
    "AWS-EC2-AMI-UNUSED",
    "AWS-EBS-STOPPED-INST",
    "AWS-EBS-IO1-IO2",
    "AWS-EBS-PIOPS-GP3",
    "AWS-EIP-STOPPED-INST",
    "AWS-RDS-OLDGEN",
    "AWS-RDS-MULTIAZ-NONPROD",
}


def test_catalogue_has_at_least_30_aws_rules_including_the_required_ones():
    ids = {rule.id for rule in CATALOGUE.rules if rule.provider == "aws"}

    assert len(ids) >= 30
    assert ids >= REQUIRED_IDS, REQUIRED_IDS - ids


def test_required_actions_are_wired_to_their_rules():
    actions = {rule.id: rule.action for rule in CATALOGUE.rules}

    assert actions["AWS-EBS-UNATTACHED"] == "snapshot_and_delete_volume"
    assert actions["AWS-EBS-GP2"] == "modify_volume_to_gp3"
    assert actions["AWS-EIP-UNATTACHED"] == "release_address"
    assert actions["AWS-EC2-LOWUTIL-TA"] == "stop_instance"
    assert actions["AWS-EBS-SNAP-OLD"] == "delete_snapshot"
    assert actions["AWS-ELB-LOWREQ"] == "delete_load_balancer"


def test_every_shipped_file_is_valid_against_the_json_schema():
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    files = sorted(CATALOGUE_DIR.rglob("*.yaml"))

    assert files
    for path in files:
        errors = list(validator.iter_errors(load_yaml(path)))
        assert not errors, (path, [e.message for e in errors])


@pytest.mark.parametrize("rule", RULES)
def test_rule_has_fires_does_not_fire_and_boundary_cases(rule):
    kinds = {case.case for case in rule.tests}

    assert len(rule.tests) >= 3
    assert {"fires", "does_not_fire", "boundary"} <= kinds
    if rule.requires:
        assert "skipped" in kinds, "a rule that needs data must show the skip when it is missing"


@pytest.mark.parametrize("rule", RULES)
def test_rule_metadata_is_complete(rule):
    assert rule.permissions and all(re.match(r"^[a-z0-9-]+:[A-Z]\w+$", p) for p in rule.permissions)
    assert rule.limitations and all(text.strip() for text in rule.limitations)
    assert len(rule.title) <= 80 and not rule.title.startswith("Ensure")
    assert re.match(r"^\d+\.\d+\.\d+$", rule.version)
    assert rule.price_basis == "list"
    assert rule.resource_type in AWS_RESOURCE_TYPES
    for reference in rule.references:
        assert reference.split()[0] in SOURCE_KEYS, reference


@pytest.mark.parametrize("rule", RULES)
def test_rule_action_exists_and_acts_on_the_rules_resource_type(rule):
    if rule.action is None:
        assert rule.advice is not None and rule.advice.text
        assert rule.reversibility is rule.advice.reversibility
    else:
        assert rule.action in ACTIONS
        assert ACTIONS[rule.action].resource_type == rule.resource_type
        assert rule.reversibility is ACTIONS[rule.action].reversibility
        assert rule.risk is ACTIONS[rule.action].risk


@pytest.mark.parametrize("rule", RULES)
def test_worked_example_renders_a_readable_explanation(rule):
    example = worked_example(CATALOGUE, rule)

    assert example is not None
    finding = example[1].finding
    assert finding is not None
    assert "{" not in finding.explanation and "{" not in finding.savings_formula
    assert "unknown" not in finding.explanation
    assert "$" in finding.savings_formula, "the formula shows the amount it arrives at"
    assert finding.rule_version == rule.version
    assert finding.data_used == rule.data_used
    assert set(finding.evidence) == set(rule.evidence)


@pytest.mark.parametrize("rule", RULES)
def test_rule_reads_only_schema_fields(rule):
    spec = AWS_RESOURCE_TYPES[rule.resource_type]

    assert set(rule.data_used) <= set(spec["attrs"]) | set(spec["metrics"])
    for case in rule.tests:
        assert set(case.resource.get("attrs", {})) <= set(spec["attrs"])


@pytest.mark.parametrize("rule", RULES)
def test_params_forbid_unknown_keys_and_out_of_range_values(rule):
    only = CATALOGUE.subset([rule.id])
    resource = Resource("aws", "1", "us-east-1", rule.resource_type, "r-1")

    with pytest.raises(ConfigError, match="no parameter 'no_such_param'"):
        evaluate(
            only, [resource], now="2026-06-01T00:00:00Z", params={rule.id: {"no_such_param": 1}}
        )
    for param in rule.params.values():
        if param.maximum is not None:
            with pytest.raises(ConfigError, match="outside its range"):
                evaluate(
                    only,
                    [resource],
                    now="2026-06-01T00:00:00Z",
                    params={rule.id: {param.name: param.maximum + 1}},
                )


@pytest.mark.parametrize("rule", RULES)
def test_rule_never_crashes_on_unknown_attributes(rule):
    """An adapter reports what the cloud does not say as None: a rule skips, never raises."""
    spec = AWS_RESOURCE_TYPES[rule.resource_type]
    blank = Resource(
        "aws", "1", "us-east-1", rule.resource_type, "r-1", attrs=dict.fromkeys(spec["attrs"])
    )

    result = evaluate(CATALOGUE.subset([rule.id]), [blank], now="2026-06-01T00:00:00Z")

    assert result.findings == []


@pytest.mark.parametrize("rule", RULES)
def test_param_defaults_reproduce_the_documented_cases(rule):
    """Cases without params use the defaults; the boundary case sits on a real edge."""
    boundary = [case for case in rule.tests if case.case == "boundary"]

    for case in boundary:
        assert run_case(CATALOGUE, rule, case).passed


def test_inferred_thresholds_are_marked_and_documented():
    inferred = [
        (rule.id, name)
        for rule in CATALOGUE.rules
        for name, param in rule.params.items()
        if param.inferred
    ]

    assert inferred, "thresholds marked inferred in the catalogue must be flagged as such"
    for rule in CATALOGUE.rules:
        for param in rule.params.values():
            assert param.description and len(param.description) > 10


def test_price_table_entries_carry_source_and_date():
    table = CATALOGUE.prices["aws"]

    assert table.hours_per_month == 730
    for entry in table.entries.values():
        assert entry.source and re.match(r"^\d{4}-\d{2}-\d{2}$", entry.as_of)
    assert table("ebs.gb_month", "gp2") == 0.10
    assert table("nat.hour") == 0.045
    assert table("vpc.public_ipv4_hour") == 0.005
