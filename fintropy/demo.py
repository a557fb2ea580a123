"""``fintropy demo``: the whole product on a sandbox estate, on one machine, in a few minutes.

It starts the embedded stack (PostgreSQL, the Temporal dev server, the worker, the bot's HTTP
service, a moto server seeded with a two-account, two-region estate), scans it with a progress
bar, posts finding cards to the console channel (or Slack when configured), approves one
destructive and one non-destructive finding through the same decision path a chat click takes,
lets the workflows remediate and verify, reads the estate back, and prints the audit trail.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

DEMO_TENANT = "demo"
APPROVER = "alice"


async def follow_scan(handle: Any, *, quiet: bool = False) -> Any:
    """Draw a progress bar from the scan workflow's ``progress`` query until it finishes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from workflows.scan_workflow import ScanWorkflow

    result_task = asyncio.ensure_future(handle.result())
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        disable=quiet,
        transient=False,
    ) as bar:
        task = bar.add_task("scanning accounts and regions", total=None)
        while not result_task.done():
            try:
                p = await handle.query(ScanWorkflow.progress)
                bar.update(
                    task,
                    total=p.targets_total or None,
                    completed=p.targets_done,
                    description=f"scan: {p.phase}",
                )
            except Exception:  # noqa: BLE001 - a query can race the workflow's start; retry
                pass
            await asyncio.wait({result_task}, timeout=0.3)
        bar.update(task, description="scan: done")
    return result_task.result()


