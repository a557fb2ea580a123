"""Red team: kill the worker in the middle of a remediation; nothing is lost or done twice.

A first worker runs the real activities over an adapter that, inside ``execute``, deletes the
volume for real and then hangs (as a worker would when its host freezes right after the cloud
call and before anything was recorded). That worker is then shut down with no grace period, so
the running step is abandoned. A second worker on the same task queue must finish the
remediation: the finding ends verified, and across both workers the volume was snapshotted
once and deleted once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.redteam.harness import NONPROD, TOKEN_SECRET, Tenant
from tests.redteam.stack import account, fast_services, new_tenant, tenant_spec

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Gate:
    """Where the first worker's adapter stops, and how the test knows it got there."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


class HangsInExecute:
    """The real adapter, except that ``execute`` hangs before or after its cloud call."""

    def __init__(self, real: Any, gate: Gate, when: str) -> None:
        self.real = real
        self.gate = gate
        self.when = when  # "before_delete" | "after_delete"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self, action: str, ref: Any, restore_point: dict[str, Any]) -> Any:
        if self.when == "before_delete":
            self._hang()
        outcome = self.real.execute(action, ref, restore_point)
        self._hang()
        return outcome

    def _hang(self) -> None:
        self.gate.entered.set()
        # Short waits, so the worker's cancellation can interrupt this thread when it dies.
        while not self.gate.release.wait(0.05):
            pass


def services_for(site: Any, gate: Gate | None = None, when: str = "after_delete") -> Any:
    """Services over the sandbox; with ``gate``, their adapter hangs inside ``execute``."""
    from adapters.aws.sandbox import sandbox_session_factory
    from bot.slack.notifier import SlackChatPort
    from tests.support.slack_fixtures import BOT_TOKEN

    services = fast_services(
        engine=site.engine,
        chat=SlackChatPort(BOT_TOKEN, api_url=site.slack.api_url),
        token_secret=TOKEN_SECRET,
        aws_endpoint_url=site.sandbox.endpoint_url,
        session_factory=sandbox_session_factory(site.sandbox.endpoint_url),
    )
    if gate is not None:
        real_adapter_for = services.adapter_for
        wrapped: dict[str, HangsInExecute] = {}

        def adapter_for(account: Any) -> Any:
            real = real_adapter_for(account)
            return wrapped.setdefault("aws", HangsInExecute(real, gate, when))

        services.adapter_for = adapter_for  # type: ignore[method-assign]
    return services


def calls(services: Any) -> Counter[str]:
    """Every cloud API call the services' adapter made, by operation."""
    adapter = services._adapters.get("aws")
    return adapter.api_calls if adapter is not None else Counter()


def worker(client: Any, services: Any, queue: str) -> Any:
    """A worker with the real workflows and activities and no shutdown grace period."""
    from temporalio.worker import Worker

    from fintropy.runtime import activity_functions, workflow_classes

    return Worker(
        client,
        task_queue=queue,
        workflows=workflow_classes(),
        activities=activity_functions(services),
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=4),
        graceful_shutdown_timeout=timedelta(0),
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    )


