"""teams_conversations on PostgreSQL: migration 0002, Row-Level Security, the repository.

Uses the session's migrated database (``tests.support.pg_fixtures``); each test works in
tenants of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from bot.teams.chat_port import TeamsChatPort
from fintropy.domain import MessageRef
from fintropy.persistence import migrate
from fintropy.persistence.db import tenant_session
from fintropy.persistence.teams import (
    TeamsConversation,
    TeamsConversationRepository,
    list_conversations,
    save_conversation,
)
from tests.bot.teams.support import BOT_ID, CHANNEL, TEAMS_TENANT, RecordingConnector, make_card
from tests.support.pg_fixtures import provision_test_tenant


def _reference(service_url: str, channel: str = CHANNEL) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "bot": {"id": BOT_ID},
        "conversation": {"id": channel, "conversationType": "channel", "tenantId": TEAMS_TENANT},
    }


@pytest.fixture
def two_tenants(engine: Any) -> tuple[str, str]:
    return provision_test_tenant(engine).id, provision_test_tenant(engine).id


def test_migration_0002_isolates_the_table_like_every_tenant_table(database_url: str) -> None:
    owner = create_engine(database_url)
    with owner.connect() as connection:
        row = connection.execute(
            text(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid "
                "   AND p.polname = 'tenant_isolation') "
                "FROM pg_class c WHERE c.relname = 'teams_conversations'"
            )
        ).one()
        grants = set(
            connection.execute(
                text(
                    "SELECT privilege_type FROM information_schema.role_table_grants "
                    "WHERE table_name = 'teams_conversations' AND grantee = 'fintropy_app'"
                )
            ).scalars()
        )
    owner.dispose()

    assert tuple(row) == (True, True, 1)
    assert grants == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert migrate.head_revision() == "0002"


def test_repository_stores_refreshes_and_finds_a_reference(engine, two_tenants) -> None:
    tenant, _ = two_tenants
    repository = TeamsConversationRepository(engine)

    repository.save_conversation(tenant, CHANNEL, CHANNEL, "https://a.example/", _reference("a"))
    repository.save_conversation(tenant, CHANNEL, CHANNEL, "https://b.example/", _reference("b"))

    assert repository.find_conversation(tenant, CHANNEL) == _reference("b")
    assert repository.find_conversation(tenant, "19:other@thread.tacv2") is None
    with tenant_session(engine, tenant) as session:
        rows = list_conversations(session, tenant)
    assert [(r.conversation_id, r.service_url) for r in rows] == [(CHANNEL, "https://b.example/")]


def test_another_tenant_can_neither_see_nor_write_the_reference(engine, two_tenants) -> None:
    tenant, other = two_tenants
    repository = TeamsConversationRepository(engine)
    repository.save_conversation(tenant, CHANNEL, CHANNEL, "https://a.example/", _reference("a"))

    seen_by_other = repository.find_conversation(other, CHANNEL)
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(engine, other) as session:
            save_conversation(
                session,
                tenant,
                conversation_id="19:planted@thread.tacv2",
                channel_id="19:planted@thread.tacv2",
                service_url="https://evil.example/",
                reference={},
            )
    with tenant_session(engine, other) as session:
        visible = session.execute(text("SELECT count(*) FROM teams_conversations")).scalar_one()

    assert seen_by_other is None
    assert visible == 0


def test_without_a_tenant_nothing_is_visible(engine, two_tenants) -> None:
    tenant, _ = two_tenants
    TeamsConversationRepository(engine).save_conversation(
        tenant, CHANNEL, CHANNEL, "https://a.example/", _reference("a")
    )

    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM teams_conversations")).scalar_one()

    assert count == 0
    assert TeamsConversation.__tablename__ == "teams_conversations"


async def test_chat_port_posts_through_a_reference_stored_in_postgres(
    engine, two_tenants, teams_app, connector: RecordingConnector
) -> None:
    tenant, _ = two_tenants
    repository = TeamsConversationRepository(engine)
    repository.save_conversation(
        tenant, CHANNEL, CHANNEL, connector.base_url, _reference(connector.base_url)
    )
    port = TeamsChatPort(teams_app.seam, repository)

    ref = await asyncio.to_thread(port.post_finding_card, CHANNEL, make_card(tenant))

    assert ref == MessageRef("teams", CHANNEL, "activity-1")
    assert connector.calls[0].card["type"] == "AdaptiveCard"
