"""The ``/fintropy`` slash command.

Acknowledge at once (Slack allows 3 seconds), then: who is asking and from where (refused when
the workspace, channel or user is not bound), parse, check the role, run, and answer
ephemerally through the response_url. Decisions go to the backend, which hands them to the
finding's workflow; the card itself is updated later by the workflow.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.backend import Actor
from bot.commands import (
    ApproveCommand,
    AuditCommand,
    Command,
    CommandError,
    ExceptionsCommand,
    FindingsCommand,
    RejectCommand,
    RestoreCommand,
    ScanCommand,
    ShowCommand,
    SnoozeCommand,
    parse_command,
    required_role,
)
from bot.slack.context import (
    Origin,
    SlackDeps,
    decide,
    ephemeral,
    identify,
    require_role,
    respond_ephemeral,
)
from bot.views import (
    audit_blocks,
    finding_blocks,
    finding_text,
    findings_blocks,
    findings_text,
    help_blocks,
)

COMMAND = messages.COMMAND
FINDINGS_PAGE = 20


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Register the slash-command listener on ``app``."""

    @app.command(COMMAND)
    async def on_fintropy(ack: Any, body: dict[str, Any], respond: Any, logger: Any) -> None:
        await ack()
        origin = Origin.from_command(body)
        reply = ephemeral(respond)
        try:
            command: Command | None = parse_command(str(body.get("text") or ""))
            problem = None
        except CommandError as err:
            command, problem = None, err
        what = f"{COMMAND} {command.name if command else 'malformed'}"
        # Name the finding in what gets audited, so refusals show in the finding's trail.
        target = getattr(command, "finding_id", None) or _named_finding(body)
        if target:
            what = f"{what} {target}"
        actor = await identify(deps, origin, what, reply)
        if actor is None:
            return
        if problem is not None or command is None:
            text = problem.message if problem else messages.all_usage()
            verb = str(body.get("text") or "").split(maxsplit=1)[:1]
            if verb and verb[0].lower() in ("approve", "reject", "restore", "snooze"):
                # A malformed decision is a refused attempt: audit it like any other.
                await deps.backend.record_refusal(
                    actor.tenant_id, "slack", origin.team_id, origin.user_id, what, text
                )
            await reply(text)
            return
        if not await require_role(
            deps, actor, origin, required_role(command), command.name, what, reply
        ):
            return
        await _run(deps, actor, origin, command, respond)
        logger.info(
            "slack command handled",
            extra={
                "tenant_id": actor.tenant_id,
                "chat_team_id": origin.team_id,
                "command": command.name,
            },
        )


def _named_finding(body: dict[str, Any]) -> str | None:
    """The finding id a (possibly malformed) command names, if any."""
    for word in str(body.get("text") or "").split()[1:2]:
        if word.lower().startswith("f-"):
            return word.lower()
    return None


async def _run(
    deps: SlackDeps, actor: Actor, origin: Origin, command: Command, respond: Any
) -> None:
    backend, reply, tenant_id = deps.backend, ephemeral(respond), actor.tenant_id
    if isinstance(command, ScanCommand):
        await reply(messages.scan_started(await backend.start_scan(actor)))
    elif isinstance(command, FindingsCommand):
        found = await backend.list_findings(
            tenant_id,
            provider=command.provider,
            severity=command.severity,
            account=command.account,
            limit=FINDINGS_PAGE,
        )
        await _blocks(respond, findings_blocks(found, limit=FINDINGS_PAGE), findings_text(found))
    elif isinstance(command, ShowCommand):
        card = await backend.get_card(tenant_id, command.finding_id)
        if card is None:
            await reply(messages.unknown_finding(command.finding_id))
        else:
            await _blocks(respond, finding_blocks(card), finding_text(card))
    elif isinstance(command, AuditCommand):
        await _audit(deps, tenant_id, command.finding_id, respond)
    elif isinstance(command, ApproveCommand | RejectCommand):
        await _decide(deps, actor, origin, command, reply)
    elif isinstance(command, RestoreCommand):
        await reply((await backend.restore(actor, command.run_id)).message)
    elif isinstance(command, SnoozeCommand):
        result = await backend.snooze(actor, command.finding_id, command.duration, command.reason)
        await reply(result.message)
    elif isinstance(command, ExceptionsCommand):
        await reply(messages.exceptions_text(await backend.list_exceptions(tenant_id)))
    else:
        await _blocks(respond, help_blocks(), messages.HELP_INTRO)


async def _audit(deps: SlackDeps, tenant_id: str, finding_id: str, respond: Any) -> None:
    trail = await deps.backend.audit_trail(tenant_id, finding_id)
    if not trail and await deps.backend.get_card(tenant_id, finding_id) is None:
        await ephemeral(respond)(messages.unknown_finding(finding_id))
        return
    await _blocks(respond, audit_blocks(finding_id, trail), messages.LABEL_AUDIT)


async def _decide(
    deps: SlackDeps,
    actor: Actor,
    origin: Origin,
    command: ApproveCommand | RejectCommand,
    reply: Any,
) -> None:
    reason = command.reason if isinstance(command, RejectCommand) else ""
    await decide(
        deps, actor, command.finding_id, command.name, origin.source("command"), reply, reason
    )


async def _blocks(respond: Any, blocks: list[dict[str, Any]], text: str) -> None:
    await respond_ephemeral(respond, text, blocks)
