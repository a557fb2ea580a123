"""The chat front ends' backend over PostgreSQL and Temporal.

Slack, Teams, the CLI and the demo all decide through ``TemporalBackend.decide``: it maps the
clicker to a person (done by the caller through ``resolve_actor``), sends the ``decide`` update
to the finding's workflow, turns a refusal into a clear sentence, and audits refused attempts.
No cloud SDK is called here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from bot.backend import Actor, AuditLine, DecisionResult, FindingSummary
from fintropy import audit
from fintropy.domain import FindingCard, Role
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session

logger = logging.getLogger(__name__)


class TemporalBackend:
    """Implements ``bot.backend.Backend`` with the database and a Temporal client."""

    def __init__(
        self,
        engine: Any,
        client: Any,
        task_queue: str,
        *,
        approval_timeout_seconds: int = 72 * 3600,
    ):
        self._engine = engine
        self._client = client
        self._task_queue = task_queue
        self._approval_timeout = approval_timeout_seconds

    @property
    def engine(self) -> Any:
        """The database engine (the Teams conversation store shares it)."""
        return self._engine

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # Database work is synchronous (psycopg); keep it off the event loop.
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def resolve_tenant(
        self, platform: str, workspace_id: str, channel_id: str | None
    ) -> str | None:
        """The tenant bound to this workspace and channel, or None (refuse the request)."""

        def lookup() -> str | None:
            return repo.resolve_tenant_for_chat(self._engine, platform, workspace_id, channel_id)

        return await self._db(lookup)

    async def resolve_actor(
        self, tenant_id: str, platform: str, workspace_id: str, user_id: str
    ) -> Actor | None:
        """Map a chat identity to a person of the tenant, or None when unmapped."""

        def lookup() -> Actor | None:
            with tenant_session(self._engine, tenant_id) as session:
                found = repo.resolve_person(session, tenant_id, platform, workspace_id, user_id)
            if found is None:
                return None
            person_id, display_name, role = found
            return Actor(
                tenant_id, person_id, display_name, Role(role), platform, workspace_id, user_id
            )

        return await self._db(lookup)

    async def list_findings(
        self,
        tenant_id: str,
        *,
        provider: str | None = None,
        severity: str | None = None,
        account: str | None = None,
        limit: int = 20,
    ) -> list[FindingSummary]:
        """Open findings, largest savings first."""

        def query() -> list[FindingSummary]:
            with tenant_session(self._engine, tenant_id) as session:
                rows = repo.list_findings(
                    session,
                    tenant_id,
                    provider=provider,
                    severity=severity,
                    account=account,
                    open_only=True,
                )
                rows = sorted(rows, key=lambda f: (-float(f.savings_usd_month), f.id))[:limit]
                return [
                    FindingSummary(
                        f.id,
                        f.title,
                        f.severity,
                        f.status,
                        repo.resource_label(f),
                        float(f.savings_usd_month),
                        f.account_id,
                        f.provider,
                    )
                    for f in rows
                ]

        return await self._db(query)

    async def get_card(self, tenant_id: str, finding_id: str) -> FindingCard | None:
        """The finding's card as it stands now (buttons only while awaiting a decision)."""

        def query() -> FindingCard | None:
            with tenant_session(self._engine, tenant_id) as session:
                f = repo.get_finding(session, tenant_id, finding_id)
                if f is None:
                    return None
                return repo.finding_card(
                    f, status=f.status, decided_by=tuple(f.decided_by or ()), buttons_enabled=False
                )

        return await self._db(query)

    async def decide(
        self,
        actor: Actor,
        finding_id: str,
        decision: str,
        reason: str = "",
        source: dict | None = None,
        dry_run: bool = False,
    ) -> DecisionResult:
        """Send the decision to the finding's workflow; a refusal is explained and audited."""
        from temporalio.client import WorkflowUpdateFailedError
        from temporalio.service import RPCError

        from workflows.finding_workflow import DecisionRequest, FindingWorkflow, finding_workflow_id

        what = f"{decision} {finding_id}"
        if not actor.role.at_least(Role.APPROVER):
            # The person's role now, not when the card was posted: a demoted approver is out.
            msg = "You do not have the approver role for this tenant, so you cannot decide on it."
            return await self._refuse(actor, what, msg)
        card = await self.get_card(actor.tenant_id, finding_id)
        if card is None:
            msg = f"There is no finding {finding_id} in this workspace's tenant."
            return await self._refuse(actor, what, msg)
        handle = self._client.get_workflow_handle(finding_workflow_id(actor.tenant_id, finding_id))
        request = DecisionRequest(
            person_id=actor.person_id,
            display_name=actor.display_name,
            decision=decision,
            reason=reason,
            actor_chat=_chat_handle(actor),
            dry_run=dry_run,
        )
        try:
            reply = await handle.execute_update(FindingWorkflow.decide, request)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            msg = getattr(cause, "message", None) or str(cause or err)
            return await self._refuse(actor, what, msg)
        except RPCError as err:
            # The workflow has finished (or never started): the finding is decided already.
            msg = f"Finding {finding_id} is no longer awaiting a decision (status: {card.status})."
            logger.info(
                "decision on closed workflow",
                extra={"finding_id": finding_id, "code": str(err.status)},
            )
            return await self._refuse(actor, what, msg)
        return DecisionResult(True, reply.message)

    async def restore(self, actor: Actor, run_id: str) -> DecisionResult:
        """Undo a remediation run from its restore point (approvers only; audited)."""
        from temporalio.common import WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from workflows.restore_workflow import (
            RestoreInput,
            RestoreResult,
            RestoreWorkflow,
            restore_workflow_id,
        )

        what = f"restore {run_id}"
        if not actor.role.at_least(Role.APPROVER):
            return await self._refuse(
                actor, what, "Restoring a run needs the approver role in this tenant."
            )

        def load() -> Any:
            with tenant_session(self._engine, actor.tenant_id) as session:
                detail = repo.get_run(session, actor.tenant_id, run_id)
                return detail.run if detail else None

        run = await self._db(load)
        if run is None:
            return await self._refuse(
                actor, what, f"There is no remediation run {run_id} in this tenant."
            )
        if run.dry_run:
            return await self._refuse(
                actor, what, f"Run {run_id} was a dry run: it changed nothing to restore."
            )
        wf_id = restore_workflow_id(actor.tenant_id, run_id)
        try:
            handle = await self._client.start_workflow(
                RestoreWorkflow.run,
                RestoreInput(
                    actor.tenant_id,
                    run.finding_id,
                    run_id,
                    actor.person_id,
                    _chat_handle(actor),
                ),
                id=wf_id,
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                result_type=RestoreResult,
            )
        except WorkflowAlreadyStartedError:
            return await self._refuse(
                actor, what, f"Run {run_id} has already been restored (or is being restored)."
            )
        result = await handle.result()
        if result.status == "succeeded":
            return DecisionResult(True, f"Restored run {run_id}: {result.detail}")
        return DecisionResult(False, f"Restore of run {run_id} failed: {result.detail}")

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
        """Create an exception (approvers only): snooze what it covers until it expires."""
        from datetime import UTC, datetime

        from bot.durations import parse_duration
        from fintropy.errors import ConfigError
        from workflows.exception_workflow import (
            ExceptionRequest,
            ExceptionWorkflow,
            exception_workflow_id,
        )

        what = f"snooze {finding_id}"
        if not actor.role.at_least(Role.APPROVER):
            return await self._refuse(
                actor, what, "Snoozing needs the approver role in this tenant."
            )
        if not reason.strip():
            return await self._refuse(
                actor, what, "A snooze needs a reason, e.g. `snooze ID 30d migration in Q3`."
            )
        try:
            length = parse_duration(duration)
        except ConfigError as err:
            return await self._refuse(actor, what, str(err))
        card = await self.get_card(actor.tenant_id, finding_id)
        if card is None:
            return await self._refuse(
                actor, what, f"There is no finding {finding_id} in this workspace's tenant."
            )
        if scope_value is None:
            scope_value = finding_id
        expires_at = datetime.now(UTC) + length
        exception_id = f"ex-{uuid.uuid4().hex[:10]}"
        await self._client.start_workflow(
            ExceptionWorkflow.run,
            ExceptionRequest(
                actor.tenant_id,
                exception_id,
                scope,
                scope_value,
                actor.person_id,
                actor.display_name,
                reason.strip(),
                expires_at,
                _chat_handle(actor),
                self._approval_timeout,
            ),
            id=exception_workflow_id(actor.tenant_id, exception_id),
            task_queue=self._task_queue,
        )
        return DecisionResult(
            True,
            f"Snoozed ({exception_id}, {scope} {scope_value}) until "
            f"{expires_at:%Y-%m-%d %H:%M} UTC: {reason.strip()}",
        )

    async def list_exceptions(self, tenant_id: str) -> list[dict]:
        """The tenant's active exceptions, soonest expiry first."""
        from datetime import UTC, datetime

        from fintropy.persistence import exceptions as store

        def query() -> list[dict]:
            with tenant_session(self._engine, tenant_id) as session:
                return [
                    {
                        "id": e.id,
                        "scope": e.scope,
                        "scope_value": e.scope_value,
                        "owner": e.owner,
                        "reason": e.reason,
                        "expires_at": e.expires_at.isoformat(timespec="minutes"),
                    }
                    for e in store.list_exceptions(session, tenant_id, active_at=datetime.now(UTC))
                ]

        return await self._db(query)

    async def start_scan(self, actor: Actor) -> str:
        """Start a scan workflow for the actor's tenant; returns the scan id."""
        from workflows.scan_workflow import ScanInput, ScanWorkflow

        scan_id = f"scan-{uuid.uuid4().hex[:12]}"
        await self._client.start_workflow(
            ScanWorkflow.run,
            ScanInput(
                actor.tenant_id,
                scan_id,
                requested_by=actor.person_id,
                approval_timeout_seconds=self._approval_timeout,
            ),
            id=f"{scan_id}",
            task_queue=self._task_queue,
        )
        return scan_id

    async def audit_trail(self, tenant_id: str, finding_id: str) -> list[AuditLine]:
        """The finding's audit events, oldest first."""

        def query() -> list[AuditLine]:
            with tenant_session(self._engine, tenant_id) as session:
                events = audit.trail(session, tenant_id, subject=finding_id)
                return [
                    AuditLine(
                        e.seq,
                        e.at.isoformat(timespec="seconds"),
                        e.actor,
                        e.action,
                        e.subject,
                        _detail(e.details),
                    )
                    for e in events
                ]

        return await self._db(query)

    async def _refuse(self, actor: Actor, what: str, msg: str) -> DecisionResult:
        """Audit a refused attempt and return the refusal to tell the person."""
        await self.record_refusal(
            actor.tenant_id, actor.platform, actor.workspace_id, actor.user_id, what, msg
        )
        return DecisionResult(False, msg)

    async def record_refusal(
        self,
        tenant_id: str | None,
        platform: str,
        workspace_id: str,
        user_id: str,
        what: str,
        why: str,
    ) -> None:
        """Audit a refused attempt: who tried what, and why it was refused."""
        if tenant_id is None:
            # No tenant means no ledger to write to: log ids only (never the payload).
            logger.warning(
                "refused request from unbound workspace",
                extra={"chat_team_id": workspace_id, "platform": platform},
            )
            return

        def write() -> None:
            with tenant_session(self._engine, tenant_id) as session:
                person = repo.resolve_person(session, tenant_id, platform, workspace_id, user_id)
                audit.append_event(
                    session,
                    tenant_id,
                    person[0] if person else f"unmapped:{user_id}",
                    "decision.refused",
                    # The finding the attempt was about when known; else the request itself.
                    next((w for w in what.split() if w.startswith("f-")), "chat-request"),
                    actor_chat=f"{platform}:{workspace_id}/{user_id}",
                    details={"attempt": what, "reason": why},
                )

        await self._db(write)


def _detail(details: dict | None) -> str:
    if not details:
        return ""
    keys = ("detail", "reason", "status", "resource", "channel_id", "scan_id")
    return "; ".join(f"{k}={details[k]}" for k in keys if details.get(k) not in (None, ""))


def _chat_handle(actor: Actor) -> str:
    """The actor's chat identity as the audit ledger records it ("slack:T123/U456")."""
    return f"{actor.platform}:{actor.workspace_id}/{actor.user_id}"
