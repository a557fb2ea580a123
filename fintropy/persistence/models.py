"""SQLModel tables. Every table carries ``tenant_id`` (``tenants`` itself is keyed by ``id``).

The schema is created by the Alembic migrations in ``fintropy.persistence.migrations``, not by
``metadata.create_all``: the migrations also create the Row-Level Security policies, the
application role and its grants. A test compares these classes with the migrated schema, so a
column added here without a migration fails CI.

JSON columns are ``jsonb`` except ``audit_events.details``, which is ``json`` on purpose: ``json``
keeps the exact text that was hashed, where ``jsonb`` may rewrite numbers such as ``1e+20``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Numeric,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from fintropy.domain import FindingStatus, Role

IDENTITY_PLATFORMS = ("slack", "teams", "cli")
BINDING_PLATFORMS = ("slack", "teams", "console")
REMEDIATION_STEPS = ("plan", "restore_point", "execute", "verify", "restore")
EXCEPTION_SCOPES = ("finding", "resource", "tag", "account", "rule")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...] | list[str], name: str) -> CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


def _tenant_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"{table}_tenant_fk")


def _json(default: str) -> dict[str, Any]:
    return {"sa_type": JSONB, "sa_column_kwargs": {"server_default": text(f"'{default}'::jsonb")}}


TIMESTAMP = DateTime(timezone=True)


class Tenant(SQLModel, table=True):
    """A customer organisation; everything else belongs to exactly one tenant."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("id <> ''", name="tenants_id_not_empty"),)

    id: str = Field(primary_key=True)
    name: str
    timezone: str = Field(default="UTC")
    dry_run: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # Blast-radius cap: at most this many remediations per cloud account per rolling 24 hours.
    max_actions_per_account_per_day: int = Field(
        default=20, sa_column_kwargs={"server_default": text("20")}
    )
    # Per-rule parameter overrides: {"rule_id": {"param": value}}.
    rule_params: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    # The approval policy (fintropy.policy): {} means the default policy.
    approval_policy: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class CloudAccountRecord(SQLModel, table=True):
    """A cloud account the tenant lets Fintropy read (``fintropy.domain.CloudAccount``)."""

    __tablename__ = "cloud_accounts"
    __table_args__ = (_tenant_fk("cloud_accounts"),)

    tenant_id: str = Field(primary_key=True)
    provider: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    name: str = ""
    role_arn: str | None = None
    regions: list[str] = Field(default_factory=list, **_json("[]"))
    environment: str = "nonprod"


class Person(SQLModel, table=True):
    """A human in one tenant, known by one or more chat identities."""

    __tablename__ = "people"
    __table_args__ = (_tenant_fk("people"),)

    tenant_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    display_name: str
    email: str | None = None
    # On-call approvers are who an undecided approval escalates to.
    on_call: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class ChatIdentity(SQLModel, table=True):
    """A chat user (Slack user id in a team, Entra object id in a Teams tenant) -> a person."""

    __tablename__ = "chat_identities"
    __table_args__ = (
        _tenant_fk("chat_identities"),
        ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["people.tenant_id", "people.id"],
            name="chat_identities_person_fk",
        ),
        _in("platform", IDENTITY_PLATFORMS, "chat_identities_platform_check"),
    )

    tenant_id: str = Field(primary_key=True)
    platform: str = Field(primary_key=True)
    workspace_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    person_id: str


class RoleAssignment(SQLModel, table=True):
    """A role a person holds in a tenant; the highest one counts."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        _tenant_fk("role_assignments"),
        ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["people.tenant_id", "people.id"],
            name="role_assignments_person_fk",
        ),
        _in("role", [r.value for r in Role], "role_assignments_role_check"),
    )

    tenant_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)


class ChatBinding(SQLModel, table=True):
    """A chat workspace (``channel_id`` None) or one channel of it, bound to a tenant.

    A workspace or channel can be bound to one tenant only (a unique index spans tenants).
    Requests from anything unbound are refused before any work happens.
    """

    __tablename__ = "chat_bindings"
    __table_args__ = (
        _tenant_fk("chat_bindings"),
        _in("platform", BINDING_PLATFORMS, "chat_bindings_platform_check"),
        Index(
            "chat_bindings_target_key",
            "platform",
            "workspace_id",
            text("coalesce(channel_id, '')"),
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    tenant_id: str
    platform: str
    workspace_id: str
    channel_id: str | None = None
    is_default_channel: bool = Field(
        default=False, sa_column_kwargs={"server_default": text("false")}
    )


class Scan(SQLModel, table=True):
    """One scan of a tenant's estate; ``errors`` lists what could not be read, and why."""

    __tablename__ = "scans"
    __table_args__ = (_tenant_fk("scans"),)

    tenant_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    finished_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    status: str = "running"  # running | succeeded | partial | failed
    requested_by: str = "system"
    resource_count: int = 0
    finding_count: int = 0
    # [{account_id, region, service, code, message}]
    errors: list[dict[str, Any]] = Field(default_factory=list, **_json("[]"))


