"""The ``fintropy`` command line.

Start-up stays fast (``fintropy --help`` imports no cloud SDK, Temporal or database driver):
every command imports what it needs inside its body. Listing commands take ``--json``.
Commands that talk to Temporal end the process with ``os._exit`` after flushing, which avoids
temporalio's interpreter-shutdown abort (sdk-python #300).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any

import typer

app = typer.Typer(
    name="fintropy",
    help="Find cloud waste, approve fixes in chat, remediate through Temporal, audit every step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: rendering help through rich costs ~0.3 s of imports on every call.
    rich_markup_mode=None,
)

TenantOpt = typer.Option("demo", "--tenant", "-t", help="Tenant id.")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _mount_subcommands() -> None:
    from fintropy.commands.rules import app as rules_app

    app.add_typer(rules_app, name="rules", help="List, show and explain the rule catalogue.")


def _exit_hard(code: int) -> None:
    # temporalio's runtime threads can abort the interpreter during finalisation; leave first.
    # os._exit skips atexit, so stop an embedded PostgreSQL this process started ourselves.
    if "fintropy.persistence.db" in sys.modules:
        from fintropy.persistence.db import stop_embedded_server

        stop_embedded_server()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_finding_id(finding_id: str) -> None:
    import re

    if not re.fullmatch(r"f-[0-9a-f]{12}", finding_id):
        _fail(
            f"{finding_id!r} is not a finding id.",
            "Finding ids look like f-1a2b3c4d5e6f; `fintropy findings` lists them.",
        )


def _fail(message: str, remediation: str = "") -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message} {remediation}".rstrip())
    raise typer.Exit(2)


def _settings() -> Any:
    from fintropy.settings import get_settings

    return get_settings()


def _engine() -> Any:
    from fintropy.persistence.db import create_engine_for, resolve_database_url
    from fintropy.persistence.migrate import upgrade

    url = resolve_database_url(_settings())
    upgrade(url)
    return create_engine_for(url)


@app.command()
def demo(
    fresh: bool = typer.Option(True, help="Start the demo's Temporal history from scratch."),
) -> None:
    """Run the whole product on a sandbox estate: scan, cards, approvals, remediation, audit."""
    from fintropy.demo import run_demo

    code = 0
    try:
        summary = asyncio.run(run_demo(_settings(), fresh=fresh))
        print(json.dumps(summary, sort_keys=True))
    except Exception as err:  # noqa: BLE001 - the CLI is a boundary: explain, then exit non-zero
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]demo failed:[/] {err}")
        code = 1
    _exit_hard(code)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address for the HTTP endpoint."),
    port: int = typer.Option(3000, help="Port for the HTTP endpoint (Slack: POST /slack/events)."),
) -> None:
    """Run the long-lived service: worker plus the Slack endpoint (and the sandbox if no cloud)."""
    from fintropy.service import run_service

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_service(_settings(), host=host, port=port))
    _exit_hard(0)


@app.command()
def scan(tenant: str = TenantOpt, as_json: bool = JsonOpt) -> None:
    """Scan the tenant's accounts now (needs a running `fintropy serve` or TEMPORAL_ADDRESS)."""
    from fintropy.service import run_scan_command

    code = asyncio.run(run_scan_command(_settings(), tenant, as_json=as_json))
    _exit_hard(code)


@app.command()
def findings(
    tenant: str = TenantOpt,
    provider: str | None = typer.Option(None, help="Only this provider (aws, azure, ...)."),
    severity: str | None = typer.Option(None, help="Only this severity (low ... critical)."),
    account: str | None = typer.Option(None, help="Only this account id."),
    status: str | None = typer.Option(None, help="Only this status (default: open ones)."),
    as_json: bool = JsonOpt,
) -> None:
    """List findings, largest savings first."""
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    engine = _engine()
    with tenant_session(engine, tenant) as session:
        try:
            rows = repo.list_findings(
                session,
                tenant,
                provider=provider,
                severity=severity,
                account=account,
                status=status,
                open_only=status is None,
            )
        except ValueError as err:
            _fail(f"{err}.", "Fix the --status or --severity value.")
        data = [repo.finding_as_dict(f) for f in rows]
    data.sort(key=lambda d: (-d["savings_usd_month"], d["id"]))
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Findings for {tenant} ({len(data)})")
    for col in ("id", "rule", "severity", "status", "resource", "$/month"):
        table.add_column(col, overflow="fold")
    for d in data:
        table.add_row(
            d["id"],
            d["rule_id"],
            d["severity"],
            d["status"],
            d["resource_label"],
            f"{d['savings_usd_month']:.2f}",
        )
    Console().print(table)


@app.command()
def show(finding_id: str, tenant: str = TenantOpt, as_json: bool = JsonOpt) -> None:
    """Show one finding with its explanation, evidence and savings formula."""
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    _check_finding_id(finding_id)
    engine = _engine()
    with tenant_session(engine, tenant) as session:
        f = repo.get_finding(session, tenant, finding_id)
        data = repo.finding_as_dict(f) if f else None
    if data is None:
        _fail(f"No finding {finding_id} in tenant {tenant}.", "List them with `fintropy findings`.")
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{data['title']}[/] ({data['severity']}, {data['status']})")
    console.print(data["resource_label"], markup=False)
    console.print(data["explanation"], markup=False)
    console.print(
        f"Savings: ${data['savings_usd_month']:.2f}/month = {data['savings_formula']}"
        f" ({data['price_basis']} price)",
        markup=False,
    )
    console.print(
        f"Rule {data['rule_id']} v{data['rule_version']}; action: "
        f"{data['action'] or 'advice only'}",
        markup=False,
    )


