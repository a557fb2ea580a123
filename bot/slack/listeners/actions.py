"""Card buttons: Approve, Reject (opens a reason modal) and Details.

Each click is acknowledged at once. The button's value is an opaque token that is verified
(tenant, finding, action) before anything else is read from it; the finding id comes only
from the verified claims. The decision's result is told to the clicker alone; the card itself
is updated by the finding's workflow for everyone who sees it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.backend import Actor
from bot.slack.context import (
    Origin,
    SlackDeps,
    decide,
    ephemeral,
    identify,
    reject_metadata,
    require_role,
    respond_ephemeral,
    verify_button,
)
from bot.tokens import TokenClaims
from bot.views import (
    ACTION_APPROVE,
    ACTION_DETAILS,
    ACTION_REJECT,
    finding_detail_blocks,
    finding_text,
    reject_reason_view,
)
from fintropy.domain import Role


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Register the three button listeners on ``app``."""

    @app.action(ACTION_APPROVE)
    async def on_approve(ack: Any, body: dict[str, Any], respond: Any, logger: Any) -> None:
        await ack()
        checked = await _check_click(deps, body, respond, "approve button", Role.APPROVER)
        if checked is None:
            return
        actor, origin, claims = checked
        await decide(
            deps,
            actor,
            claims.finding_id,
            "approve",
            origin.source("button", claims),
            ephemeral(respond),
        )
        _log(logger, "slack approve clicked", actor, origin)

    @app.action(ACTION_REJECT)
    async def on_reject(
        ack: Any, body: dict[str, Any], respond: Any, client: Any, logger: Any
    ) -> None:
        await ack()
        checked = await _check_click(deps, body, respond, "reject button", Role.APPROVER)
        if checked is None:
            return
        actor, origin, claims = checked
        card = await deps.backend.get_card(actor.tenant_id, claims.finding_id)
        if card is None:
            await ephemeral(respond)(messages.unknown_finding(claims.finding_id))
            return
        token = str(body["actions"][0].get("value") or "")
        view = reject_reason_view(
            finding_title=card.title, private_metadata=reject_metadata(token, origin)
        )
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as err:
            # The trigger id lives 3 seconds and works once; a late or reused one fails here.
            logger.warning(
                "slack reject modal failed",
                extra={"tenant_id": actor.tenant_id, "error": str(err.response.get("error"))},
            )
            await ephemeral(respond)(messages.REJECT_MODAL_FAILED)
            return
        _log(logger, "slack reject modal opened", actor, origin)

    @app.action(ACTION_DETAILS)
    async def on_details(ack: Any, body: dict[str, Any], respond: Any, logger: Any) -> None:
        await ack()
        checked = await _check_click(deps, body, respond, "details button", Role.VIEWER)
        if checked is None:
            return
        actor, origin, claims = checked
        card = await deps.backend.get_card(actor.tenant_id, claims.finding_id)
        if card is None:
            await ephemeral(respond)(messages.unknown_finding(claims.finding_id))
            return
        trail = await deps.backend.audit_trail(actor.tenant_id, claims.finding_id)
        await respond_ephemeral(respond, finding_text(card), finding_detail_blocks(card, trail))
        _log(logger, "slack details shown", actor, origin)


async def _check_click(
    deps: SlackDeps, body: dict[str, Any], respond: Any, what: str, needed: Role
) -> tuple[Actor, Origin, TokenClaims] | None:
    """Tenant, person, token and role for a button click; None once the click is refused."""
    origin = Origin.from_interaction(body)
    reply = ephemeral(respond)
    actor = await identify(deps, origin, what, reply)
    if actor is None:
        return None
    token = str((body.get("actions") or [{}])[0].get("value") or "")
    claims = await verify_button(deps, actor, origin, token, what, reply)
    if claims is None:
        return None
    action = what.split()[0]
    # From here the finding is known (the token verified), so refusals are audited against it.
    what = f"{what} {claims.finding_id}"
    if not await require_role(deps, actor, origin, needed, action, what, reply):
        return None
    return actor, origin, claims


def _log(logger: Any, event: str, actor: Actor, origin: Origin) -> None:
    logger.info(event, extra={"tenant_id": actor.tenant_id, "chat_team_id": origin.team_id})