class Site:
    """The crash site: a tenant whose findings wait for workflows the test starts itself."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def site(engine, temporal_dev_env, slack_api_server, redteam_sandbox):
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session
    from fintropy.persistence.tenancy import provision_tenant
    from workflows.scan_workflow import ScanInput, ScanWorkflow

    k: Tenant = new_tenant("k")
    spec = tenant_spec(
        k,
        [account(redteam_sandbox.manifest, NONPROD, "eu-west-1")],
        {"kim": ("approver", None)},
    )
    await asyncio.to_thread(provision_tenant, engine, spec)
    here = Site(engine=engine, slack=slack_api_server, sandbox=redteam_sandbox, tenant=k)
    client = temporal_dev_env.client
    scan_queue = f"redteam-scan-{uuid.uuid4().hex[:8]}"
    async with worker(client, services_for(here), scan_queue):
        await asyncio.wait_for(
            client.execute_workflow(
                ScanWorkflow.run,
                ScanInput(
                    k.id, f"scan-{uuid.uuid4().hex[:12]}", "kim", open_finding_workflows=False
                ),
                id=f"redteam-scan-{k.id}",
                task_queue=scan_queue,
            ),
            timeout=120,
        )

    def volumes() -> list[Any]:
        with tenant_session(engine, k.id) as session:
            return [
                f
                for f in repo.list_findings(session, k.id, status="open")
                if f.action == "snapshot_and_delete_volume"
            ]

    here.client = client
    here.volumes = await asyncio.to_thread(volumes)
    yield here


async def _phase(handle: Any, wanted: str, timeout: float = 60) -> None:
    from workflows.finding_workflow import FindingWorkflow

    async def poll() -> None:
        while (await handle.query(FindingWorkflow.state)).phase != wanted:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize("when", ["after_delete", "before_delete"])
async def test_worker_killed_mid_remediation_neither_loses_nor_repeats_the_action(
    site: Site, when: str
):
    from bot.backend_impl import TemporalBackend
    from fintropy import audit
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session
    from workflows.finding_workflow import (
        FindingInput,
        FindingResult,
        FindingWorkflow,
        finding_workflow_id,
    )

    k = site.tenant
    assert site.volumes, "the sandbox has unattached volumes in the non-prod account"
    target = site.volumes.pop(0)
    queue = f"redteam-crash-{uuid.uuid4().hex[:8]}"
    gate = Gate()
    doomed_services, heir_services = services_for(site, gate, when), services_for(site)

    doomed = worker(site.client, doomed_services, queue)
    doomed_run = asyncio.create_task(doomed.run())
    try:
        handle = await site.client.start_workflow(
            FindingWorkflow.run,
            FindingInput(k.id, target.id, approval_timeout_seconds=600),
            id=finding_workflow_id(k.id, target.id),
            task_queue=queue,
            result_type=FindingResult,
        )
        await _phase(handle, "awaiting")
        backend = TemporalBackend(site.engine, site.client, queue)
        actor = await backend.resolve_actor(k.id, "slack", k.team, k.user("kim"))
        decision = await backend.decide(actor, target.id, "approve")
        assert decision.accepted, decision.message
        # The worker hangs inside the step, before anything records its outcome.
        assert await asyncio.to_thread(gate.entered.wait, 60), "execute was never reached"
    finally:
        # The crash: no grace period, the hanging step is abandoned mid-flight.
        doomed_run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(doomed_run, timeout=30)
    with tenant_session(site.engine, k.id) as session:
        status_after_crash = repo.get_finding(session, k.id, target.id).status
        run_id = _run_id(session, k.id, target.id)
        executed_before = repo.get_outcome(session, k.id, run_id, "execute")

    try:
        async with worker(site.client, heir_services, queue):
            result = await asyncio.wait_for(handle.result(), timeout=120)
    finally:
        gate.release.set()

    both = calls(doomed_services) + calls(heir_services)
    with tenant_session(site.engine, k.id) as session:
        runs = repo.runs_for_finding(session, k.id, target.id)
        events = [e.action for e in audit.trail(session, k.id, subject=target.id)]
        point = repo.get_outcome(session, k.id, runs[0].id, "restore_point")
    ec2 = _ec2(site, target)

    assert status_after_crash == "remediating"
    assert executed_before is None, "the first worker died before recording the step"
    assert result.status == "verified", result.outcome
    assert len(runs) == 1
    assert calls(doomed_services)["DeleteVolume"] == (1 if when == "after_delete" else 0)
    assert both["DeleteVolume"] == 1, both
    assert both["CreateSnapshot"] == 1, both
    assert events.count("remediation.executed") == 1
    assert events.count("remediation.verified") == 1
    assert (
        ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [target.resource_id]}])[
            "Volumes"
        ]
        == []
    )
    snapshot_id = point.restore_point["snapshot_id"]
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"


def _run_id(session: Any, tenant_id: str, finding_id: str) -> str:
    from fintropy.persistence import repo

    [run] = repo.runs_for_finding(session, tenant_id, finding_id)
    return run.id


def _ec2(site: Site, finding: Any) -> Any:
    from adapters.aws.sandbox import sandbox_session_factory

    target = account(site.sandbox.manifest, finding.account_id, finding.region)
    session = sandbox_session_factory(site.sandbox.endpoint_url)(target, finding.region)
    return session.client("ec2", endpoint_url=site.sandbox.endpoint_url, region_name=finding.region)
