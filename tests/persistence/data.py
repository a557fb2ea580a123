"""Small domain objects and a filler that writes a row into every tenant table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fintropy import audit
from fintropy.domain import (
    ActionOutcome,
    Finding,
    OutcomeStatus,
    ReadError,
    Resource,
    ResourceRef,
    Reversibility,
    Risk,
    Severity,
    finding_id,
)
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from fintropy.persistence.models import ExceptionRecord
from fintropy.persistence.teams import TeamsConversation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNT = "111111111111"


def volume(volume_id: str, region: str = "eu-west-1", **tags: str) -> Resource:
    """An unattached gp2 volume."""
    return Resource(
        "aws",
        ACCOUNT,
        region,
        "aws.ebs.volume",
        volume_id,
        name=f"name-{volume_id}",
        tags=dict(tags),
        attrs={
            "state": "available",
            "volume_type": "gp2",
            "size_gb": 100,
            "attached_instance_ids": [],
        },
        metrics={"read_ops_per_day_14d": 0.0},
    )


def unattached(resource: Resource, savings: float = 8.0) -> Finding:
    """The finding a rule would raise on an unattached volume."""
    return Finding(
        rule_id="aws_ebs_volume_unattached",
        rule_version="1.0.0",
        title="EBS volume is not attached to any instance",
        severity=Severity.MEDIUM,
        resource=resource.ref,
        resource_name=resource.name,
        explanation="The volume has been unattached for 30 days.",
        evidence={"state": "available", "size_gb": 100},
        savings_usd_month=savings,
        savings_formula=f"100 GB x 0.08 USD = {savings} USD/month",
        price_basis="list",
        action="snapshot_and_delete_volume",
        reversibility=Reversibility.RESTORABLE,
        risk=Risk.MEDIUM,
        data_used=("state", "size_gb"),
    )


def fid(tenant_id: str, finding: Finding) -> str:
    """The stable id of ``finding`` in ``tenant_id``."""
    return finding_id(tenant_id, finding.rule_id, finding.resource)


def populate_every_table(engine: Any, tenant_id: str) -> None:
    """Write at least one row of ``tenant_id`` into every tenant table (tenant already exists)."""
    resource = volume(f"vol-{tenant_id}")
    finding = unattached(resource)
    with tenant_session(engine, tenant_id) as session:
        repo.record_scan_started(session, tenant_id, "scan-1", "alice", now=T0)
        repo.store_resources(
            session,
            tenant_id,
            "scan-1",
            [resource],
            account_id=ACCOUNT,
            region="eu-west-1",
            errors=[
                ReadError(
                    ACCOUNT,
                    "eu-west-1",
                    "elbv2",
                    "AccessDenied",
                    "no elasticloadbalancing:Describe*",
                )
            ],
        )
        repo.upsert_findings(session, tenant_id, "scan-1", [finding], T0)
        repo.record_scan_finished(
            session, tenant_id, "scan-1", resource_count=1, finding_count=1, now=T0
        )
        repo.start_run(
            session,
            tenant_id,
            "run-1",
            fid(tenant_id, finding),
            "wf-1",
            "snapshot_and_delete_volume",
            dry_run=False,
            requested_by="carol",
            approved_by=["bob"],
            now=T0,
        )
        repo.record_outcome(
            session,
            tenant_id,
            "run-1",
            "plan",
            ActionOutcome(
                "snapshot_and_delete_volume", resource.ref, OutcomeStatus.PLANNED, "would delete"
            ),
        )
        audit.append_event(session, tenant_id, "system", "scan.started", "scan-1")
        session.add(
            ExceptionRecord(
                tenant_id=tenant_id,
                id="ex-1",
                scope="resource",
                scope_value=resource.ref.key,
                owner="alice",
                reason="migration next week",
                expires_at=T0 + timedelta(days=7),
            )
        )
        session.add(
            TeamsConversation(
                tenant_id=tenant_id,
                conversation_id=f"19:{tenant_id}@thread.tacv2",
                channel_id=f"19:{tenant_id}@thread.tacv2",
                service_url="https://smba.example.invalid/teams/",
                reference={"conversation": {"id": f"19:{tenant_id}@thread.tacv2"}},
            )
        )


def ref(resource_id: str, region: str = "eu-west-1") -> ResourceRef:
    """A volume reference in the test account."""
    return ResourceRef("aws", ACCOUNT, region, "aws.ebs.volume", resource_id)
