"""Installations: remember where the bot may post when it is added to a team or chat.

Teams sends ``installationUpdate`` (action ``add``) when the app is installed and
``conversationUpdate`` with the bot among ``membersAdded`` when it joins a conversation. When
the Entra tenant and channel are bound to a Fintropy tenant, the conversation reference is
stored, so ``TeamsChatPort`` can post cards there; from an unbound place nothing is stored and
nothing is said (an installation is not a request anyone waits on), but it is logged.
"""

from __future__ import annotations

import logging

from bot.teams.context import TeamsDeps, remember_conversation, resolve_tenant
from bot.teams.turn import Inbound

logger = logging.getLogger(__name__)


async def handle_installed(deps: TeamsDeps, inbound: Inbound) -> None:
    """Store the conversation reference of a bound channel or chat the bot was added to."""
    tenant_id = await resolve_tenant(deps, inbound)
    if tenant_id is None:
        logger.warning(
            "teams installed in unbound conversation",
            extra={"chat_team_id": inbound.teams_tenant_id, "channel_id": inbound.channel_id},
        )
        return
    await remember_conversation(deps, tenant_id, inbound)
    logger.info(
        "teams installed",
        extra={"tenant_id": tenant_id, "chat_team_id": inbound.teams_tenant_id},
    )
