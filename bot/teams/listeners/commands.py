"""@mention commands: ``@Fintropy findings``, ``@Fintropy approve f-...`` and the rest.

The same grammar as ``/fintropy`` in Slack (``bot.commands``), the same steps: where from and
who (refused when the tenant, channel or person is not bound), parse, check the role, run, and
answer in the conversation's thread.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import messages
from bot.backend import Actor
from bot.commands import (
    ApproveCommand,
    AuditCommand,
    Command,
    CommandError,
    FindingsCommand,
    RejectCommand,
    ScanCommand,
    ShowCommand,
    parse_command,
    required_role,
)
from bot.teams import text
from bot.teams.context import (
    TeamsDeps,
    identify,
    require_role,
    source,
    submit_decision,
)
from bot.teams.turn import Inbound, Replier, Reply
from bot.views.adaptive import (
    audit_card,
    fallback_text,
    finding_card,
    findings_card,
)
from fintropy.domain import Role

logger = logging.getLogger(__name__)

FINDINGS_PAGE = 20


async def handle_mention(
    deps: TeamsDeps, inbound: Inbound, tenant_id: str | None, replier: Replier
) -> None:
    """Answer one message addressed to the bot."""
    reply = _texts(replier)
    command: Command | None = None
    problem: CommandError | None = None
    try:
        command = parse_command(inbound.text)
    except CommandError as err:
        problem = err
    name = command.name if command else "malformed"
    what = f"@mention {name}"

    actor = await identify(deps, inbound, tenant_id, what, reply)
    if actor is None:
        return
    if problem is not None or command is None:
        await reply(problem.message if problem else messages.all_usage())
        return
    if not await require_role(
        deps, actor, inbound, required_role(command), command.name, what, reply
    ):
        return

    await _run(deps, actor, inbound, command, replier)
    logger.info(
        "teams command handled",
        extra={
            "tenant_id": actor.tenant_id,
            "chat_team_id": inbound.teams_tenant_id,
            "command": command.name,
        },
    )


async def _run(
    deps: TeamsDeps, actor: Actor, inbound: Inbound, command: Command, replier: Replier
) -> None:
    backend, reply, tenant_id = deps.backend, _texts(replier), actor.tenant_id
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
        header = messages.findings_header(len(found))
        await replier.send_card(findings_card(found, limit=FINDINGS_PAGE), header)
    elif isinstance(command, ShowCommand):
        card = await backend.get_card(tenant_id, command.finding_id)
        if card is None:
            await reply(messages.unknown_finding(command.finding_id))
            return
        can_decide = actor.role.at_least(Role.APPROVER)
        await replier.send_card(
            finding_card(card, viewer_can_decide=can_decide), fallback_text(card)
        )
    elif isinstance(command, AuditCommand):
        await _audit(deps, tenant_id, command.finding_id, replier)
    elif isinstance(command, ApproveCommand | RejectCommand):
        reason = command.reason if isinstance(command, RejectCommand) else ""
        _, said = await submit_decision(
            deps, actor, command.finding_id, command.name, source(inbound, "command"), reason
        )
        await _untrusted(replier)(said)
    elif command.name == "restore":
        await _restore(deps, actor, command, replier)
    elif command.name == "snooze":
        result = await backend.snooze(actor, command.finding_id, command.duration, command.reason)
        await _untrusted(replier)(result.message)
    elif command.name == "exceptions":
        await reply(messages.exceptions_text(await backend.list_exceptions(tenant_id)))
    else:
        await reply(messages.help_text())


async def _audit(deps: TeamsDeps, tenant_id: str, finding_id: str, replier: Replier) -> None:
    trail = await deps.backend.audit_trail(tenant_id, finding_id)
    if not trail and await deps.backend.get_card(tenant_id, finding_id) is None:
        await _texts(replier)(messages.unknown_finding(finding_id))
        return
    await replier.send_card(audit_card(finding_id, trail), messages.LABEL_AUDIT)


async def _restore(deps: TeamsDeps, actor: Actor, command: Any, replier: Replier) -> None:
    # Undoing a run arrived in the shared grammar after the Teams bot; the backend decides.
    result = await deps.backend.restore(actor, command.run_id)  # type: ignore[attr-defined]
    said = result.message if result.accepted else messages.decision_failed(result.message)
    await _untrusted(replier)(said)


def _texts(replier: Replier) -> Reply:
    async def send(message: str) -> None:
        await replier.send_text(text.catalogue(message))

    return send


def _untrusted(replier: Replier) -> Reply:
    async def send(message: str) -> None:
        await replier.send_text(text.untrusted(message))

    return send
