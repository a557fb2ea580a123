"""Service entry points: ``fintropy serve`` and the CLI commands that talk to Temporal.

``serve`` writes ``<data_dir>/service.json`` (Temporal address, database URL, sandbox endpoint)
so that ``fintropy scan``, ``approve`` and ``reject`` in another terminal reach the same
Temporal server, worker and sandbox estate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SERVICE_FILE = "service.json"


def provision(engine: Any, specs: list[Any]) -> None:
    """Create or update every configured tenant (idempotent)."""
    from fintropy.persistence import repo

    for spec in specs:
        repo.provision_tenant(engine, spec)


def chat_port(
    settings: Any, console: Any = None, *, full_cards: int | None = None, engine: Any = None
) -> Any:
    """Slack when configured, else Teams when configured, otherwise the console channel."""
    if settings.has_slack:
        from bot.slack.notifier import SlackChatPort

        return SlackChatPort(
            settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url
        )
    import os as _os

    if _os.environ.get("TEAMS_APP_ID") and engine is not None:
        from bot.teams.app import build_teams_chat_port
        from bot.teams.config import TeamsConfig
        from fintropy.persistence.teams import TeamsConversationRepository

        return build_teams_chat_port(
            config=TeamsConfig.from_env(), store=TeamsConversationRepository(engine)
        )
    from bot.console import ConsoleChatPort

    return ConsoleChatPort(settings.console_transcript, console, full_cards=full_cards)


def token_secret(settings: Any) -> bytes:
    """The key that signs card button tokens."""
    return settings.card_token_secret.get_secret_value().encode()


def build_services(
    settings: Any,
    engine: Any,
    aws_endpoint_url: str | None,
    console: Any = None,
    *,
    sandbox: bool = False,
    full_cards: int | None = None,
) -> Any:
    """The activities' dependencies for this process (sandbox: moto's STS and credentials)."""
    from fintropy.runtime import Services

    session_factory = None
    if sandbox and aws_endpoint_url:
        from adapters.aws.sandbox import sandbox_session_factory

        session_factory = sandbox_session_factory(aws_endpoint_url)
    return Services(
        engine=engine,
        chat=chat_port(settings, console, full_cards=full_cards, engine=engine),
        token_secret=token_secret(settings),
        aws_endpoint_url=aws_endpoint_url,
        session_factory=session_factory,
    )


async def start_web(backend: Any, settings: Any, host: str, port: int) -> tuple[Any, int]:
    """Start the HTTP endpoint (Slack at POST /slack/events, GET /healthz)."""
    from aiohttp import web

    from bot.service import build_web_app
    from bot.slack.app import build_slack_app

    if settings.has_slack:
        signing = settings.slack_signing_secret.get_secret_value()
        token = settings.slack_bot_token.get_secret_value()
    else:
        # No Slack app configured: the endpoint still verifies signatures, with a key nobody
        # holds, so every request is refused rather than trusted.
        signing, token = os.urandom(16).hex(), "xoxb-not-configured"
    slack_app = build_slack_app(
        backend,
        signing_secret=signing,
        token=token,
        api_url=settings.slack_api_url,
        token_secret=token_secret(settings),
    )
    from bot.teams.app import build_teams_app
    from bot.teams.config import TeamsConfig
    from fintropy.persistence.teams import TeamsConversationRepository

    # Teams at POST /api/messages: Bot Framework authentication is on whenever TEAMS_APP_ID
    # is set; without it (local runs only) the bot logs a warning at start.
    teams = build_teams_app(
        backend,
        config=TeamsConfig.from_env(),
        token_secret=token_secret(settings),
        store=TeamsConversationRepository(backend.engine),
    )
    runner = web.AppRunner(build_web_app(slack_app, teams_handler=teams.handle))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, bound


async def run_service(settings: Any, *, host: str, port: int) -> None:
    """Run worker, web endpoint and (without cloud credentials) the sandbox until stopped."""
    from rich.console import Console

    from bot.backend_impl import TemporalBackend
    from fintropy.runtime import build_worker
    from fintropy.stack import EmbeddedStack
    from fintropy.tenants import load_tenants

    console = Console()
    async with EmbeddedStack(settings, sandbox=True) as stack:
        info = stack.info
        assert info is not None
        provision(stack.engine, load_tenants())
        services = build_services(
            settings, stack.engine, info.aws_endpoint_url, console, sandbox=info.sandbox is not None
        )
        backend = TemporalBackend(
            stack.engine,
            stack.client,
            settings.task_queue,
            approval_timeout_seconds=int(settings.approval_timeout_hours * 3600),
        )
        runner, bound = await start_web(backend, settings, host, port)
        path = Path(settings.data_dir) / SERVICE_FILE
        path.write_text(
            json.dumps(
                {
                    "temporal_address": info.temporal_address,
                    "database_url": info.database_url,
                    "aws_endpoint_url": info.aws_endpoint_url,
                    "http": f"http://{host}:{bound}",
                    "pid": os.getpid(),
                }
            ),
            encoding="utf-8",
        )
        for line in info.started:
            console.print(f"started {line}")
        console.print(
            f"Fintropy is serving on http://{host}:{bound} (Slack: /slack/events). Ctrl-C stops it."
        )
        stop = asyncio.Event()
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Stop cleanly (worker, web endpoint, embedded Temporal) on a service manager's
            # SIGTERM as on Ctrl-C.
            loop.add_signal_handler(sig, stop.set)
        try:
            async with build_worker(stack.client, services, settings.task_queue):
                await stop.wait()
        finally:
            path.unlink(missing_ok=True)
            await runner.cleanup()


async def _connect(settings: Any) -> tuple[Any, Any]:
    """Connect to the running service's Temporal and database, or explain how to start one."""
    from temporalio.client import Client

    from fintropy.errors import ConfigError
    from fintropy.persistence.db import create_engine_for

    address = settings.temporal_address
    db_url = settings.database_url
    path = Path(settings.data_dir) / SERVICE_FILE
    if not address and path.exists():
        info = json.loads(path.read_text(encoding="utf-8"))
        address, db_url = info["temporal_address"], db_url or info["database_url"]
    if not address:
        raise ConfigError(
            "No Fintropy service is running and TEMPORAL_ADDRESS is not set.",
            "Start `fintropy serve` in another terminal, or set TEMPORAL_ADDRESS.",
        )
    if not db_url:
        from fintropy.persistence.db import resolve_database_url

        db_url = resolve_database_url(settings)
    try:
        client = await Client.connect(address, namespace=settings.temporal_namespace)
    except RuntimeError as err:
        raise ConfigError(
            f"Could not reach Temporal at {address} ({err.__class__.__name__}).",
            "Is `fintropy serve` still running? Check TEMPORAL_ADDRESS.",
        ) from err
    return client, create_engine_for(db_url)


