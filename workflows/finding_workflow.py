"""The finding workflow: post the card, wait for a decision, then remediate and prove it.

One workflow per actionable finding, with the id ``finding-<tenant>-<finding>``: a second click,
a Slack retry or a second scan can never start a second remediation of the same finding.

Decisions arrive as the ``decide`` update. Its validator enforces the approval rules (approver
role, no self-approval, distinct approvers for the two-person rule, still awaiting a decision),
so a refused attempt never enters workflow history and the clicker is told why at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.findings import (
        ApprovalContext,
        ApprovalContextInput,
        AuditInput,
        CardInput,
        FindingActivities,
        NoticeInput,
        StatusInput,
    )
    from activities.remediation import (
        CapInput,
        CapResult,
        FinishRunInput,
        RemediationActivities,
        RunInput,
        StepInput,
        StepResult,
    )
    from fintropy.domain import FindingStatus as S


def finding_workflow_id(tenant_id: str, finding_id: str) -> str:
    """The one workflow id a finding can ever have in a tenant."""
    return f"finding-{tenant_id}-{finding_id}"


@dataclass
class FindingInput:
    tenant_id: str
    finding_id: str
    approval_timeout_seconds: int = 72 * 3600
    dry_run: bool = False
    # Reminder to the approvers, then escalation to the on-call approvers, as fractions of
    # the approval timeout; the finding expires (no action) when the timeout is reached.
    remind_at: float = 1 / 3
    escalate_at: float = 2 / 3


@dataclass
class DecisionRequest:
    """A person's decision, already mapped from their chat identity by the front end."""

    person_id: str
    display_name: str
    decision: str  # approve | reject
    reason: str = ""
    actor_chat: str = ""  # "slack:T123/U456", "teams:<tenant>/<aad object id>", "cli:<user>"
    dry_run: bool = False  # preview: plan the action and say what it would do; change nothing


@dataclass
class SnoozeNotice:
    """An exception now covers this finding: stop waiting, show it snoozed."""

    exception_id: str
    by: str  # display name of the exception's owner
    until: str  # ISO date the exception expires
    reason: str


@dataclass
class DecisionReply:
    accepted: bool
    message: str
    approvals: int
    required: int


@dataclass
class FindingState:
    """Everything the workflow knows; one serialisable object, ready for continue-as-new."""

    phase: str = (
        "starting"  # starting | awaiting | approved | rejected | expired | remediating | done
    )
    status: str = S.OPEN.value
    approvals: list[tuple[str, str]] = field(default_factory=list)  # (person id, display name)
    rejected_by: tuple[str, str] | None = None
    reason: str = ""
    outcome: str = ""
    run_id: str = ""


@dataclass
class FindingResult:
    finding_id: str
    status: str
    outcome: str
    approved_by: list[str]
    run_id: str


QUICK = timedelta(seconds=60)
_DECISION_EVENT = {"approve": "decision.approved", "reject": "decision.rejected"}
CLOUD_STEP = timedelta(minutes=15)
CLOUD_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=2))
CHAT_RETRY = RetryPolicy(maximum_attempts=10, initial_interval=timedelta(seconds=1))