class ScanTarget(SQLModel, table=True):
    """One account and region a scan collected, even when it held no resources.

    It defines the scan's scope: only findings inside a target read without errors can be
    resolved by that scan, so an unreadable region never looks like a clean one.
    """

    __tablename__ = "scan_targets"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "scan_id"], ["scans.tenant_id", "scans.id"], name="scan_targets_scan_fk"
        ),
    )

    tenant_id: str = Field(primary_key=True)
    scan_id: str = Field(primary_key=True)
    provider: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    region: str = Field(primary_key=True)
    resource_count: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, **_json("[]"))
    collected_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class ResourceSeen(SQLModel, table=True):
    """A resource as one scan saw it; activities pass the scan id instead of the inventory."""

    __tablename__ = "resources_seen"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "scan_id"], ["scans.tenant_id", "scans.id"], name="resources_seen_scan_fk"
        ),
    )

    tenant_id: str = Field(primary_key=True)
    scan_id: str = Field(primary_key=True)
    provider: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    region: str = Field(primary_key=True)
    resource_type: str = Field(primary_key=True)
    resource_id: str = Field(primary_key=True)
    name: str = ""
    tags: dict[str, str] = Field(default_factory=dict, **_json("{}"))
    attrs: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    metrics: dict[str, float] = Field(default_factory=dict, **_json("{}"))


class FindingRecord(SQLModel, table=True):
    """A finding with its lifecycle; the id is ``fintropy.domain.finding_id`` (stable)."""

    __tablename__ = "findings"
    __table_args__ = (
        _tenant_fk("findings"),
        _in("status", [s.value for s in FindingStatus], "findings_status_check"),
        Index("findings_tenant_status_idx", "tenant_id", "status"),
    )

    tenant_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    rule_id: str
    rule_version: str
    title: str
    severity: str
    provider: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    resource_name: str = ""
    explanation: str
    evidence: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    savings_usd_month: Decimal = Field(default=Decimal("0"), sa_type=Numeric(14, 2))
    savings_formula: str = ""
    price_basis: str = "list"
    action: str | None = None
    reversibility: str | None = None
    risk: str | None = None
    data_used: list[str] = Field(default_factory=list, **_json("[]"))
    status: str = FindingStatus.OPEN.value
    first_seen_at: datetime = Field(sa_type=TIMESTAMP)
    last_seen_at: datetime = Field(sa_type=TIMESTAMP)
    last_scan_id: str
    workflow_id: str | None = None
    # [{channel_kind, channel_id, message_id}]
    card_refs: list[dict[str, str]] = Field(default_factory=list, **_json("[]"))
    # [{person_id, display_name, decision, at, ...}], as the finding workflow records them
    decided_by: list[dict[str, Any]] = Field(default_factory=list, **_json("[]"))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class RemediationRun(SQLModel, table=True):
    """One attempt to carry out a finding's action (or to plan it, when ``dry_run``)."""

    __tablename__ = "remediation_runs"
    __table_args__ = (
        _tenant_fk("remediation_runs"),
        ForeignKeyConstraint(
            ["tenant_id", "finding_id"],
            ["findings.tenant_id", "findings.id"],
            name="remediation_runs_finding_fk",
        ),
    )

    tenant_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    finding_id: str
    workflow_id: str
    action: str
    dry_run: bool = False
    status: str = "running"  # running | succeeded | partial | failed | planned | restored
    started_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    finished_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    requested_by: str = "system"
    approved_by: list[str] = Field(default_factory=list, **_json("[]"))


class RemediationOutcome(SQLModel, table=True):
    """What one step of a run did to one resource; a retried step overwrites its row."""

    __tablename__ = "remediation_outcomes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["remediation_runs.tenant_id", "remediation_runs.id"],
            name="remediation_outcomes_run_fk",
        ),
        _in("step", REMEDIATION_STEPS, "remediation_outcomes_step_check"),
    )

    tenant_id: str = Field(primary_key=True)
    run_id: str = Field(primary_key=True)
    step: str = Field(primary_key=True)
    provider: str = Field(primary_key=True)
    account_id: str = Field(primary_key=True)
    region: str = Field(primary_key=True)
    resource_type: str = Field(primary_key=True)
    resource_id: str = Field(primary_key=True)
    action: str
    status: str  # an OutcomeStatus value
    detail: str = ""
    restore_point: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class AuditEvent(SQLModel, table=True):
    """One entry of a tenant's append-only, hash-chained audit ledger (see ``fintropy.audit``)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        _tenant_fk("audit_events"),
        UniqueConstraint("id", name="audit_events_id_key"),
        Index("audit_events_subject_idx", "tenant_id", "subject"),
    )

    tenant_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    id: str
    at: datetime = Field(sa_type=TIMESTAMP)
    actor: str
    actor_chat: str | None = None
    action: str
    subject: str
    rule_id: str | None = None
    rule_version: str | None = None
    workflow_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str
    hash: str


class ExceptionRecord(SQLModel, table=True):
    """A snooze: findings in ``scope`` are not raised until ``expires_at``. Schema only so far."""

    __tablename__ = "exceptions"
    __table_args__ = (
        _tenant_fk("exceptions"),
        _in("scope", EXCEPTION_SCOPES, "exceptions_scope_check"),
    )

    tenant_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    scope: str
    scope_value: str
    owner: str
    reason: str
    expires_at: datetime = Field(sa_type=TIMESTAMP)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


# Tables scoped by Row-Level Security on tenant_id, in creation order.
TENANT_TABLES: tuple[str, ...] = (
    "cloud_accounts",
    "people",
    "chat_identities",
    "role_assignments",
    "chat_bindings",
    "scans",
    "scan_targets",
    "resources_seen",
    "findings",
    "remediation_runs",
    "remediation_outcomes",
    "audit_events",
    "exceptions",
    "teams_conversations",
)

# Tables defined in their own modules, imported here so the metadata is complete.
import fintropy.persistence.teams  # noqa: E402,F401
