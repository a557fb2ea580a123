"""The scan workflow: read every account and region, evaluate the rules, open finding workflows.

Fan-out is bounded (``max_concurrency`` account-region reads at a time). An account or region
that cannot be read is reported in the result with its reason; it is never dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.scan import (
        CollectInput,
        CollectResult,
        EvaluateInput,
        EvaluateResult,
        PlanScanResult,
        ScanActivities,
        ScanStartInput,
    )
    from fintropy.domain import ReadError
    from workflows.finding_workflow import FindingInput, FindingWorkflow, finding_workflow_id


@dataclass
class ScanInput:
    tenant_id: str
    scan_id: str
    requested_by: str = "system"
    max_concurrency: int = 4
    open_finding_workflows: bool = True
    approval_timeout_seconds: int = 72 * 3600


@dataclass
class ScanResult:
    scan_id: str
    resource_count: int
    finding_count: int
    opened: list[str]
    resolved: list[str]
    finding_workflows: list[str]
    errors: list[ReadError] = field(default_factory=list)
    savings_usd_month: float = 0.0


@dataclass
class ScanProgress:
    targets_total: int
    targets_done: int
    phase: str  # planning | collecting | evaluating | opening | done


SHORT = timedelta(seconds=60)
COLLECT = timedelta(minutes=10)
EVALUATE = timedelta(minutes=10)
READ_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=2))


@workflow.defn
class ScanWorkflow:
    """One scan of one tenant."""

    def __init__(self) -> None:
        self._progress = ScanProgress(0, 0, "planning")

    @workflow.query
    def progress(self) -> ScanProgress:
        """How far the scan is; the CLI draws its progress bar from this."""
        return self._progress

    @workflow.run
    async def run(self, inp: ScanInput) -> ScanResult:
        """Plan, collect with bounded concurrency, evaluate, then open finding workflows."""
        wf_id = workflow.info().workflow_id
        now = workflow.now()
        plan: PlanScanResult = await workflow.execute_activity_method(
            ScanActivities.start_scan,
            ScanStartInput(inp.tenant_id, inp.scan_id, inp.requested_by, wf_id),
            start_to_close_timeout=SHORT,
        )
        self._progress = ScanProgress(len(plan.targets), 0, "collecting")
        gate = asyncio.Semaphore(max(1, inp.max_concurrency))
        errors: list[ReadError] = []

        async def collect(account, region) -> None:  # noqa: ANN001 - dataclasses from the plan
            async with gate:
                try:
                    result: CollectResult = await workflow.execute_activity_method(
                        ScanActivities.collect_inventory,
                        CollectInput(inp.tenant_id, inp.scan_id, account, region, now),
                        start_to_close_timeout=COLLECT,
                        heartbeat_timeout=COLLECT,
                        retry_policy=READ_RETRY,
                    )
                    errors.extend(result.errors)
                except ActivityError as err:
                    # The whole account-region failed after retries: say so, keep going.
                    cause = err.cause
                    errors.append(
                        ReadError(
                            account.account_id,
                            region,
                            "*",
                            getattr(cause, "type", None) or "ReadFailed",
                            str(cause or err),
                        )
                    )
                self._progress.targets_done += 1

        await asyncio.gather(*(collect(t.account, t.region) for t in plan.targets))
        self._progress.phase = "evaluating"
        errors.sort(key=lambda e: (e.account_id, e.region, e.service, e.code))
        evaluated: EvaluateResult = await workflow.execute_activity_method(
            ScanActivities.evaluate,
            EvaluateInput(inp.tenant_id, inp.scan_id, now, errors, wf_id),
            start_to_close_timeout=EVALUATE,
        )
        self._progress.phase = "opening"
        started: list[str] = []
        if inp.open_finding_workflows:
            for fid in evaluated.actionable_open:
                child_id = finding_workflow_id(inp.tenant_id, fid)
                try:
                    await workflow.start_child_workflow(
                        FindingWorkflow.run,
                        FindingInput(inp.tenant_id, fid, inp.approval_timeout_seconds),
                        id=child_id,
                        parent_close_policy=ParentClosePolicy.ABANDON,
                    )
                    started.append(child_id)
                except WorkflowAlreadyStartedError:
                    # A finding workflow from an earlier scan still runs: it owns the card.
                    pass
        self._progress.phase = "done"
        return ScanResult(
            scan_id=inp.scan_id,
            resource_count=evaluated.resource_count,
            finding_count=evaluated.finding_count,
            opened=evaluated.opened,
            resolved=evaluated.resolved,
            finding_workflows=started,
            errors=errors,
            savings_usd_month=evaluated.savings_usd_month,
        )
