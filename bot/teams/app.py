"""Build the Teams bot: configuration, handlers, the Bot Framework seam, the chat port.

No handler logic lives here. ``build_teams_app`` wires the shared ``Backend`` into ``TeamsBot``
behind the seam and returns a ``TeamsApp`` whose ``handle`` is the aiohttp handler for
``POST /api/messages`` (mount it with ``bot.service.build_web_app(..., teams_handler=...)``)
and whose ``chat_port`` posts finding cards for the workflow's activities. A worker process
that only posts cards uses ``build_teams_chat_port``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from bot.backend import Backend
from bot.teams.bot import TeamsBot
from bot.teams.chat_port import TeamsChatPort
from bot.teams.config import ENV_APP_ID, TeamsConfig
from bot.teams.context import TeamsDeps
from bot.teams.seam import DEFAULT_RETRY_DELAYS, BotFrameworkSeam
from bot.teams.store import ConversationStore

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


@dataclass(frozen=True)
class TeamsApp:
    """The built Teams bot."""

    config: TeamsConfig
    seam: BotFrameworkSeam
    bot: TeamsBot
    store: ConversationStore

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for ``POST /api/messages``."""
        return await self.seam.handle_request(request)

    def chat_port(
        self, *, approver_ids_for: Callable[[str], Sequence[str]] | None = None
    ) -> TeamsChatPort:
        """A ``ChatPort`` posting through this bot's identity and conversation store."""
        return TeamsChatPort(self.seam, self.store, approver_ids_for=approver_ids_for)


def build_teams_app(
    backend: Backend,
    *,
    config: TeamsConfig,
    token_secret: bytes,
    store: ConversationStore,
    openid_metadata_url: str | None = None,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
) -> TeamsApp:
    """The Fintropy Teams bot over ``backend``.

    ``token_secret`` verifies the cards' tokens (the same secret that signs them);
    ``store`` keeps conversation references; ``openid_metadata_url`` and ``retry_delays`` are
    passed to ``BotFrameworkSeam``.
    """
    if not token_secret:
        raise ValueError("the button token secret is empty; configure a random secret")
    if not config.auth_enabled:
        logger.warning(
            "teams authentication disabled",
            extra={"reason": f"{ENV_APP_ID} is not set; accept this for local runs only"},
        )
    bot = TeamsBot(TeamsDeps(backend=backend, token_secret=token_secret, store=store))
    seam = BotFrameworkSeam(
        config, bot, openid_metadata_url=openid_metadata_url, retry_delays=retry_delays
    )
    return TeamsApp(config=config, seam=seam, bot=bot, store=store)


def build_teams_chat_port(
    *,
    config: TeamsConfig,
    store: ConversationStore,
    approver_ids_for: Callable[[str], Sequence[str]] | None = None,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
) -> TeamsChatPort:
    """A ``ChatPort`` for a process that posts cards but serves no ``/api/messages`` (workers)."""
    seam = BotFrameworkSeam(config, None, retry_delays=retry_delays)
    return TeamsChatPort(seam, store, approver_ids_for=approver_ids_for)
