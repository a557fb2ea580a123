"""Remediation activities: plan, capture a restore point, act, verify, restore.

Each step calls the cloud adapter for the finding's provider and records a per-resource
outcome row and an audit event. Steps are idempotent: the adapter treats "already done" as
success, and the restore point is looked up before a new one is taken, so a retried or
restarted activity neither loses nor repeats the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from fintropy import audit
from fintropy.domain import ActionOutcome, CloudAccount, OutcomeStatus, ResourceRef
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session

logger = logging.getLogger(__name__)


@dataclass
class StepInput:
    tenant_id: str
    finding_id: str
    run_id: str
    step: str  # plan | restore_point | execute | verify | restore
    actor: str = "system"
    restore_point: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    status: str  # an OutcomeStatus value
    detail: str
    restore_point: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunInput:
    tenant_id: str
    finding_id: str
    run_id: str
    workflow_id: str
    action: str
    dry_run: bool
    requested_by: str
    approved_by: list[str]


@dataclass
class CapInput:
    tenant_id: str
    finding_id: str
    run_id: str


@dataclass
class CapResult:
    allowed: bool
    detail: str


@dataclass
class FinishRunInput:
    tenant_id: str
    run_id: str
    status: str


# adapter_for(account) -> an adapter with plan/capture_restore_point/execute/
# verify/restore(action, ref[, restore_point]) -> ActionOutcome
AdapterLookup = Callable[[CloudAccount], Any]


class RemediationActivities:
    """Remediation steps over an injected cloud-adapter lookup."""

    def __init__(self, engine: Any, adapter_for: AdapterLookup):
        self._engine = engine
        self._adapter_for = adapter_for

    @activity.defn
    def start_run(self, inp: RunInput) -> None:
        """Record the remediation run (idempotent on run id)."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.start_run(
                session,
                inp.tenant_id,
                run_id=inp.run_id,
                finding_id=inp.finding_id,
                workflow_id=inp.workflow_id,
                action=inp.action,
                dry_run=inp.dry_run,
                requested_by=inp.requested_by,
                approved_by=inp.approved_by,
            )

    @activity.defn
    def finish_run(self, inp: FinishRunInput) -> None:
        """Close the remediation run with its final status."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.finish_run(session, inp.tenant_id, inp.run_id, inp.status)

    @activity.defn
    def run_step(self, inp: StepInput) -> StepResult:
        """Run one remediation step against the cloud and record its outcome."""
        info = activity.info()
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            if finding is None or not finding.action:
                raise ApplicationError(
                    f"finding {inp.finding_id} has no remediation action",
                    type="not_actionable",
                    non_retryable=True,
                )
            restore_point = dict(inp.restore_point)
            if inp.step == "restore" and not restore_point:
                recorded = repo.get_outcome(session, inp.tenant_id, inp.run_id, "restore_point")
                if recorded is None or not recorded.restore_point:
                    raise ApplicationError(
                        f"run {inp.run_id} recorded no restore point, so it cannot be restored",
                        type="no_restore_point",
                        non_retryable=True,
                    )
                restore_point = dict(recorded.restore_point)
            if inp.step in ("restore_point", "execute", "restore"):
                # A restarted worker must not take a second snapshot or act twice: reuse what
                # an earlier attempt already recorded for this run.
                earlier = repo.get_outcome(session, inp.tenant_id, inp.run_id, inp.step)
                if earlier is not None and earlier.status == OutcomeStatus.SUCCEEDED:
                    return StepResult(earlier.status, earlier.detail, dict(earlier.restore_point))
        ref = ResourceRef(
            finding.provider,
            finding.account_id,
            finding.region,
            finding.resource_type,
            finding.resource_id,
        )
        with tenant_session(self._engine, inp.tenant_id) as session:
            account = repo.get_account(session, inp.tenant_id, ref.provider, ref.account_id)
        if account is None:
            raise ApplicationError(
                f"account {ref.account_id} is no longer configured for this tenant",
                type="unknown_account",
                non_retryable=True,
            )
        adapter = self._adapter_for(account)
        action = finding.action
        activity.logger.info("remediation step", extra={"step": inp.step, "action": action})
        if inp.step == "plan":
            outcome = adapter.plan(action, ref)
        elif inp.step == "restore_point":
            point = adapter.capture_restore_point(action, ref)
            outcome = ActionOutcome(
                action, ref, OutcomeStatus.SUCCEEDED, _describe_restore_point(point), point
            )
        elif inp.step == "execute":
            outcome = adapter.execute(action, ref, inp.restore_point)
        elif inp.step == "verify":
            outcome = adapter.verify(action, ref, inp.restore_point)
        elif inp.step == "restore":
            outcome = adapter.restore(action, ref, restore_point)
        else:
            raise ApplicationError(f"unknown step {inp.step}", type="bad_step", non_retryable=True)
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.record_outcome(session, inp.tenant_id, inp.run_id, inp.step, outcome)
            audit.append_event(
                session,
                inp.tenant_id,
                inp.actor,
                f"remediation.{_EVENT[inp.step]}",
                inp.finding_id,
                rule_id=finding.rule_id,
                rule_version=finding.rule_version,
                workflow_id=info.workflow_id,
                details={
                    "run_id": inp.run_id,
                    "action": action,
                    "resource": ref.key,
                    "status": str(outcome.status),
                    "detail": outcome.detail,
                    "restore_point": outcome.restore_point,
                },
            )
        return StepResult(str(outcome.status), outcome.detail, dict(outcome.restore_point))

    @activity.defn
    def check_blast_radius(self, inp: CapInput) -> CapResult:
        """Refuse to act when the account reached its cap of actions in the last 24 hours."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            finding = repo.get_finding(session, inp.tenant_id, inp.finding_id)
            tenant = repo.get_tenant(session, inp.tenant_id)
            if finding is None or tenant is None:
                raise ApplicationError(
                    "finding or tenant vanished", type="not_found", non_retryable=True
                )
            cap = tenant.max_actions_per_account_per_day
            done = repo.actions_in_account_since(
                session,
                inp.tenant_id,
                finding.provider,
                finding.account_id,
                hours=24,
                exclude_run=inp.run_id,
            )
        if done >= cap:
            return CapResult(
                False,
                (
                    f"Stopped before acting: account {finding.account_id} already had {done} "
                    f"remediation(s) in the last 24 hours, and its blast-radius cap is {cap}. "
                    "Nothing was changed; approve again after the window, or raise the cap."
                ),
            )
        return CapResult(True, f"{done} of {cap} actions used in account {finding.account_id}.")


_EVENT = {
    "plan": "planned",
    "restore_point": "restore_point",
    "execute": "executed",
    "verify": "verified",
    "restore": "restored",
}


def _describe_restore_point(point: dict[str, Any]) -> str:
    if not point:
        return "No restore point needed: the action is reversible by a plain API call."
    parts = ", ".join(f"{k}={v}" for k, v in sorted(point.items()))
    return f"Restore point recorded ({parts})."
