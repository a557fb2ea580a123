"""Domain types shared by every layer.

Everything here is plain data: frozen dataclasses and string enums that Temporal's default
data converter serialises as JSON, that rules read without I/O, and that adapters produce from
SDK responses. Nothing in this module imports an SDK or touches the network.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgently a finding deserves attention (money and confidence together)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Reversibility(StrEnum):
    """Whether an action can be undone, and how."""

    REVERSIBLE = "reversible"  # undo is a plain API call (start a stopped instance)
    RESTORABLE = "restorable"  # undo needs the restore point taken before acting (a snapshot)
    IRREVERSIBLE = "irreversible"  # nothing brings it back (a released public IP)


class Risk(StrEnum):
    """Operational risk of carrying out an action on a live estate."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FindingStatus(StrEnum):
    """Lifecycle of a finding.

    open -> awaiting_approval -> approved -> remediating -> remediated -> verified,
    or rejected / expired / failed, or resolved when a later scan no longer detects it, or
    snoozed while an exception covers it (expiry re-opens it).
    """

    OPEN = "open"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REMEDIATING = "remediating"
    REMEDIATED = "remediated"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"  # an exception (snooze) covers it until it expires


# Statuses in which a finding still waits for a human decision or for work.
OPEN_STATUSES = frozenset(
    {FindingStatus.OPEN, FindingStatus.AWAITING_APPROVAL, FindingStatus.APPROVED}
)


class Role(StrEnum):
    """A person's role in one tenant. Each role includes the ones before it."""

    VIEWER = "viewer"
    REQUESTER = "requester"
    APPROVER = "approver"
    ADMIN = "admin"

    def at_least(self, other: Role) -> bool:
        """True when this role includes ``other``."""
        order = list(Role)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class ActionSpec:
    """A remediation action every adapter that supports it must implement identically."""

    name: str
    verb: str  # imperative phrase shown on cards ("Snapshot, then delete the volume")
    resource_type: str
    destructive: bool
    reversibility: Reversibility
    risk: Risk
    restore: str  # how to undo it, in one sentence a person can follow


# The action catalogue. Rules name an action from here (or none, for advice only); adapters
# implement each name; the approval policy reads `destructive` and `reversibility`.
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "stop_instance",
            "Stop the instance",
            "aws.ec2.instance",
            destructive=False,
            reversibility=Reversibility.REVERSIBLE,
            risk=Risk.MEDIUM,
            restore="Start the instance again; its volumes and addresses are kept.",
        ),
        ActionSpec(
            "snapshot_and_delete_volume",
            "Snapshot, then delete the volume",
            "aws.ebs.volume",
            destructive=True,
            reversibility=Reversibility.RESTORABLE,
            risk=Risk.MEDIUM,
            restore="Create a new volume from the snapshot taken before deletion.",
        ),
        ActionSpec(
            "release_address",
            "Release the Elastic IP",
            "aws.ec2.address",
            destructive=True,
            reversibility=Reversibility.IRREVERSIBLE,
            risk=Risk.LOW,
            restore="Allocate a new address; the released IP itself cannot be recovered.",
        ),
        ActionSpec(
            "delete_snapshot",
            "Delete the snapshot",
            "aws.ebs.snapshot",
            destructive=True,
            reversibility=Reversibility.IRREVERSIBLE,
            risk=Risk.MEDIUM,
            restore="None: a deleted snapshot cannot be recovered.",
        ),
        ActionSpec(
            "modify_volume_to_gp3",
            "Change the volume type from gp2 to gp3",
            "aws.ebs.volume",
            destructive=False,
            reversibility=Reversibility.REVERSIBLE,
            risk=Risk.LOW,
            restore="Modify the volume back to gp2 (after AWS's 6-hour modification cooldown).",
        ),
        ActionSpec(
            "delete_load_balancer",
            "Delete the idle load balancer",
            "aws.elbv2.load_balancer",
            destructive=True,
            reversibility=Reversibility.RESTORABLE,
            risk=Risk.MEDIUM,
            restore="Recreate it from the saved configuration (scheme, subnets, listeners).",
        ),
    )
}


