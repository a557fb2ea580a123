"""Helpers for the rule-engine tests: resources and throwaway rule files."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from fintropy.domain import Resource

NOW = "2026-06-01T00:00:00Z"


def resource(
    resource_type: str,
    resource_id: str,
    attrs: dict[str, Any],
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    name: str = "",
) -> Resource:
    """A resource as an adapter would produce it (only the attributes a test needs)."""
    return Resource(
        provider="aws",
        account_id=account_id,
        region=region,
        resource_type=resource_type,
        resource_id=resource_id,
        name=name,
        tags=tags or {},
        attrs=attrs,
        metrics=metrics or {},
    )


def volume(resource_id: str, **attrs: Any) -> Resource:
    """An EBS volume; defaults to an unattached 100 GB gp2 volume created long ago."""
    base: dict[str, Any] = {
        "state": "available",
        "volume_type": "gp2",
        "size_gb": 100,
        "iops": 300,
        "throughput": None,
        "create_time": "2026-01-01T00:00:00Z",
        "attached_instance_ids": [],
        "attached_instance_states": [],
    }
    tags = attrs.pop("tags", None)
    base.update(attrs)
    return resource("aws.ebs.volume", resource_id, base, tags=tags)


MINIMAL_RULE = textwrap.dedent(
    """
    - id: TEST-EBS-BIG
      version: 1.0.0
      title: Big unattached volume
      service: ebs
      resource_type: aws.ebs.volume
      severity: low
      class: unused
      description: A test rule that flags big unattached volumes.
      params:
        min_gb:
          type: int
          default: 100
          min: 1
          max: 10000
          unit: GB
          description: Smallest size flagged.
      requires: [size_gb]
      applies_when: state == "available"
      when: size_gb >= min_gb
      savings:
        amount: size_gb * price("ebs.gb_month", "gp2")
        formula: "{size_gb} GB = ${savings:.2f}/month"
        price_basis: list
      explanation: Volume {resource_id} has {size_gb} GB unattached.
      evidence: [size_gb]
      action: null
      advice: {text: Delete it, reversibility: irreversible, risk: low}
      limitations: [A test rule.]
      permissions: [ec2:DescribeVolumes]
      references: [PRAC]
      tests:
        - case: fires
          now: "2026-06-01T00:00:00Z"
          resource: {attrs: {state: available, size_gb: 200}}
          expect: {fires: true, savings: 20.0}
        - case: does_not_fire
          now: "2026-06-01T00:00:00Z"
          resource: {attrs: {state: available, size_gb: 10}}
          expect: {fires: false}
        - case: boundary
          now: "2026-06-01T00:00:00Z"
          resource: {attrs: {state: available, size_gb: 100}}
          expect: {fires: true, savings: 10.0}
    """
)


def write_rules(
    folder: Path, rules_yaml: str, name: str = "ebs.yaml", service: str = "ebs"
) -> Path:
    """Write a rule file holding ``rules_yaml`` (the indented items of ``rules:``)."""
    path = folder / name
    body = textwrap.dedent(rules_yaml)
    path.write_text(
        f"provider: aws\nservice: {service}\nrules:\n" + textwrap.indent(body, "  "),
        encoding="utf-8",
    )
    return path


def mutate(rule_yaml: str, old: str, new: str) -> str:
    """``rule_yaml`` with one exact fragment replaced (it must be there)."""
    assert old in rule_yaml, old
    return rule_yaml.replace(old, new, 1)
