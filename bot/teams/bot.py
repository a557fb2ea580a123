"""``TeamsBot``: Fintropy's ``TurnHandler``, routing each activity to its listener.

A message also refreshes the stored conversation reference of its channel (when bound), so a
channel where the bot was installed before Fintropy stored references still becomes
reachable the first time someone mentions the bot there.
"""

from __future__ import annotations

from bot import messages
from bot.teams import text
from bot.teams.context import TeamsDeps, remember_conversation, resolve_tenant
from bot.teams.listeners.cards import handle_card_action
from bot.teams.listeners.commands import handle_mention
from bot.teams.listeners.installs import handle_installed
from bot.teams.turn import CardActionReply, Inbound, Replier


class TeamsBot:
    """Implements ``bot.teams.turn.TurnHandler`` over the shared ``Backend``."""

    def __init__(self, deps: TeamsDeps) -> None:
        self._deps = deps

    async def on_message(self, inbound: Inbound, reply: Replier) -> None:
        """An @mention (channel, group chat) or a message in the personal chat."""
        tenant_id = await resolve_tenant(self._deps, inbound)
        if tenant_id is not None:
            await remember_conversation(self._deps, tenant_id, inbound)
        await handle_mention(self._deps, inbound, tenant_id, reply)

    async def on_card_action(self, inbound: Inbound) -> CardActionReply:
        """An ``Action.Execute`` click or a card refresh."""
        return await handle_card_action(self._deps, inbound)

    async def on_installed(self, inbound: Inbound) -> None:
        """The app was installed, or the bot added to a conversation."""
        await handle_installed(self._deps, inbound)

    def failure_text(self, correlation_id: str) -> str:
        """The catalogue's apology, with the correlation id the log carries."""
        return text.catalogue(messages.internal_error(correlation_id))
