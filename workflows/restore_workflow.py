"""The restore workflow: undo one remediation run from the restore point it recorded.

Every destructive action records a restore point before it acts (a snapshot, the previous
configuration). Restoring is itself audited and idempotent: the workflow id is derived from
the run id, so asking twice restores once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.findings import AuditInput, CardInput, FindingActivities
    from activities.remediation import RemediationActivities, StepInput, StepResult


def restore_workflow_id(tenant_id: str, run_id: str) -> str:
    """The one workflow id a run's restore can have."""
    return f"restore-{tenant_id}-{run_id}"


@dataclass
class RestoreInput:
    tenant_id: str
    finding_id: str
    run_id: str
    person_id: str
    actor_chat: str = ""


@dataclass
class RestoreResult:
    run_id: str
    status: str  # an OutcomeStatus value
    detail: str


QUICK = timedelta(seconds=60)
CLOUD_STEP = timedelta(minutes=15)
CLOUD_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=2))


@workflow.defn
class RestoreWorkflow:
    """Undo one remediation run."""

    @workflow.run
    async def run(self, inp: RestoreInput) -> RestoreResult:
        """Audit the request, run the adapter's restore, update the finding's cards."""
        wf_id = workflow.info().workflow_id
        await workflow.execute_activity_method(
            FindingActivities.record_audit,
            AuditInput(
                inp.tenant_id,
                inp.person_id,
                "restore.requested",
                inp.finding_id,
                actor_chat=inp.actor_chat or None,
                workflow_id=wf_id,
                details={"run_id": inp.run_id},
            ),
            start_to_close_timeout=QUICK,
        )
        done: StepResult = await workflow.execute_activity_method(
            RemediationActivities.run_step,
            StepInput(inp.tenant_id, inp.finding_id, inp.run_id, "restore", inp.person_id),
            start_to_close_timeout=CLOUD_STEP,
            retry_policy=CLOUD_RETRY,
        )
        outcome = ("Restored: " if done.status == "succeeded" else "Restore failed: ") + done.detail
        await workflow.execute_activity_method(
            FindingActivities.update_cards,
            CardInput(inp.tenant_id, inp.finding_id, "", [], outcome, False),
            start_to_close_timeout=QUICK,
        )
        return RestoreResult(inp.run_id, done.status, done.detail)
