"""Teams conversation references: where the bot may post proactively, per tenant.

Microsoft Teams lets a bot start a message in a channel only with a conversation reference it
received earlier (its service URL, the conversation, the bot account). The Teams front end
stores one when the app is installed in a team or chat, or first messaged there, after the
workspace and channel resolved to a tenant; ``TeamsChatPort`` reads it to post and update
finding cards. Rows are tenant-scoped (Row-Level Security, migration ``0002``) like every
other tenant table.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from fintropy.persistence.db import tenant_session
from fintropy.persistence.models import TIMESTAMP, _json, _tenant_fk, utcnow

logger = logging.getLogger(__name__)


class TeamsConversation(SQLModel, table=True):
    """One Teams channel or chat the bot can post to, and how to reach it."""

    __tablename__ = "teams_conversations"
    __table_args__ = (
        _tenant_fk("teams_conversations"),
        Index("teams_conversations_channel_idx", "tenant_id", "channel_id"),
    )

    tenant_id: str = Field(primary_key=True)
    conversation_id: str = Field(primary_key=True)
    # The id chat bindings use: the Teams channel id, or the chat's conversation id.
    channel_id: str
    service_url: str
    # The Bot Framework ConversationReference as JSON (bot, conversation, channelId, serviceUrl).
    reference: dict[str, Any] = Field(default_factory=dict, **_json("{}"))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


def save_conversation(
    session: Session,
    tenant_id: str,
    *,
    conversation_id: str,
    channel_id: str,
    service_url: str,
    reference: dict[str, Any],
) -> None:
    """Insert or refresh a reference (Teams may move a tenant to another service URL)."""
    values = {
        "tenant_id": tenant_id,
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "service_url": service_url,
        "reference": reference,
        "updated_at": utcnow(),
    }
    statement = insert(TeamsConversation).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "conversation_id"],
        set_={name: statement.excluded[name] for name in values if name != "conversation_id"},
    )
    session.execute(statement)


def get_conversation(session: Session, tenant_id: str, channel_id: str) -> TeamsConversation | None:
    """The freshest reference stored for ``channel_id`` in the tenant, or None."""
    return session.exec(
        select(TeamsConversation)
        .where(TeamsConversation.tenant_id == tenant_id, TeamsConversation.channel_id == channel_id)
        .order_by(col(TeamsConversation.updated_at).desc())
        .limit(1)
    ).first()


def list_conversations(session: Session, tenant_id: str) -> list[TeamsConversation]:
    """Every stored reference of the tenant, by channel."""
    return list(
        session.exec(
            select(TeamsConversation)
            .where(TeamsConversation.tenant_id == tenant_id)
            .order_by(col(TeamsConversation.channel_id), col(TeamsConversation.conversation_id))
        ).all()
    )


class TeamsConversationRepository:
    """The Teams front end's conversation store over PostgreSQL (``bot.teams.store``).

    Each call opens its own tenant-scoped unit of work, so it is safe from the bot's event
    loop (through a worker thread) and from activity threads alike.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save_conversation(
        self,
        tenant_id: str,
        conversation_id: str,
        channel_id: str,
        service_url: str,
        reference: dict[str, Any],
    ) -> None:
        """Store or refresh the reference for one conversation of the tenant."""
        with tenant_session(self._engine, tenant_id) as session:
            save_conversation(
                session,
                tenant_id,
                conversation_id=conversation_id,
                channel_id=channel_id,
                service_url=service_url,
                reference=reference,
            )
        logger.info(
            "teams conversation stored", extra={"tenant_id": tenant_id, "channel_id": channel_id}
        )

    def find_conversation(self, tenant_id: str, channel_id: str) -> dict[str, Any] | None:
        """The stored reference JSON for ``channel_id``, or None when the bot was never there."""
        with tenant_session(self._engine, tenant_id) as session:
            row = get_conversation(session, tenant_id, channel_id)
            return dict(row.reference) if row is not None else None