def _decide(
    tenant: str,
    finding_id: str,
    person: str,
    decision: str,
    reason: str,
    as_json: bool,
    dry_run: bool = False,
) -> None:
    from fintropy.service import run_decision_command

    code = asyncio.run(
        run_decision_command(
            _settings(),
            tenant,
            finding_id,
            person,
            decision,
            reason,
            as_json=as_json,
            dry_run=dry_run,
        )
    )
    _exit_hard(code)


@app.command()
def approve(
    finding_id: str,
    person: str = typer.Option(..., "--as", help="Your person id in the tenant (e.g. alice)."),
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only plan: say what would be done; change nothing."
    ),
) -> None:
    """Approve a finding's remediation (same rules as a chat click)."""
    _decide(tenant, finding_id, person, "approve", "", as_json, dry_run)


@app.command()
def reject(
    finding_id: str,
    reason: list[str] = typer.Argument(..., help="Why it is rejected."),
    person: str = typer.Option(..., "--as", help="Your person id in the tenant (e.g. alice)."),
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Reject a finding's remediation, with a reason."""
    _decide(tenant, finding_id, person, "reject", " ".join(reason), as_json)


@app.command()
def restore(
    run_id: str = typer.Argument(..., help="The remediation run to undo (from the audit trail)."),
    person: str = typer.Option(..., "--as", help="Your person id in the tenant (e.g. alice)."),
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Undo a remediation run from the restore point it recorded (approvers only)."""
    from fintropy.service import run_restore_command

    code = asyncio.run(run_restore_command(_settings(), tenant, run_id, person, as_json=as_json))
    _exit_hard(code)


@app.command()
def snooze(
    finding_id: str,
    duration: str = typer.Argument(..., help="How long: 30d, 12h, 90m or 45s."),
    reason: list[str] = typer.Argument(..., help="Why it is snoozed."),
    person: str = typer.Option(..., "--as", help="Your person id in the tenant (e.g. alice)."),
    scope: str = typer.Option(
        "finding", help="What the exception covers: finding, resource, tag, account or rule."
    ),
    value: str | None = typer.Option(
        None,
        help="The resource id, tag (key=value), account id or rule id; default: the finding's own.",
    ),
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Snooze a finding (or its resource, a tag, an account, a rule) until the duration ends."""
    from fintropy.service import run_snooze_command

    code = asyncio.run(
        run_snooze_command(
            _settings(),
            tenant,
            finding_id,
            duration,
            " ".join(reason),
            person,
            as_json=as_json,
            scope=scope,
            value=value,
        )
    )
    _exit_hard(code)


@app.command()
def exceptions(tenant: str = TenantOpt, as_json: bool = JsonOpt) -> None:
    """List active exceptions (snoozes), soonest expiry first."""
    from datetime import UTC, datetime

    from fintropy.persistence import exceptions as store
    from fintropy.persistence.db import tenant_session

    with tenant_session(_engine(), tenant) as session:
        rows = [
            {
                "id": e.id,
                "scope": e.scope,
                "scope_value": e.scope_value,
                "owner": e.owner,
                "reason": e.reason,
                "expires_at": e.expires_at.isoformat(timespec="minutes"),
            }
            for e in store.list_exceptions(session, tenant, active_at=datetime.now(UTC))
        ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from bot.messages import exceptions_text

    print(exceptions_text(rows))


@app.command()
def audit(
    target: str = typer.Argument(..., help="A finding id, `verify`, or `export`."),
    tenant: str = TenantOpt,
    fmt: str = typer.Option("json", "--format", help="With export: csv or json."),
    as_json: bool = JsonOpt,
) -> None:
    """Print a finding's audit trail; `audit verify` checks the chain; `audit export` dumps it."""
    from fintropy import audit as ledger
    from fintropy.persistence.db import tenant_session

    engine = _engine()
    if target not in ("verify", "export"):
        _check_finding_id(target)
    if target == "verify":
        with tenant_session(engine, tenant) as session:
            result = ledger.verify_chain(session, tenant)
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": result.ok,
                        "checked": result.checked,
                        "first_bad_seq": result.first_bad_seq,
                        "reason": result.reason,
                    }
                )
            )
        else:
            state = "intact" if result.ok else f"BROKEN at seq {result.first_bad_seq}"
            print(
                f"audit chain for {tenant}: {state} ({result.checked} events checked) "
                f"{result.reason}".rstrip()
            )
        raise typer.Exit(0 if result.ok else 1)
    if target == "export":
        if fmt not in ("csv", "json"):
            _fail(f"Unknown export format {fmt!r}.", "Use --format csv or --format json.")
        with tenant_session(engine, tenant) as session:
            print(ledger.export(session, tenant, fmt=fmt))
        return
    with tenant_session(engine, tenant) as session:
        events = ledger.trail(session, tenant, subject=target)
        rows = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(timespec="seconds"),
                "actor": e.actor,
                "actor_chat": e.actor_chat,
                "action": e.action,
                "subject": e.subject,
                "rule_id": e.rule_id,
                "rule_version": e.rule_version,
                "workflow_id": e.workflow_id,
                "details": e.details,
            }
            for e in events
        ]
    if not rows:
        _fail(
            f"No audit events for {target} in tenant {tenant}.",
            "Pass a finding id from `fintropy findings`, or `verify` / `export`.",
        )
    if as_json:
        print(json.dumps(rows, indent=2, sort_keys=True, default=str))
        return
    from fintropy.demo import print_audit

    print_audit(rows)


def main() -> None:
    """Entry point of the ``fintropy`` script."""
    _mount_subcommands()
    app()


if __name__ == "__main__":
    main()
