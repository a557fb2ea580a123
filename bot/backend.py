"""What the chat front ends need from the rest of Fintropy, as one small async interface.

Slack and Teams handlers (and the console) call only this ``Backend``; the service wires in an
implementation over the database and Temporal (``bot.backend_impl``). Handlers therefore never
touch a session, a workflow handle or a cloud SDK, and tests can drive them with an in-memory
backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fintropy.domain import FindingCard, Role


@dataclass(frozen=True)
class Actor:
    """The person behind a chat interaction, resolved from a verified platform identity."""

    tenant_id: str
    person_id: str
    display_name: str
    role: Role
    platform: str  # "slack", "teams", "cli"
    workspace_id: str  # Slack team id, Teams tenant id
    user_id: str  # the platform's user id


@dataclass(frozen=True)
class FindingSummary:
    """One line of a findings listing."""

    finding_id: str
    title: str
    severity: str
    status: str
    resource_label: str
    savings_usd_month: float
    account_id: str
    provider: str


@dataclass(frozen=True)
class DecisionResult:
    """Whether an approval or rejection was accepted, and a sentence telling the person why."""

    accepted: bool
    message: str


@dataclass(frozen=True)
class AuditLine:
    """One audit event, ready to show."""

    seq: int
    at: str  # ISO 8601 timestamp
    actor: str
    action: str
    subject: str
    detail: str


class Backend(Protocol):
    """The operations chat handlers may perform. Every one is tenant-scoped."""

    async def resolve_tenant(
        self, platform: str, workspace_id: str, channel_id: str | None
    ) -> str | None:
        """The tenant bound to this workspace (and channel), or None: refuse the request."""
        ...

    async def resolve_actor(
        self, tenant_id: str, platform: str, workspace_id: str, user_id: str
    ) -> Actor | None:
        """The tenant's person behind this chat identity, or None when it is not linked."""
        ...

    async def list_findings(
        self,
        tenant_id: str,
        *,
        provider: str | None = None,
        severity: str | None = None,
        account: str | None = None,
        limit: int = 20,
    ) -> list[FindingSummary]:
        """Open findings matching the filters, largest savings first."""
        ...

    async def get_card(self, tenant_id: str, finding_id: str) -> FindingCard | None:
        """The finding's card as it stands now, or None when the tenant has no such finding."""
        ...

    async def decide(
        self,
        actor: Actor,
        finding_id: str,
        decision: str,
        reason: str = "",
        source: dict | None = None,
    ) -> DecisionResult:
        """Approve or reject (``decision`` in {"approve", "reject"}); refusals are audited."""
        ...

    async def restore(self, actor: Actor, run_id: str) -> DecisionResult:
        """Undo a remediation run from its restore point; refusals are audited."""
        ...

    async def snooze(
        self,
        actor: Actor,
        finding_id: str,
        duration: str,
        reason: str,
        *,
        scope: str = "finding",
        scope_value: str | None = None,
    ) -> DecisionResult:
        """Snooze a finding (or a resource, tag, account or rule) until the duration ends."""
        ...

    async def list_exceptions(self, tenant_id: str) -> list[dict]:
        """Active exceptions: id, scope, scope_value, owner, reason, expires_at."""
        ...

    async def start_scan(self, actor: Actor) -> str:
        """Start a scan of the actor's tenant; return the scan id."""
        ...

    async def audit_trail(self, tenant_id: str, finding_id: str) -> list[AuditLine]:
        """The finding's audit events, oldest first."""
        ...

    async def record_refusal(
        self,
        tenant_id: str | None,
        platform: str,
        workspace_id: str,
        user_id: str,
        what: str,
        why: str,
    ) -> None:
        """Audit an attempt that was refused before reaching a workflow."""
        ...
