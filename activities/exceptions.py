"""Activities for exceptions (snoozes): record one, snooze what it covers, re-open on expiry.

Idempotent: the exception id is chosen by the workflow, status changes are compare-and-set, and
re-opening only touches findings that are still snoozed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio import activity

from fintropy import audit
from fintropy.domain import FindingStatus, MessageRef
from fintropy.persistence import exceptions as store
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from fintropy.ports import ChatPort

logger = logging.getLogger(__name__)


@dataclass
class ExceptionInput:
    tenant_id: str
    exception_id: str
    scope: str
    scope_value: str
    owner: str  # person id
    reason: str
    expires_at: str  # ISO 8601, UTC
    now: str  # ISO 8601, UTC
    actor_chat: str = ""


@dataclass
class SnoozeResult:
    snoozed: list[str]  # finding ids now snoozed
    workflows: list[str]  # their finding workflows still waiting for a decision


@dataclass
class ExpiryResult:
    reopened: list[str]
    actionable: list[str]  # re-opened findings that name an action (they get a new card)


class ExceptionActivities:
    """Exception bookkeeping over the database and the chat port."""

    def __init__(self, engine: Any, chat: ChatPort):
        self._engine = engine
        self._chat = chat

    @activity.defn
    def apply_exception(self, inp: ExceptionInput) -> SnoozeResult:
        """Record the exception and snooze the open findings it covers."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            store.create_exception(
                session,
                inp.tenant_id,
                exception_id=inp.exception_id,
                scope=inp.scope,
                scope_value=inp.scope_value,
                owner=inp.owner,
                reason=inp.reason,
                expires_at=datetime.fromisoformat(inp.expires_at),
                now=datetime.fromisoformat(inp.now),
            )
            covered = store.findings_in_scope(
                session, inp.tenant_id, inp.scope, inp.scope_value, store.SNOOZABLE
            )
            snoozed, workflows = [], []
            for fid in covered:
                finding = repo.get_finding(session, inp.tenant_id, fid)
                was_waiting = finding is not None and finding.status == "awaiting_approval"
                if repo.set_finding_status(
                    session,
                    inp.tenant_id,
                    fid,
                    FindingStatus.SNOOZED,
                    expected=[FindingStatus.OPEN, FindingStatus.AWAITING_APPROVAL],
                ):
                    snoozed.append(fid)
                    if was_waiting and finding.workflow_id:
                        workflows.append(finding.workflow_id)
            audit.append_event(
                session,
                inp.tenant_id,
                inp.owner,
                "exception.created",
                inp.exception_id,
                actor_chat=inp.actor_chat or None,
                workflow_id=info.workflow_id,
                details={
                    "scope": inp.scope,
                    "scope_value": inp.scope_value,
                    "reason": inp.reason,
                    "expires_at": inp.expires_at,
                    "snoozed": snoozed,
                },
            )
            for fid in snoozed:
                audit.append_event(
                    session,
                    inp.tenant_id,
                    inp.owner,
                    "finding.snoozed",
                    fid,
                    actor_chat=inp.actor_chat or None,
                    workflow_id=info.workflow_id,
                    details={
                        "exception_id": inp.exception_id,
                        "reason": inp.reason,
                        "expires_at": inp.expires_at,
                    },
                )
        return SnoozeResult(snoozed, sorted(workflows))

    @activity.defn
    def expire_exception(self, inp: ExceptionInput) -> ExpiryResult:
        """Re-open the findings the exception snoozed, and tell its owner under their cards."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            covered = store.findings_in_scope(
                session, inp.tenant_id, inp.scope, inp.scope_value, (FindingStatus.SNOOZED.value,)
            )
            reopened, actionable, refs = [], [], []
            for fid in covered:
                finding = repo.get_finding(session, inp.tenant_id, fid)
                old_refs = list(finding.card_refs or []) if finding else []
                action = finding.action if finding else None
                if repo.reopen_finding(session, inp.tenant_id, fid, expected=FindingStatus.SNOOZED):
                    reopened.append(fid)
                    refs += old_refs
                    if action:
                        actionable.append(fid)
            owner_handles = repo.chat_user_ids(session, inp.tenant_id, [inp.owner])
            audit.append_event(
                session,
                inp.tenant_id,
                "system",
                "exception.expired",
                inp.exception_id,
                workflow_id=info.workflow_id,
                details={"reopened": reopened, "owner": inp.owner},
            )
        text = (
            f"Exception {inp.exception_id} ({inp.reason}) has expired; "
            f"{len(reopened)} finding(s) are open again."
        )
        for r in refs:
            ref = MessageRef(r["channel_kind"], r["channel_id"], r["message_id"])
            self._chat.post_notice(
                ref, text, [u for p, u in owner_handles if p == ref.channel_kind]
            )
        return ExpiryResult(reopened, actionable)
