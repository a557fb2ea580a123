"""Activities that read and write findings, post and update their cards, and audit each step.

They talk to PostgreSQL (through tenant-scoped sessions, so Row-Level Security applies) and to
a chat platform through ``fintropy.ports.ChatPort``. Each is idempotent: status changes are
compare-and-set, a card already posted is not posted twice, and an audit event carries the
workflow id so a retried activity is recognisable in the trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from fintropy import audit
from fintropy.domain import ACTIONS, FindingCard, FindingStatus, MessageRef, Role
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from fintropy.policy import Change, required_approvals
from fintropy.ports import ChatPort

logger = logging.getLogger(__name__)


# Inputs and results are dataclasses so fields can be added later without breaking
# workflows that are already running (their histories hold the old shape).
@dataclass
class ApprovalContextInput:
    tenant_id: str
    finding_id: str


@dataclass
class ApprovalContext:
    """What the finding workflow's update validator needs, loaded once at the start."""

    status: str
    action: str | None
    destructive: bool
    environment: str  # "prod" or "nonprod"
    approvers: list[str]  # person ids allowed to approve or reject
    required_approvals: int
    excluded_approvers: list[str]  # owners and requesters: they cannot approve their own change
    display_names: dict[str, str] = field(default_factory=dict)
    on_call: list[str] = field(default_factory=list)  # who an undecided approval escalates to
    dry_run: bool = False  # the tenant is in dry-run mode: approvals plan, nothing changes


@dataclass
class CardInput:
    tenant_id: str
    finding_id: str
    status: str
    decided_by: list[str] = field(default_factory=list)
    outcome: str = ""
    buttons_enabled: bool = True


@dataclass
class StatusInput:
    tenant_id: str
    finding_id: str
    new_status: str
    expected: list[str]
    workflow_id: str = ""


@dataclass
class NoticeInput:
    tenant_id: str
    finding_id: str
    kind: str  # reminder | escalation
    person_ids: list[str]
    text: str


@dataclass
class AuditInput:
    tenant_id: str
    actor: str
    action: str
    subject: str
    actor_chat: str | None = None
    workflow_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _is_production(account_env: str, tags: dict[str, str]) -> bool:
    """Production when the account is, or when the resource's tags say so.

    A tag can only raise the environment: `env=dev` on a resource in a production account
    does not lower the bar for changing it.
    """
    tagged = (tags.get("env") or tags.get("environment") or "").lower()
    return account_env == "prod" or tagged in {"prod", "production", "prd"}


