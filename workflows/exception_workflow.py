"""The exception workflow: snooze what an exception covers, and re-open it when it expires.

One workflow per exception, id ``exception-<tenant>-<exception>``. The expiry is a durable
Temporal timer, so a restart of every worker does not lose it. On expiry the findings are
re-opened, the owner is told under their cards, and each actionable one gets a new finding
workflow (a new card).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.exceptions import (
        ExceptionActivities,
        ExceptionInput,
        ExpiryResult,
        SnoozeResult,
    )
    from workflows.finding_workflow import (
        FindingInput,
        FindingWorkflow,
        SnoozeNotice,
        finding_workflow_id,
    )


def exception_workflow_id(tenant_id: str, exception_id: str) -> str:
    """The one workflow id an exception can have."""
    return f"exception-{tenant_id}-{exception_id}"


@dataclass
class ExceptionRequest:
    tenant_id: str
    exception_id: str
    scope: str  # finding | resource | tag | account | rule
    scope_value: str
    owner: str  # person id
    owner_name: str
    reason: str
    expires_at: str  # ISO 8601, UTC
    actor_chat: str = ""
    approval_timeout_seconds: int = 72 * 3600


@dataclass
class ExceptionResult:
    exception_id: str
    snoozed: list[str]
    reopened: list[str]


QUICK = timedelta(seconds=60)


@workflow.defn
class ExceptionWorkflow:
    """Lifecycle of one exception."""

    def __init__(self) -> None:
        self._snoozed: list[str] = []

    async def _reopen_card(self, req: ExceptionRequest, fid: str) -> None:
        """Start a new finding workflow (a new card) for a re-opened finding.

        The snoozed finding's earlier workflow may still be closing (updating its cards); its
        id is the finding's, so wait for it to finish rather than skip the new card.
        """
        for _attempt in range(24):
            try:
                await workflow.start_child_workflow(
                    FindingWorkflow.run,
                    FindingInput(req.tenant_id, fid, req.approval_timeout_seconds),
                    id=finding_workflow_id(req.tenant_id, fid),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
                return
            except WorkflowAlreadyStartedError:
                await workflow.sleep(timedelta(seconds=5))
        workflow.logger.warning(
            "re-opened finding kept its old workflow", extra={"finding_id": fid}
        )

    @workflow.query
    def snoozed(self) -> list[str]:
        """The findings this exception snoozed."""
        return self._snoozed

    @workflow.run
    async def run(self, req: ExceptionRequest) -> ExceptionResult:
        """Apply, notify the waiting finding workflows, sleep until expiry, re-open."""
        expires_at = datetime.fromisoformat(req.expires_at)
        inp = ExceptionInput(
            req.tenant_id,
            req.exception_id,
            req.scope,
            req.scope_value,
            req.owner,
            req.reason,
            req.expires_at,
            workflow.now().isoformat(),
            req.actor_chat,
        )
        applied: SnoozeResult = await workflow.execute_activity_method(
            ExceptionActivities.apply_exception, inp, start_to_close_timeout=QUICK
        )
        self._snoozed = applied.snoozed
        notice = SnoozeNotice(
            req.exception_id, req.owner_name, expires_at.date().isoformat(), req.reason
        )
        for wf_id in applied.workflows:
            await workflow.get_external_workflow_handle_for(FindingWorkflow.run, wf_id).signal(
                FindingWorkflow.snooze, notice
            )

        # Sleep until the exception expires (a durable timer), then re-open what it covered.
        remaining = expires_at - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining)
        expired: ExpiryResult = await workflow.execute_activity_method(
            ExceptionActivities.expire_exception, inp, start_to_close_timeout=QUICK
        )
        for fid in expired.actionable:
            await self._reopen_card(req, fid)
        return ExceptionResult(req.exception_id, applied.snoozed, expired.reopened)