def print_audit(rows: list[dict[str, Any]], title: str = "Audit trail") -> None:
    """Print audit rows as a table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("seq", "at", "actor", "action", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        details = r.get("details") or {}
        detail = details.get("detail") or details.get("reason") or details.get("status") or ""
        actor = r["actor"] + (f" ({r['actor_chat']})" if r.get("actor_chat") else "")
        table.add_row(str(r["seq"]), r["at"][11:19], actor, r["action"], str(detail))
    Console().print(table)


async def _wait_awaiting(client: Any, workflow_ids: list[str], timeout: float = 60) -> None:
    """Wait until every finding workflow has posted its card and awaits a decision."""
    from workflows.finding_workflow import FindingWorkflow

    deadline = time.monotonic() + timeout
    pending = set(workflow_ids)
    while pending and time.monotonic() < deadline:
        for wf_id in sorted(pending):
            try:
                state = await client.get_workflow_handle(wf_id).query(FindingWorkflow.state)
            except Exception:  # noqa: BLE001 - not started yet; look again
                continue
            if state.phase != "starting":
                pending.discard(wf_id)
        await asyncio.sleep(0.2)
    if pending:
        raise RuntimeError(f"{len(pending)} finding workflows did not post their cards in time")


def _pick(findings: list[Any], destructive: bool) -> Any:
    from fintropy.domain import ACTIONS

    preferred = (
        ("snapshot_and_delete_volume",)
        if destructive
        else ("modify_volume_to_gp3", "stop_instance")
    )
    for action in preferred:
        for f in findings:
            spec = ACTIONS.get(f.action or "")
            if f.action == action and spec and spec.destructive == destructive:
                return f
    raise RuntimeError(
        f"the sandbox produced no {'destructive' if destructive else 'reversible'} "
        "finding a single approver may approve"
    )


async def run_demo(settings: Any, *, fresh: bool = True) -> dict[str, Any]:
    """Run the demo end to end and return its summary (printed as the last line)."""
    from rich.console import Console
    from rich.rule import Rule

    from bot.backend_impl import TemporalBackend
    from fintropy import audit
    from fintropy.domain import FindingStatus, ResourceRef
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session
    from fintropy.runtime import build_worker
    from fintropy.service import build_services, provision, start_web
    from fintropy.stack import EmbeddedStack
    from fintropy.tenants import load_tenants
    from workflows.finding_workflow import FindingResult, finding_workflow_id
    from workflows.scan_workflow import ScanInput, ScanWorkflow

    console = Console()
    console.print(Rule("Fintropy demo"))
    started_at = time.monotonic()
    # The demo keeps its own Temporal history file, so it never touches a running `serve`'s.
    async with EmbeddedStack(
        settings, sandbox=True, fresh_temporal=fresh, temporal_db_name="temporal-demo.db"
    ) as stack:
        info = stack.info
        assert info is not None
        for line in info.started:
            console.print(f"  started {line}")
        provision(stack.engine, load_tenants())
        with tenant_session(stack.engine, DEMO_TENANT) as session:
            first_seq = audit.last_seq(session, DEMO_TENANT)
        services = build_services(
            settings, stack.engine, info.aws_endpoint_url, console, sandbox=True, full_cards=2
        )
        task_queue = f"{settings.task_queue}-demo-{uuid.uuid4().hex[:6]}"
        backend = TemporalBackend(stack.engine, stack.client, task_queue)
        runner, port = await start_web(backend, settings, "127.0.0.1", 0)
        console.print(f"  started bot service on http://127.0.0.1:{port} (POST /slack/events)")
        try:
            async with build_worker(stack.client, services, task_queue):
                console.print(Rule("Scan"))
                scan_id = f"scan-{uuid.uuid4().hex[:12]}"
                handle = await stack.client.start_workflow(
                    ScanWorkflow.run,
                    ScanInput(DEMO_TENANT, scan_id, requested_by=APPROVER),
                    id=scan_id,
                    task_queue=task_queue,
                )
                scan = await follow_scan(handle)
                console.print(
                    f"  {scan.resource_count} resources, {scan.finding_count} findings, "
                    f"{len(scan.finding_workflows)} cards, "
                    f"${scan.savings_usd_month:,.2f}/month potential savings"
                )
                for e in scan.errors:
                    console.print(
                        f"  could not read {e.account_id}/{e.region}/{e.service}: {e.code}",
                        markup=False,
                    )
                await _wait_awaiting(stack.client, scan.finding_workflows)

                with tenant_session(stack.engine, DEMO_TENANT) as session:
                    awaiting = repo.list_findings(
                        session, DEMO_TENANT, status=FindingStatus.AWAITING_APPROVAL.value
                    )
                    accounts = {a.account_id: a for a in repo.list_accounts(session, DEMO_TENANT)}
                # One approver suffices outside production; pick from the non-prod account.
                nonprod = [f for f in awaiting if accounts[f.account_id].environment != "prod"]
                chosen = [_pick(nonprod, destructive=True), _pick(nonprod, destructive=False)]

                console.print(Rule("Approvals"))
                actor = await backend.resolve_actor(DEMO_TENANT, "slack", "TDEMO", "UALICE")
                assert actor is not None
                second = await backend.resolve_actor(DEMO_TENANT, "slack", "TDEMO", "UBOB")
                assert second is not None
                for f in chosen:
                    for approver in (actor, second):
                        result = await backend.decide(
                            approver, f.id, "approve", source={"demo": True}
                        )
                        console.print(
                            f"  {approver.display_name} approved {f.id} ({f.title}): "
                            f"{result.message}",
                            markup=False,
                        )
                        if not result.accepted:
                            raise RuntimeError(f"approval of {f.id} was refused: {result.message}")
                        if "another approver is needed" not in result.message:
                            break  # enough approvals; a production change needs two people

                console.print(Rule("Remediation"))
                outcomes = []
                for f in chosen:
                    res = await stack.client.get_workflow_handle(
                        finding_workflow_id(DEMO_TENANT, f.id), result_type=FindingResult
                    ).result()
                    outcomes.append(res)
                    console.print(f"  {f.id}: {res.status}: {res.outcome}", markup=False)

                console.print(Rule("Reading the estate back"))
                verified_again = 0
                for f, res in zip(chosen, outcomes, strict=True):
                    with tenant_session(stack.engine, DEMO_TENANT) as session:
                        point = repo.get_outcome(session, DEMO_TENANT, res.run_id, "restore_point")
                    ref = ResourceRef(
                        f.provider, f.account_id, f.region, f.resource_type, f.resource_id
                    )
                    check = services.adapter_for(accounts[f.account_id]).verify(
                        f.action, ref, dict(point.restore_point) if point else {}
                    )
                    verified_again += check.status == "succeeded"
                    console.print(
                        f"  {f.resource_id}: {check.status}: {check.detail}", markup=False
                    )

                console.print(Rule("Audit trail"))
                for f in chosen:
                    with tenant_session(stack.engine, DEMO_TENANT) as session:
                        events = audit.trail(session, DEMO_TENANT, subject=f.id)
                        rows = [
                            {
                                "seq": e.seq,
                                "at": e.at.isoformat(),
                                "actor": e.actor,
                                "actor_chat": e.actor_chat,
                                "action": e.action,
                                "details": e.details,
                            }
                            for e in events
                        ]
                    print_audit(rows, title=f"{f.id}: {f.title}")
                with tenant_session(stack.engine, DEMO_TENANT) as session:
                    audit_events = audit.last_seq(session, DEMO_TENANT) - first_seq
                    chain = audit.verify_chain(session, DEMO_TENANT)
                state = "intact" if chain.ok else "BROKEN"
                console.print(
                    f"  audit ledger of the tenant, all runs: {state} ({chain.checked} events; "
                    f"{audit_events} from this run)"
                )
        finally:
            await runner.cleanup()
    remediated = sum(1 for r in outcomes if r.status in ("remediated", "verified"))
    verified = min(sum(1 for r in outcomes if r.status == "verified"), verified_again)
    console.print(
        f"  demo finished in {time.monotonic() - started_at:.1f} s; transcript: "
        f"{settings.console_transcript}",
        markup=False,
    )
    return {
        "findings": scan.finding_count,
        "remediated": remediated,
        "verified": verified,
        "audit_events": audit_events,
        "savings_usd_month": round(scan.savings_usd_month, 2),
        "resources": scan.resource_count,
        "unreadable": len(scan.errors),
        "audit_chain_ok": chain.ok,
    }
