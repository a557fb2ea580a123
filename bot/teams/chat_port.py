"""Post and update finding cards in Microsoft Teams channels, for the workflow's activities.

``TeamsChatPort`` implements ``fintropy.ports.ChatPort`` with ``channel_kind = "teams"``. A
channel is reachable once the bot has stored its conversation reference (installed there, or
mentioned there once); the card goes out through that reference and is later replaced in place
by its activity id. Activities call the port from worker threads, so each call runs the async
send on an event loop of its own.

Who sees the buttons: with ``approver_ids_for`` (Teams user ids of the tenant's approvers, as
in the ``from.id`` of their activities), the posted card shows everyone the status and asks
Teams to refresh it into the approver's view for those users. Without it, the posted card
shows the buttons to everyone, as in Slack, and the bot refuses (and audits) clicks by people
who are not approvers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from bot.teams.store import ConversationStore
from bot.teams.turn import ProactiveSender
from bot.views.adaptive import MAX_CARD_BYTES, card_bytes, fallback_text, finding_card
from fintropy.domain import FindingCard, MessageRef
from fintropy.errors import ChatDeliveryError

logger = logging.getLogger(__name__)

CHANNEL_KIND = "teams"
T = TypeVar("T")


class TeamsChatPort:
    """``fintropy.ports.ChatPort`` over Teams proactive messaging."""

    channel_kind = CHANNEL_KIND

    def __init__(
        self,
        sender: ProactiveSender,
        store: ConversationStore,
        *,
        approver_ids_for: Callable[[str], Sequence[str]] | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._sender = sender
        self._store = store
        self._approver_ids_for = approver_ids_for
        self._timeout = timeout_seconds

    def post_finding_card(self, channel_id: str, card: FindingCard) -> MessageRef:
        """Post the card to the channel; return its channel and activity id."""
        reference = self._reference(card.tenant_id, channel_id)
        content = self._render(card)
        activity_id = self._run(self._sender.post_card(reference, content, fallback_text(card)))
        logger.info(
            "teams card posted", extra={"tenant_id": card.tenant_id, "finding_id": card.finding_id}
        )
        return MessageRef(CHANNEL_KIND, channel_id, activity_id)

    def update_finding_card(self, ref: MessageRef, card: FindingCard) -> None:
        """Replace the posted card in place."""
        if ref.channel_kind != CHANNEL_KIND:
            raise ChatDeliveryError(
                f"Cannot update a {ref.channel_kind} card through Teams.",
                "Update it through the chat port of its own platform.",
            )
        reference = self._reference(card.tenant_id, ref.channel_id)
        content = self._render(card)
        self._run(self._sender.update_card(reference, ref.message_id, content, fallback_text(card)))
        logger.info(
            "teams card updated", extra={"tenant_id": card.tenant_id, "finding_id": card.finding_id}
        )

    def _reference(self, tenant_id: str, channel_id: str) -> dict[str, Any]:
        reference = self._store.find_conversation(tenant_id, channel_id)
        if reference is None:
            raise ChatDeliveryError(
                f"Fintropy has no Teams conversation reference for channel {channel_id}.",
                "Install the Fintropy app in that team (or @mention it once in the channel) "
                "after binding the channel to the tenant.",
            )
        return reference

    def _render(self, card: FindingCard) -> dict[str, Any]:
        approvers = list(self._approver_ids_for(card.tenant_id)) if self._approver_ids_for else []
        content = finding_card(card, viewer_can_decide=not approvers, approver_ids=approvers)
        size = card_bytes(content)
        if size > MAX_CARD_BYTES:
            raise ChatDeliveryError(
                f"The card for {card.finding_id} is {size} bytes, over Teams' {MAX_CARD_BYTES}.",
                "Report this: the card builder is meant to cap every field.",
            )
        return content

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        bounded = asyncio.wait_for(coro, self._timeout)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            running = False
        else:
            running = True
        try:
            if not running:
                return asyncio.run(bounded)
            # Called from a thread that runs an event loop: use a private thread and loop.
            with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="teams-port") as pool:
                return pool.submit(asyncio.run, bounded).result()
        except TimeoutError as err:
            raise ChatDeliveryError(
                f"Teams did not answer within {self._timeout:g} seconds.",
                "The workflow retries the delivery; check the Teams service URL if it persists.",
            ) from err