class FindingActivities:
    """Finding, card and audit activities; dependencies come in through the constructor."""

    def __init__(self, engine: Any, chat: ChatPort, card_token_issuer: Any, channel_for: Any):
        self._engine = engine
        self._chat = chat
        # card_token_issuer(tenant_id, finding_id, card_id) -> opaque token for the buttons
        self._issue_token = card_token_issuer
        # channel_for(tenant_id) -> the channel id cards for this tenant go to
        self._channel_for = channel_for

    @activity.defn
    def load_approval_context(self, inp: ApprovalContextInput) -> ApprovalContext:
        """Load the approval policy inputs for one finding."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            if finding is None:
                raise ValueError(f"finding {inp.finding_id} does not exist")
            account = repo.get_account(session, inp.tenant_id, finding.provider, finding.account_id)
            resource = repo.get_resource_tags(
                session, inp.tenant_id, finding.last_scan_id, finding.resource_id
            )
            people = repo.people_with_role(session, inp.tenant_id, Role.APPROVER)
            on_call = repo.on_call_people(session, inp.tenant_id)
            tenant = repo.get_tenant(session, inp.tenant_id)
        spec = ACTIONS.get(finding.action or "")
        production = _is_production(account.environment if account else "", resource)
        destructive = bool(spec and spec.destructive)
        # The tenant's approval policy (reviewable configuration; see fintropy.policy) decides
        # how many distinct approvers the change needs.
        required = required_approvals(
            (tenant.approval_policy or None) if tenant else None,
            Change(
                environment="prod" if production else "nonprod",
                destructive=destructive,
                reversibility=str(spec.reversibility) if spec else "reversible",
                risk=str(spec.risk) if spec else "low",
                savings_usd_month=float(finding.savings_usd_month),
            ),
        )
        owner = (resource.get("owner") or "").strip().lower()
        owners = [p_id for p_id, _name, email in people if email and email.lower() == owner]
        return ApprovalContext(
            status=finding.status,
            action=finding.action,
            destructive=destructive,
            environment="prod" if production else "nonprod",
            approvers=sorted(p_id for p_id, _name, _email in people),
            required_approvals=required,
            excluded_approvers=sorted(owners),
            display_names={p_id: name for p_id, name, _email in people},
            on_call=sorted(p for p in on_call if p in {p_id for p_id, _n, _e in people}),
            dry_run=bool(tenant.dry_run) if tenant else False,
        )

    @activity.defn
    def set_status(self, inp: StatusInput) -> bool:
        """Compare-and-set a finding's status; False when it was not in an expected status."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            return repo.set_finding_status(
                session,
                inp.tenant_id,
                inp.finding_id,
                FindingStatus(inp.new_status),
                expected=[FindingStatus(s) for s in inp.expected],
                workflow_id=inp.workflow_id or None,
            )

    def _card(self, session: Any, inp: CardInput, card_id: str) -> FindingCard:
        finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
        if finding is None:
            raise ValueError(f"finding {inp.finding_id} does not exist")
        return repo.finding_card(
            finding,
            status=inp.status or finding.status,
            decided_by=tuple(inp.decided_by),
            outcome=inp.outcome,
            buttons_enabled=inp.buttons_enabled,
            action_token=self._issue_token(inp.tenant_id, inp.finding_id, card_id)
            if inp.buttons_enabled
            else "",
        )

    @activity.defn
    def post_card(self, inp: CardInput) -> MessageRef:
        """Post the finding's card once; a retry finds the card already posted and reuses it."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            if finding is not None and finding.card_refs:
                ref = finding.card_refs[0]
                return MessageRef(ref["channel_kind"], ref["channel_id"], ref["message_id"])
            card = self._card(session, inp, card_id=info.workflow_id)
            channel = self._channel_for(inp.tenant_id)
        ref = self._chat.post_finding_card(channel, card)
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.add_card_ref(session, inp.tenant_id, inp.finding_id, ref)
            audit.append_event(
                session,
                inp.tenant_id,
                "system",
                "card.posted",
                inp.finding_id,
                rule_id=card.rule_id,
                rule_version=card.rule_version,
                workflow_id=info.workflow_id,
                details={
                    "channel_kind": ref.channel_kind,
                    "channel_id": ref.channel_id,
                    "message_id": ref.message_id,
                },
            )
        logger.info("card posted", extra={"tenant_id": inp.tenant_id, "finding_id": inp.finding_id})
        return ref

    @activity.defn
    def update_cards(self, inp: CardInput) -> int:
        """Update every card that shows the finding; returns how many were updated."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            refs = list(finding.card_refs or []) if finding else []
            cards = [
                (
                    MessageRef(r["channel_kind"], r["channel_id"], r["message_id"]),
                    self._card(session, inp, card_id=info.workflow_id),
                )
                for r in refs
            ]
        for ref, card in cards:
            self._chat.update_finding_card(ref, card)
        with tenant_session(self._engine, inp.tenant_id) as session:
            audit.append_event(
                session,
                inp.tenant_id,
                "system",
                "card.updated",
                inp.finding_id,
                workflow_id=info.workflow_id,
                details={
                    "status": inp.status,
                    "cards": len(cards),
                    "buttons_enabled": inp.buttons_enabled,
                },
            )
        return len(cards)

    @activity.defn
    def record_audit(self, inp: AuditInput) -> int:
        """Append one audit event; returns its sequence number in the tenant's chain."""
        finding = None
        with tenant_session(self._engine, inp.tenant_id) as session:
            if inp.subject.startswith("f-"):
                finding = repo.get_finding(session, inp.tenant_id, inp.subject)
            event = audit.append_event(
                session,
                inp.tenant_id,
                inp.actor,
                inp.action,
                inp.subject,
                actor_chat=inp.actor_chat,
                rule_id=finding.rule_id if finding else None,
                rule_version=finding.rule_version if finding else None,
                workflow_id=inp.workflow_id,
                details=inp.details,
            )
            return event.seq

    @activity.defn
    def post_notice(self, inp: NoticeInput) -> int:
        """Post a reminder or escalation under every card of the finding; audit it."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            refs = list(finding.card_refs or []) if finding else []
            handles = repo.chat_user_ids(session, inp.tenant_id, inp.person_ids)
        for r in refs:
            ref = MessageRef(r["channel_kind"], r["channel_id"], r["message_id"])
            mentions = [uid for platform, uid in handles if platform == ref.channel_kind]
            self._chat.post_notice(ref, inp.text, mentions)
        with tenant_session(self._engine, inp.tenant_id) as session:
            audit.append_event(
                session,
                inp.tenant_id,
                "system",
                f"approval.{inp.kind}",
                inp.finding_id,
                workflow_id=info.workflow_id,
                details={"notified": sorted(inp.person_ids), "cards": len(refs)},
            )
        return len(refs)
