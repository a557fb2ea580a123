"""The bot's HTTP service: Slack's request URL and a health check, on aiohttp.

``POST /slack/events`` takes slash commands and interactivity alike (point both Request URLs
of the Slack app at it); Bolt verifies each request's signature and age before anything runs,
so an unsigned or stale request gets 401 and changes nothing. ``GET /healthz`` answers 200 for
load balancers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
TEAMS_MESSAGES_PATH = "/api/messages"
HEALTH_PATH = "/healthz"


def build_web_app(
    slack_app: AsyncApp | None,
    *,
    events_path: str = SLACK_EVENTS_PATH,
    teams_handler: Callable[[web.Request], Awaitable[web.Response]] | None = None,
) -> web.Application:
    """An aiohttp application serving ``slack_app`` and ``teams_handler`` (when given)."""
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_get(HEALTH_PATH, _health)
    if slack_app is not None:
        web_app.router.add_post(events_path, _slack_handler(slack_app))
    if teams_handler is not None:
        # bot.teams.app.TeamsApp.handle: the Bot Framework messaging endpoint.
        web_app.router.add_post(TEAMS_MESSAGES_PATH, teams_handler)
    return web_app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _slack_handler(slack_app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    async def handle(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await slack_app.async_dispatch(bolt_request)
        if bolt_response.status >= 400:
            logger.info("slack request rejected", extra={"status": bolt_response.status})
        return await to_aiohttp_response(bolt_response)

    return handle