@dataclass(frozen=True)
class CloudAccount:
    """A cloud account Fintropy may read, and how to reach it."""

    provider: str  # "aws"
    account_id: str
    name: str = ""
    role_arn: str | None = None  # assumed for reads (and for approved actions) when set
    regions: tuple[str, ...] = ()
    environment: str = "nonprod"  # "prod" or "nonprod"; tags on resources can override


@dataclass(frozen=True)
class ResourceRef:
    """Enough to find one resource again."""

    provider: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str

    @property
    def key(self) -> str:
        """A stable text key, used in finding ids and logs."""
        return "/".join(
            (self.provider, self.account_id, self.region, self.resource_type, self.resource_id)
        )


@dataclass(frozen=True)
class Resource:
    """One inventoried cloud resource, as rules see it.

    ``attrs`` holds the type-specific attributes listed in ``fintropy.inventory_schema``;
    ``metrics`` holds utilisation summaries (``cpu_avg_14d`` ...) computed by the adapter.
    A metric that could not be read is absent, never zero.
    """

    provider: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ref(self) -> ResourceRef:
        """This resource's reference."""
        return ResourceRef(
            self.provider, self.account_id, self.region, self.resource_type, self.resource_id
        )


@dataclass(frozen=True)
class ReadError:
    """An account, region or service that could not be read, and why. Never dropped."""

    account_id: str
    region: str
    service: str
    code: str  # "AccessDenied", "Throttling", "OptInRequired", ...
    message: str


@dataclass(frozen=True)
class Inventory:
    """What one adapter call collected for one account and region."""

    account_id: str
    region: str
    resources: tuple[Resource, ...] = ()
    errors: tuple[ReadError, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one resource, with everything needed to explain it.

    Produced by the rule engine; byte-identical for the same inventory, params and ``now``.
    """

    rule_id: str
    rule_version: str
    title: str
    severity: Severity
    resource: ResourceRef
    resource_name: str
    explanation: str  # one or two sentences a CFO reads and an engineer verifies
    evidence: dict[str, Any]  # the observed values the rule used, under their attribute names
    savings_usd_month: float  # rounded to cents
    savings_formula: str  # the formula with the numbers filled in
    price_basis: str  # "list" (price table) or "effective" (billing data)
    action: str | None  # a key of ACTIONS, or None for advice only
    reversibility: Reversibility | None
    risk: Risk | None
    data_used: tuple[str, ...]  # attribute and metric names read, for provenance


def finding_id(tenant_id: str, rule_id: str, ref: ResourceRef) -> str:
    """The stable id of a finding: the same tenant, rule and resource give the same id."""
    digest = hashlib.sha256(f"{tenant_id}|{rule_id}|{ref.key}".encode()).hexdigest()
    return f"f-{digest[:12]}"


@dataclass(frozen=True)
class MessageRef:
    """Where a card was posted, so any later actor can update it in place."""

    channel_kind: str  # "slack", "teams" or "console"
    channel_id: str
    message_id: str  # Slack ts, Teams activity id, console sequence number


@dataclass(frozen=True)
class FindingCard:
    """The presentation model of a finding card; chat front ends render it."""

    tenant_id: str
    finding_id: str
    title: str
    severity: str
    status: str
    resource_label: str  # "vol-0abc (data-archive), 123456789012 / eu-west-1"
    explanation: str
    savings_usd_month: float
    savings_formula: str
    price_basis: str
    action_verb: str | None  # None: advice only
    reversibility: str | None
    risk: str | None
    rule_id: str
    rule_version: str
    decided_by: tuple[str, ...] = ()  # display names of the people who decided
    outcome: str = ""  # one line: what happened after the decision
    buttons_enabled: bool = True
    action_token: str = ""  # opaque token carried by the card's buttons


class OutcomeStatus(StrEnum):
    """What happened to one resource in one remediation step."""

    PLANNED = "planned"  # dry run: this is what would be done
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to do (already in the target state, or no longer eligible)


@dataclass(frozen=True)
class ActionOutcome:
    """The result of planning, executing, verifying or restoring one action on one resource.

    ``restore_point`` holds what undoing needs (``{"snapshot_id": ...}`` or the previous
    configuration); it is recorded before the action runs.
    """

    action: str
    ref: ResourceRef
    status: OutcomeStatus
    detail: str  # one sentence for the card and the audit trail
    restore_point: dict[str, Any] = field(default_factory=dict)
