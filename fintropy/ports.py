"""Interfaces the core and activities depend on, implemented by outer layers.

Activities post and update cards through ``ChatPort`` without importing ``bot``; the service
entry point injects the Slack, Teams or console implementation. This keeps dependencies
pointing one way (bot -> workflows -> activities -> core).
"""

from __future__ import annotations

from typing import Protocol

from fintropy.domain import FindingCard, MessageRef


class ChatPort(Protocol):
    """Posts finding cards to a channel and updates them in place afterwards."""

    def post_finding_card(self, channel_id: str, card: FindingCard) -> MessageRef:
        """Post a new card; return where it landed."""
        ...

    def update_finding_card(self, ref: MessageRef, card: FindingCard) -> None:
        """Replace a posted card (new status, decided-by, outcome; buttons maybe disabled)."""
        ...

    def post_notice(self, ref: MessageRef, text: str, mentions: list[str]) -> None:
        """Post a short notice under a card (a reminder, an escalation) naming people.

        ``mentions`` are the platform's user ids of the people to notify on that platform.
        """
        ...