async def run_scan_command(settings: Any, tenant: str, *, as_json: bool) -> int:
    """`fintropy scan`: start a scan on the running service and wait for its result."""
    from fintropy.errors import FinOpsError
    from workflows.scan_workflow import ScanInput, ScanWorkflow

    try:
        client, _engine = await _connect(settings)
    except FinOpsError as err:
        print(f"error: {err}")
        return 2
    scan_id = f"scan-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        ScanWorkflow.run,
        ScanInput(tenant, scan_id, requested_by="cli"),
        id=scan_id,
        task_queue=settings.task_queue,
    )
    from temporalio.service import RPCError

    from fintropy.demo import follow_scan

    try:
        result = await follow_scan(handle, quiet=as_json)
    except RPCError as err:
        print(
            f"error: lost the connection to Temporal while scan {scan_id} ran "
            f"({err.status.name}); it goes on if the service comes back. "
            "Check `fintropy findings` later."
        )
        return 2
    summary = {
        "scan_id": scan_id,
        "resources": result.resource_count,
        "findings": result.finding_count,
        "opened": len(result.opened),
        "unreadable": [vars(e) for e in result.errors],
        "savings_usd_month": result.savings_usd_month,
    }
    print(
        json.dumps(summary, sort_keys=True)
        if as_json
        else f"scan {scan_id}: {result.resource_count} resources, {result.finding_count} findings, "
        f"{len(result.errors)} unreadable, ${result.savings_usd_month:,.2f}/month"
    )
    return 0


async def _cli_actor(settings: Any, tenant: str, person: str) -> tuple[Any, Any] | None:
    """The backend of the running service and the person deciding from the terminal.

    Prints what is wrong and returns None when the service or the person cannot be found.
    """
    from bot.backend_impl import TemporalBackend
    from fintropy.errors import FinOpsError

    try:
        client, engine = await _connect(settings)
    except FinOpsError as err:
        print(f"error: {err}")
        return None
    backend = TemporalBackend(engine, client, settings.task_queue)
    actor = await backend.resolve_actor(tenant, "cli", "local", person)
    if actor is None:
        print(f"error: {person!r} is not a person of tenant {tenant} with a cli identity.")
        return None
    return backend, actor


def _print_result(result: Any, as_json: bool) -> int:
    print(
        json.dumps({"accepted": result.accepted, "message": result.message})
        if as_json
        else result.message
    )
    return 0 if result.accepted else 1


async def run_decision_command(
    settings: Any,
    tenant: str,
    finding_id: str,
    person: str,
    decision: str,
    reason: str,
    *,
    as_json: bool,
    dry_run: bool = False,
) -> int:
    """`fintropy approve|reject`: decide through the same path as a chat click."""
    found = await _cli_actor(settings, tenant, person)
    if found is None:
        return 2
    backend, actor = found
    result = await backend.decide(actor, finding_id, decision, reason, dry_run=dry_run)
    return _print_result(result, as_json)


async def run_restore_command(
    settings: Any, tenant: str, run_id: str, person: str, *, as_json: bool
) -> int:
    """`fintropy restore RUN`: undo a run through the same path as `/fintropy restore`."""
    found = await _cli_actor(settings, tenant, person)
    if found is None:
        return 2
    backend, actor = found
    result = await backend.restore(actor, run_id)
    return _print_result(result, as_json)


async def run_snooze_command(
    settings: Any,
    tenant: str,
    finding_id: str,
    duration: str,
    reason: str,
    person: str,
    *,
    as_json: bool,
    scope: str = "finding",
    value: str | None = None,
) -> int:
    """`fintropy snooze`: the same path as `/fintropy snooze`."""
    found = await _cli_actor(settings, tenant, person)
    if found is None:
        return 2
    backend, actor = found
    if scope not in ("finding", "resource", "tag", "account", "rule"):
        print(f"error: unknown scope {scope!r}; use finding, resource, tag, account or rule.")
        return 2
    if scope != "finding" and not value:
        print(f"error: --scope {scope} needs --value (e.g. --value team=data for a tag).")
        return 2
    result = await backend.snooze(
        actor, finding_id, duration, reason, scope=scope, scope_value=value
    )
    return _print_result(result, as_json)
