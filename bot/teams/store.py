"""Where the Teams front end keeps conversation references (see ``fintropy.persistence.teams``).

``ConversationStore`` is synchronous: ``TeamsChatPort`` runs in activity worker threads, and the
bot calls it through ``asyncio.to_thread``. ``TeamsConversationRepository`` implements it over
PostgreSQL; ``MemoryConversationStore`` serves local runs without a database and tests.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Protocol


class ConversationStore(Protocol):
    """Conversation references by tenant and channel."""

    def save_conversation(
        self,
        tenant_id: str,
        conversation_id: str,
        channel_id: str,
        service_url: str,
        reference: dict[str, Any],
    ) -> None:
        """Store or refresh the reference of one conversation."""
        ...

    def find_conversation(self, tenant_id: str, channel_id: str) -> dict[str, Any] | None:
        """The reference to post to ``channel_id``, or None when the bot was never there."""
        ...


class MemoryConversationStore:
    """An in-process ``ConversationStore`` (lost on restart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}

    def save_conversation(
        self,
        tenant_id: str,
        conversation_id: str,
        channel_id: str,
        service_url: str,
        reference: dict[str, Any],
    ) -> None:
        """Store or refresh the reference of one conversation."""
        with self._lock:
            self._rows[(tenant_id, channel_id)] = copy.deepcopy(reference)

    def find_conversation(self, tenant_id: str, channel_id: str) -> dict[str, Any] | None:
        """The reference to post to ``channel_id``, or None."""
        with self._lock:
            found = self._rows.get((tenant_id, channel_id))
            return copy.deepcopy(found) if found is not None else None
