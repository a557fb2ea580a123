"""The finding workflow's approval rules and timers, on the real time-skipping Temporal server.

Activities are replaced by same-name fakes that record what they were asked to do, so these
tests isolate the workflow's decisions; the end-to-end tests run the real activities.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.findings import (
    ApprovalContext,
    ApprovalContextInput,
    AuditInput,
    CardInput,
    NoticeInput,
    StatusInput,
)
from activities.remediation import (
    CapInput,
    CapResult,
    FinishRunInput,
    RunInput,
    StepInput,
    StepResult,
)
from fintropy.domain import MessageRef
from workflows.finding_workflow import (
    DecisionRequest,
    FindingInput,
    FindingWorkflow,
    finding_workflow_id,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class FakeWorld:
    """What the fake activities saw, and how they answer."""

    required: int = 1
    approvers: list[str] = field(default_factory=lambda: ["alice", "bob", "dave"])
    owners: list[str] = field(default_factory=lambda: ["dave"])
    status: str = "open"
    execute_status: str = "succeeded"
    cards: list[tuple[str, bool]] = field(default_factory=list)  # (status, buttons enabled)
    audit: list[tuple[str, str]] = field(default_factory=list)  # (actor, action)
    steps: list[str] = field(default_factory=list)
    notices: list[tuple[str, list[str]]] = field(default_factory=list)
    cap_allows: bool = True
    dry_run: bool = False

    def activities(self) -> list:
        @activity.defn(name="load_approval_context")
        def load(inp: ApprovalContextInput) -> ApprovalContext:
            return ApprovalContext(
                self.status,
                "snapshot_and_delete_volume",
                True,
                "prod",
                self.approvers,
                self.required,
                self.owners,
                {p: p.title() for p in self.approvers},
                on_call=["bob"],
                dry_run=self.dry_run,
            )

        @activity.defn(name="set_status")
        def set_status(inp: StatusInput) -> bool:
            if self.status not in inp.expected:
                return False
            self.status = inp.new_status
            return True

        @activity.defn(name="post_card")
        def post_card(inp: CardInput) -> MessageRef:
            self.cards.append((inp.status, inp.buttons_enabled))
            return MessageRef("console", "#c", str(len(self.cards)))

        @activity.defn(name="update_cards")
        def update_cards(inp: CardInput) -> int:
            self.cards.append((inp.status, inp.buttons_enabled))
            return 1

        @activity.defn(name="record_audit")
        def record_audit(inp: AuditInput) -> int:
            self.audit.append((inp.actor, inp.action))
            return len(self.audit)

        @activity.defn(name="start_run")
        def start_run(inp: RunInput) -> None:
            self.steps.append("start_run")

        @activity.defn(name="finish_run")
        def finish_run(inp: FinishRunInput) -> None:
            self.steps.append(f"finish_run:{inp.status}")

        @activity.defn(name="run_step")
        def run_step(inp: StepInput) -> StepResult:
            self.steps.append(inp.step)
            if inp.step == "plan":
                return StepResult("planned", "will snapshot then delete vol-1")
            if inp.step == "restore_point":
                return StepResult("succeeded", "snapshot snap-1", {"snapshot_id": "snap-1"})
            if inp.step == "execute":
                return StepResult(
                    self.execute_status,
                    "deleted vol-1" if self.execute_status == "succeeded" else "AccessDenied",
                )
            return StepResult("succeeded", "vol-1 is gone; snap-1 exists", dict(inp.restore_point))

        @activity.defn(name="post_notice")
        def post_notice(inp: NoticeInput) -> int:
            self.notices.append((inp.kind, sorted(inp.person_ids)))
            return 1

        @activity.defn(name="check_blast_radius")
        def check_blast_radius(inp: CapInput) -> CapResult:
            self.steps.append("cap")
            if self.cap_allows:
                return CapResult(True, "1 of 20")
            return CapResult(False, "Stopped before acting: the blast-radius cap is 0.")

        return [load, set_status, post_card, update_cards, record_audit, start_run, finish_run,
                run_step, post_notice, check_blast_radius]


async def _start(env, world: FakeWorld, timeout_s: int = 72 * 3600):
    import concurrent.futures

    queue = f"tq-{uuid.uuid4().hex[:8]}"
    finding = f"f-{uuid.uuid4().hex[:12]}"
    worker = Worker(
        env.client,
        task_queue=queue,
        workflows=[FindingWorkflow],
        activities=world.activities(),
        activity_executor=concurrent.futures.ThreadPoolExecutor(4),
    )
    return worker, queue, finding, timeout_s


def _req(person: str, decision: str = "approve", reason: str = "") -> DecisionRequest:
    return DecisionRequest(person, person.title(), decision, reason, f"slack:T1/U{person}")


async def _wait_awaiting(handle) -> None:
    import asyncio

    for _ in range(200):
        state = await handle.query(FindingWorkflow.state)
        if state.phase == "awaiting":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("workflow never reached awaiting")


async def test_two_person_rule_needs_two_distinct_approvers(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld(required=2)
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)

        first = await handle.execute_update(FindingWorkflow.decide, _req("alice"))
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await handle.execute_update(FindingWorkflow.decide, _req("alice"))
        second = await handle.execute_update(FindingWorkflow.decide, _req("bob"))
        result = await handle.result()

    assert first.accepted
    assert first.approvals == 1
    assert first.required == 2
    assert "second, different approver" in again.value.cause.message
    assert second.message.startswith("Approved")
    assert result.status == "verified"
    assert result.approved_by == ["Alice", "Bob"]
    assert world.steps == [
        "start_run",
        "plan",
        "cap",
        "restore_point",
        "execute",
        "verify",
        "finish_run:verified",
    ]
    assert [a for a in world.audit if a[1].startswith("decision")] == [
        ("alice", "decision.approved"),
        ("bob", "decision.approved"),
    ]
    assert world.cards[-1] == ("verified", False)


@pytest.mark.parametrize(
    ("person", "decision", "reason", "expected"),
    [
        ("carol", "approve", "", "do not have the approver role"),
        ("dave", "approve", "", "You own this resource"),
        ("alice", "reject", "  ", "needs a reason"),
        ("alice", "delete-everything", "", "must be approve or reject"),
    ],
)
async def test_refused_decisions_leave_no_trace(
    temporal_time_skipping_env, person, decision, reason, expected
):
    env = temporal_time_skipping_env
    world = FakeWorld()
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(FindingWorkflow.decide, _req(person, decision, reason))
        state = await handle.query(FindingWorkflow.state)
        await handle.terminate("test done")

    assert expected in refused.value.cause.message
    assert state.phase == "awaiting"
    assert state.approvals == []
    assert not any(action.startswith("decision") for _actor, action in world.audit)
    assert world.steps == []


async def test_undecided_finding_expires_to_no_action(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld()
    worker, queue, finding, timeout_s = await _start(env, world, timeout_s=72 * 3600)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        result = await handle.result()  # the server skips the 72 hours

        with pytest.raises(Exception) as late:  # noqa: PT011 - any refusal is right here
            await handle.execute_update(FindingWorkflow.decide, _req("alice"))

    assert result.status == "expired"
    assert "nothing was changed" in result.outcome
    assert world.steps == []  # no cloud step at all
    assert world.cards[0] == ("awaiting_approval", True)
    assert world.cards[-1] == ("expired", False)
    assert ("system", "decision.expired") in world.audit
    assert late.value is not None
    # Reminded the approvers (not the owner), then escalated to on-call, then expired.
    assert world.notices == [("reminded", ["alice", "bob"]), ("escalated", ["bob"])]


async def test_rejection_records_reason_and_disables_buttons(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld()
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)
        reply = await handle.execute_update(
            FindingWorkflow.decide, _req("bob", "reject", "needed for quarter-end close")
        )
        result = await handle.result()

    assert reply.accepted
    assert result.status == "rejected"
    assert "needed for quarter-end close" in result.outcome
    assert world.steps == []
    assert world.cards[-1] == ("rejected", False)


async def test_failed_action_is_never_reported_as_done(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld(execute_status="failed")
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)
        await handle.execute_update(FindingWorkflow.decide, _req("alice"))
        result = await handle.result()

    assert result.status == "failed"
    assert "AccessDenied" in result.outcome
    assert "verify" not in world.steps
    assert world.cards[-1] == ("failed", False)


async def test_second_start_with_same_finding_is_refused(temporal_time_skipping_env):
    from temporalio.exceptions import WorkflowAlreadyStartedError

    env = temporal_time_skipping_env
    world = FakeWorld()
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        with pytest.raises(WorkflowAlreadyStartedError):
            await env.client.start_workflow(
                FindingWorkflow.run,
                FindingInput("t1", finding, timeout_s),
                id=finding_workflow_id("t1", finding),
                task_queue=queue,
            )
        await handle.terminate("test done")


async def test_blast_radius_cap_stops_before_acting(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld(cap_allows=False)
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)
        await handle.execute_update(FindingWorkflow.decide, _req("alice"))
        result = await handle.result()

    assert result.status == "failed"
    assert "blast-radius cap" in result.outcome
    assert "restore_point" not in world.steps
    assert "execute" not in world.steps
    assert ("system", "remediation.blocked") in world.audit


async def test_dry_run_preview_plans_only_and_keeps_waiting(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld()
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)
        preview = DecisionRequest("dave", "Dave", "approve", "", "slack:T1/Udave", dry_run=True)
        reply = await handle.execute_update(FindingWorkflow.decide, preview)
        state = await handle.query(FindingWorkflow.state)
        await handle.terminate("test done")

    assert reply.accepted
    assert "Dry run" in reply.message
    assert "will snapshot then delete vol-1" in reply.message
    assert world.steps == ["start_run", "plan", "finish_run:dry_run"]
    assert state.phase == "awaiting"
    assert state.approvals == []


async def test_tenant_dry_run_mode_changes_nothing(temporal_time_skipping_env):
    env = temporal_time_skipping_env
    world = FakeWorld(dry_run=True)
    worker, queue, finding, timeout_s = await _start(env, world)
    async with worker:
        handle = await env.client.start_workflow(
            FindingWorkflow.run,
            FindingInput("t1", finding, timeout_s),
            id=finding_workflow_id("t1", finding),
            task_queue=queue,
        )
        await _wait_awaiting(handle)
        await handle.execute_update(FindingWorkflow.decide, _req("alice"))
        result = await handle.result()

    assert "Dry run" in result.outcome
    assert world.steps == ["start_run", "plan", "finish_run:dry_run"]
