"""Modal submissions: the reason typed into the Reject modal.

An empty or over-long reason goes back to the modal as a field error (through ``ack``). A good
one closes the modal, and the token carried in the modal's private metadata is verified again
before the rejection goes to the backend; the result is posted ephemerally in the card's
channel.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.commands import CommandError, parse_reason
from bot.slack.context import (
    Origin,
    SlackDeps,
    decide,
    ephemeral_in_channel,
    identify,
    read_reject_metadata,
    require_role,
    verify_button,
)
from bot.views import REASON_ACTION_ID, REASON_BLOCK_ID, REJECT_CALLBACK_ID
from fintropy.domain import Role

WHAT = "reject modal"


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Register the view-submission listener on ``app``."""

    @app.view(REJECT_CALLBACK_ID)
    async def on_reject_reason(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, logger: Any
    ) -> None:
        values = (view.get("state") or {}).get("values") or {}
        raw = ((values.get(REASON_BLOCK_ID) or {}).get(REASON_ACTION_ID) or {}).get("value")
        try:
            reason = parse_reason(str(raw or ""))
        except CommandError as err:
            problem = messages.REASON_EMPTY_MODAL if not str(raw or "").strip() else err.message
            await ack(response_action="errors", errors={REASON_BLOCK_ID: problem})
            return
        await ack()
        token, channel_id, message_ts = read_reject_metadata(str(view.get("private_metadata")))
        origin = Origin.from_interaction(body, channel_id)
        origin = Origin(origin.team_id, origin.channel_id, origin.user_id, message_ts)
        reply = ephemeral_in_channel(client, origin)
        actor = await identify(deps, origin, WHAT, reply)
        if actor is None:
            return
        claims = await verify_button(deps, actor, origin, token, WHAT, reply)
        if claims is None or not await require_role(
            deps, actor, origin, Role.APPROVER, "reject", WHAT, reply
        ):
            return
        await decide(
            deps, actor, claims.finding_id, "reject", origin.source("modal", claims), reply, reason
        )
        logger.info(
            "slack reject submitted",
            extra={"tenant_id": actor.tenant_id, "chat_team_id": origin.team_id},
        )