@workflow.defn
class FindingWorkflow:
    """Approval and remediation of one finding."""

    def __init__(self) -> None:
        self._state = FindingState()
        self._ctx: ApprovalContext | None = None
        self._inp: FindingInput | None = None

    @workflow.query
    def state(self) -> FindingState:
        """The current phase, status, approvals and outcome."""
        return self._state

    @workflow.run
    async def run(self, inp: FindingInput) -> FindingResult:
        """Post, wait for the decision (or expire), then remediate and verify."""
        self._inp = inp
        self._ctx = await workflow.execute_activity_method(
            FindingActivities.load_approval_context,
            ApprovalContextInput(inp.tenant_id, inp.finding_id),
            start_to_close_timeout=QUICK,
        )
        moved = await self._set_status(S.AWAITING_APPROVAL, [S.OPEN, S.AWAITING_APPROVAL])
        if not moved:
            return self._result("Finding is no longer open; nothing to decide.")
        self._state.status = S.AWAITING_APPROVAL.value
        await workflow.execute_activity_method(
            FindingActivities.post_card,
            CardInput(inp.tenant_id, inp.finding_id, S.AWAITING_APPROVAL.value),
            start_to_close_timeout=QUICK,
            retry_policy=CHAT_RETRY,
        )
        self._state.phase = "awaiting"

        # Wait for approve/reject. A third of the way into approval_timeout_seconds the
        # approvers are reminded, two thirds in it escalates to the on-call approvers, and at
        # the timeout the finding expires to the safe default (no action): every card shows
        # it with its buttons disabled.
        total = inp.approval_timeout_seconds
        tiers = [
            ("reminded", total * inp.remind_at),
            ("escalated", total * inp.escalate_at),
            ("expired", float(total)),
        ]
        waited = 0.0
        for tier, at in tiers:
            try:
                await workflow.wait_condition(
                    lambda: self._state.phase in ("approved", "rejected", "snoozed"),
                    timeout=timedelta(seconds=max(at - waited, 0.001)),
                    timeout_summary=f"approval-{tier}",
                )
                break
            except TimeoutError:
                waited = at
                if tier != "expired":
                    await self._notify(tier)
                    continue
                self._state.phase = "expired"
                await self._set_status(S.EXPIRED, [S.AWAITING_APPROVAL])
                await self._audit("system", "decision.expired", {"after_seconds": total})
                return await self._close(
                    S.EXPIRED, "Expired without a decision; nothing was changed."
                )

        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.phase == "snoozed":
            # The exception's activity already moved the finding to snoozed.
            self._state.status = S.SNOOZED.value
            return await self._close(S.SNOOZED, self._state.outcome)
        if self._state.phase == "rejected":
            who = self._state.rejected_by[1] if self._state.rejected_by else "someone"
            await self._set_status(S.REJECTED, [S.AWAITING_APPROVAL])
            return await self._close(S.REJECTED, f"Rejected by {who}: {self._state.reason}")
        return await self._remediate()

    # -- decisions ------------------------------------------------------------------------

    @workflow.signal
    def snooze(self, notice: SnoozeNotice) -> None:
        """An exception covers the finding: stop waiting; expiry re-opens it elsewhere."""
        if self._state.phase in ("starting", "awaiting"):
            self._state.phase = "snoozed"
            self._state.outcome = (
                f"Snoozed by {notice.by} until {notice.until} "
                f"({notice.exception_id}): {notice.reason}"
            )

    @workflow.update
    async def decide(self, req: DecisionRequest) -> DecisionReply:
        """Record an accepted decision (the validator has already checked it)."""
        assert self._inp is not None
        assert self._ctx is not None
        if req.decision == "approve" and req.dry_run:
            return await self._preview(req)
        if req.decision == "reject":
            self._state.rejected_by = (req.person_id, req.display_name)
            self._state.reason = req.reason
            self._state.phase = "rejected"
            message = "Rejected. Nothing will be changed."
        else:
            self._state.approvals.append((req.person_id, req.display_name))
            count = len(self._state.approvals)
            if count >= self._ctx.required_approvals:
                self._state.phase = "approved"
                message = "Approved. Remediation is starting."
            else:
                message = (
                    f"Approval {count} of {self._ctx.required_approvals} recorded; "
                    "another approver is needed."
                )
        await self._audit(
            req.person_id,
            _DECISION_EVENT[req.decision],
            {
                "reason": req.reason,
                "approvals": len(self._state.approvals),
                "required": self._ctx.required_approvals,
            },
            actor_chat=req.actor_chat or None,
        )
        return DecisionReply(
            True, message, len(self._state.approvals), self._ctx.required_approvals
        )

    @decide.validator
    def validate_decide(self, req: DecisionRequest) -> None:
        """Refuse any decision the approval policy does not allow; nothing is recorded."""
        # Raising here rejects the update before it reaches history; the caller receives the
        # message. Plain exceptions are fine in a validator (unlike in the handler body).
        ctx = self._ctx
        if req.decision not in ("approve", "reject"):
            raise ApplicationError("Decision must be approve or reject.", type="bad_decision")
        if ctx is None or self._state.phase == "starting":
            raise ApplicationError(
                "This finding is not ready for a decision yet; try again.", type="not_ready"
            )
        if self._state.phase != "awaiting":
            raise ApplicationError(
                f"This finding is no longer awaiting a decision (it is {self._state.phase}).",
                type="already_decided",
            )
        if req.person_id not in ctx.approvers:
            raise ApplicationError(
                "You do not have the approver role for this tenant, so you cannot decide on it.",
                type="not_approver",
            )
        if req.dry_run:
            return  # a preview changes nothing, so anyone with the approver role may ask
        if req.decision == "reject" and not req.reason.strip():
            raise ApplicationError("A rejection needs a reason.", type="reason_required")
        if req.decision == "approve":
            if req.person_id in ctx.excluded_approvers:
                raise ApplicationError(
                    "You own this resource, so you cannot approve its change; ask another "
                    "approver.",
                    type="self_approval",
                )
            if any(pid == req.person_id for pid, _ in self._state.approvals):
                raise ApplicationError(
                    "You already approved this; a second, different approver is needed.",
                    type="duplicate_approval",
                )

    # -- remediation ----------------------------------------------------------------------

    async def _remediate(self) -> FindingResult:
        assert self._inp is not None
        assert self._ctx is not None
        inp = self._inp
        names = [name for _pid, name in self._state.approvals]
        await self._set_status(S.APPROVED, [S.AWAITING_APPROVAL])
        await self._cards(S.APPROVED, "Approved; remediation is running.", enabled=False)
        dry_run = inp.dry_run or self._ctx.dry_run
        self._state.run_id = await self._start_run(dry_run)
        self._state.phase = "remediating"
        actor = self._state.approvals[-1][0]
        try:
            plan = await self._step("plan", actor)
            if plan.status == "skipped":
                await self._set_status(S.RESOLVED, [S.APPROVED])
                return await self._finish(S.RESOLVED, f"Nothing to do: {plan.detail}", "skipped")
            if dry_run:
                return await self._finish(
                    S.APPROVED,
                    f"Dry run (the tenant is in dry-run mode): {plan.detail} Nothing was changed.",
                    "dry_run",
                )
            cap: CapResult = await workflow.execute_activity_method(
                RemediationActivities.check_blast_radius,
                CapInput(inp.tenant_id, inp.finding_id, self._state.run_id),
                start_to_close_timeout=QUICK,
            )
            if not cap.allowed:
                await self._set_status(S.FAILED, [S.APPROVED])
                await self._audit("system", "remediation.blocked", {"detail": cap.detail})
                return await self._finish(S.FAILED, cap.detail, "blocked")
            await self._set_status(S.REMEDIATING, [S.APPROVED])
            point = await self._step("restore_point", actor)
            done = await self._step("execute", actor, point.restore_point)
            if done.status != "succeeded":
                await self._set_status(S.FAILED, [S.REMEDIATING])
                return await self._finish(S.FAILED, f"Failed: {done.detail}", "failed")
            await self._set_status(S.REMEDIATED, [S.REMEDIATING])
            check = await self._step("verify", actor, point.restore_point)
        except ActivityError as err:
            await self._set_status(S.FAILED, [S.APPROVED, S.REMEDIATING, S.REMEDIATED])
            return await self._finish(S.FAILED, f"Failed: {err.cause or err}", "failed")
        if check.status != "succeeded":
            await self._set_status(S.FAILED, [S.REMEDIATED])
            return await self._finish(S.FAILED, f"Verification failed: {check.detail}", "failed")
        await self._set_status(S.VERIFIED, [S.REMEDIATED])
        by = ", ".join(names)
        return await self._finish(
            S.VERIFIED, f"{done.detail} Verified: {check.detail} (approved by {by})", "verified"
        )

    async def _start_run(self, dry_run: bool) -> str:
        assert self._inp is not None
        assert self._ctx is not None
        run_id = f"run-{self._inp.finding_id}-{str(workflow.uuid4())[:8]}"
        await workflow.execute_activity_method(
            RemediationActivities.start_run,
            RunInput(
                self._inp.tenant_id,
                self._inp.finding_id,
                run_id,
                workflow.info().workflow_id,
                self._ctx.action or "",
                dry_run,
                "system",
                [pid for pid, _ in self._state.approvals],
            ),
            start_to_close_timeout=QUICK,
        )
        return run_id

    async def _preview(self, req: DecisionRequest) -> DecisionReply:
        """A dry run on request: plan only, say what would happen, keep waiting."""
        assert self._inp is not None
        assert self._ctx is not None
        run_id = await self._start_run(True)
        plan: StepResult = await workflow.execute_activity_method(
            RemediationActivities.run_step,
            StepInput(self._inp.tenant_id, self._inp.finding_id, run_id, "plan", req.person_id),
            start_to_close_timeout=CLOUD_STEP,
            retry_policy=CLOUD_RETRY,
        )
        await workflow.execute_activity_method(
            RemediationActivities.finish_run,
            FinishRunInput(self._inp.tenant_id, run_id, "dry_run"),
            start_to_close_timeout=QUICK,
        )
        await self._audit(
            req.person_id,
            "decision.dry_run",
            {"run_id": run_id, "detail": plan.detail},
            actor_chat=req.actor_chat or None,
        )
        return DecisionReply(
            True,
            f"Dry run ({run_id}): {plan.detail} Nothing was changed.",
            len(self._state.approvals),
            self._ctx.required_approvals,
        )

    async def _notify(self, tier: str) -> None:
        """Remind the approvers, or escalate to the on-call approvers, under every card."""
        assert self._inp is not None
        assert self._ctx is not None
        if tier == "reminded":
            people = [p for p in self._ctx.approvers if p not in self._ctx.excluded_approvers]
            text = "Reminder: this finding is still waiting for an approver's decision."
        else:
            people = self._ctx.on_call or self._ctx.approvers
            text = (
                "Escalated to the on-call approvers: nobody has decided yet. It expires "
                "with no action if nobody does."
            )
        await workflow.execute_activity_method(
            FindingActivities.post_notice,
            NoticeInput(self._inp.tenant_id, self._inp.finding_id, tier, people, text),
            start_to_close_timeout=QUICK,
            retry_policy=CHAT_RETRY,
        )

    async def _step(self, step: str, actor: str, restore_point: dict | None = None) -> StepResult:
        assert self._inp is not None
        return await workflow.execute_activity_method(
            RemediationActivities.run_step,
            StepInput(
                self._inp.tenant_id,
                self._inp.finding_id,
                self._state.run_id,
                step,
                actor,
                restore_point or {},
            ),
            start_to_close_timeout=CLOUD_STEP,
            retry_policy=CLOUD_RETRY,
        )

    async def _finish(self, status: S, outcome: str, run_status: str) -> FindingResult:
        assert self._inp is not None
        await workflow.execute_activity_method(
            RemediationActivities.finish_run,
            FinishRunInput(self._inp.tenant_id, self._state.run_id, run_status),
            start_to_close_timeout=QUICK,
        )
        return await self._close(status, outcome)

    # -- helpers --------------------------------------------------------------------------

    async def _close(self, status: S, outcome: str) -> FindingResult:
        self._state.status = status.value
        self._state.outcome = outcome
        self._state.phase = "done"
        await self._cards(status, outcome, enabled=False)
        return self._result(outcome)

    def _result(self, outcome: str) -> FindingResult:
        assert self._inp is not None
        return FindingResult(
            self._inp.finding_id,
            self._state.status,
            outcome,
            [name for _pid, name in self._state.approvals],
            self._state.run_id,
        )

    async def _cards(self, status: S, outcome: str, *, enabled: bool) -> None:
        assert self._inp is not None
        decided = [name for _pid, name in self._state.approvals]
        if self._state.rejected_by:
            decided.append(self._state.rejected_by[1])
        await workflow.execute_activity_method(
            FindingActivities.update_cards,
            CardInput(
                self._inp.tenant_id, self._inp.finding_id, status.value, decided, outcome, enabled
            ),
            start_to_close_timeout=QUICK,
            retry_policy=CHAT_RETRY,
        )

    async def _set_status(self, new: S, expected: list[S]) -> bool:
        assert self._inp is not None
        moved = await workflow.execute_activity_method(
            FindingActivities.set_status,
            StatusInput(
                self._inp.tenant_id,
                self._inp.finding_id,
                new.value,
                [s.value for s in expected],
                workflow.info().workflow_id,
            ),
            start_to_close_timeout=QUICK,
        )
        if moved:
            self._state.status = new.value
        return moved

    async def _audit(
        self, actor: str, action: str, details: dict, actor_chat: str | None = None
    ) -> None:
        assert self._inp is not None
        await workflow.execute_activity_method(
            FindingActivities.record_audit,
            AuditInput(
                self._inp.tenant_id,
                actor,
                action,
                self._inp.finding_id,
                actor_chat=actor_chat,
                workflow_id=workflow.info().workflow_id,
                details=details,
            ),
            start_to_close_timeout=QUICK,
        )
