"""Post and update finding cards in Slack, for the workflow's activities.

Activities run in worker threads, so this uses the synchronous ``WebClient``. Cards come from
the same pure builders the handlers use. A refusal from Slack becomes ``ChatDeliveryError``
with Slack's error code, so the activity can report it; rate-limited calls are retried after
Slack's Retry-After before giving up.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.views import escape_mrkdwn, finding_blocks, finding_text
from fintropy.domain import FindingCard, MessageRef
from fintropy.errors import ChatDeliveryError

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
CHANNEL_KIND = "slack"


class SlackChatPort:
    """``fintropy.ports.ChatPort`` over the Slack Web API."""

    channel_kind = CHANNEL_KIND

    def __init__(self, token: str, api_url: str | None = None, *, max_rate_limit_retries: int = 3):
        self._client = WebClient(
            token=token,
            base_url=api_url or SLACK_API_URL,
            retry_handlers=[
                ConnectionErrorRetryHandler(),
                RateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries),
            ],
        )

    def post_finding_card(self, channel_id: str, card: FindingCard) -> MessageRef:
        """Post the card with chat.postMessage; return its channel and ts."""
        response = self._call(
            "chat.postMessage",
            self._client.chat_postMessage,
            channel=channel_id,
            text=finding_text(card),
            blocks=finding_blocks(card),
            unfurl_links=False,
            unfurl_media=False,
        )
        ref = MessageRef(CHANNEL_KIND, str(response["channel"]), str(response["ts"]))
        logger.info(
            "slack card posted", extra={"tenant_id": card.tenant_id, "finding_id": card.finding_id}
        )
        return ref

    def update_finding_card(self, ref: MessageRef, card: FindingCard) -> None:
        """Replace the posted card in place with chat.update."""
        if ref.channel_kind != CHANNEL_KIND:
            raise ChatDeliveryError(
                f"Cannot update a {ref.channel_kind} card through Slack.",
                "Update it through the chat port of its own platform.",
            )
        self._call(
            "chat.update",
            self._client.chat_update,
            channel=ref.channel_id,
            ts=ref.message_id,
            text=finding_text(card),
            blocks=finding_blocks(card),
        )
        logger.info(
            "slack card updated", extra={"tenant_id": card.tenant_id, "finding_id": card.finding_id}
        )

    def post_notice(self, ref: MessageRef, text: str, mentions: list[str]) -> None:
        """Post a reminder or escalation in the card's thread, mentioning people."""
        if ref.channel_kind != CHANNEL_KIND:
            return
        tagged = " ".join(f"<@{uid}>" for uid in mentions if uid.isalnum())
        self._call(
            "chat.postMessage",
            self._client.chat_postMessage,
            channel=ref.channel_id,
            thread_ts=ref.message_id,
            text=f"{tagged} {escape_mrkdwn(text)}".strip(),
        )
        logger.info("slack notice posted", extra={"count": len(mentions)})

    def _call(self, method: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except SlackApiError as err:
            code = str(err.response.get("error") or err.response.status_code)
            raise ChatDeliveryError(f"Slack refused {method}: {code}.", _remediation(code)) from err
        except OSError as err:
            raise ChatDeliveryError(
                f"Slack could not be reached for {method}: {type(err).__name__}.",
                "Check the network path to the Slack API; the call is retried by the workflow.",
            ) from err


def _remediation(code: str) -> str:
    hints = {
        "channel_not_found": "Check the tenant's Slack channel id and invite the app to it.",
        "not_in_channel": "Invite the Fintropy app to the channel.",
        "invalid_auth": "Check the Slack bot token (it starts with xoxb-).",
        "not_authed": "Set the Slack bot token.",
        "token_revoked": "Reinstall the Slack app and update the bot token.",
        "ratelimited": "Slack is rate limiting this app; the workflow retries later.",
        "message_not_found": "The card was deleted in Slack; a new card is needed.",
        "cant_update_message": "Only the app's own messages can be updated.",
    }
    return hints.get(code, "See Slack's documentation of this error code.")
