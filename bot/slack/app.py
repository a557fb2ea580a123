"""Build the Bolt app: HTTP mode, signed requests only, listeners and one error handler.

No handler logic lives here. The app verifies every request's signature and timestamp (Bolt
answers 401 to unsigned, forged or stale requests before any listener runs), talks to the Web
API through an ``AsyncWebClient`` whose base URL can point at a local server in tests, and
retries rate-limited calls.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.backend import Backend
from bot.slack.context import SlackDeps
from bot.slack.listeners import actions, commands, views
from bot.views.text import escape_mrkdwn

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"


def build_slack_app(
    backend: Backend,
    *,
    signing_secret: str,
    token: str,
    api_url: str | None,
    token_secret: bytes,
) -> AsyncApp:
    """The Fintropy Slack app over ``backend``.

    ``api_url`` overrides the Web API base URL (tests point it at a recording server);
    ``token_secret`` signs and verifies the cards' button tokens.
    """
    if not signing_secret:
        raise ValueError("the Slack signing secret is empty; set it from the app's settings")
    if not token_secret:
        raise ValueError("the button token secret is empty; configure a random secret")
    client = AsyncWebClient(
        token=token,
        base_url=api_url or SLACK_API_URL,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )
    # A client passed with its token makes Bolt authorise as that single workspace; the
    # auth.test it needs happens lazily on the first request, never at construction.
    app = AsyncApp(
        name="fintropy",
        signing_secret=signing_secret,
        client=client,
        request_verification_enabled=True,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    deps = SlackDeps(backend=backend, token_secret=token_secret)
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    app.error(_on_error)
    return app


async def _on_error(error: Exception, body: dict[str, Any], respond: Any, logger: Any) -> None:
    """The boundary: log the failure with a correlation id and tell the person it failed."""
    correlation_id = uuid.uuid4().hex[:12]
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    # Bolt calls this from its own except block; exc_info=error logs the traceback either way.
    logger.error(
        "slack listener failed",
        exc_info=error,
        extra={
            "correlation_id": correlation_id,
            "chat_team_id": team,
            "request_type": body.get("type") or "slash_command",
        },
    )
    if respond is None:
        return
    try:
        await respond(
            text=escape_mrkdwn(messages.internal_error(correlation_id)),
            response_type="ephemeral",
            replace_original=False,
        )
    except Exception:  # the error handler is the last boundary; never raise from it
        logger.warning("slack error reply failed", extra={"correlation_id": correlation_id})
