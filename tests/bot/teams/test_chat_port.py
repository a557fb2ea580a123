"""TeamsChatPort: proactive card posts and in-place updates, against the recording connector.

The port is called from a plain thread, as Temporal runs synchronous activities, and goes
through the real botbuilder adapter (``continue_conversation``) to the connector.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from bot.teams.app import TeamsApp
from bot.teams.chat_port import TeamsChatPort
from bot.teams.store import MemoryConversationStore
from fintropy.domain import MessageRef
from fintropy.errors import ChatDeliveryError
from tests.bot.teams.support import (
    BOT_ID,
    CHANNEL,
    TEAMS_TENANT,
    TENANT,
    RecordingConnector,
    make_card,
)


def _reference(service_url: str) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "bot": {"id": BOT_ID, "name": "Fintropy"},
        "conversation": {
            "id": CHANNEL,
            "conversationType": "channel",
            "tenantId": TEAMS_TENANT,
            "isGroup": True,
        },
    }


@pytest.fixture
def port(
    teams_app: TeamsApp, store: MemoryConversationStore, connector: RecordingConnector
) -> TeamsChatPort:
    store.save_conversation(
        TENANT, CHANNEL, CHANNEL, connector.base_url, _reference(connector.base_url)
    )
    return teams_app.chat_port()


async def _in_thread(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


async def test_post_sends_the_card_to_the_channel_and_returns_its_activity_id(
    port, connector
) -> None:
    ref = await _in_thread(port.post_finding_card, CHANNEL, make_card())

    (call,) = connector.calls
    assert ref == MessageRef("teams", CHANNEL, "activity-1")
    assert call.method == "POST"
    assert call.path.endswith("/v3/conversations/19%3Afinops%40thread.tacv2/activities")
    assert call.body["from"]["id"] == BOT_ID
    assert call.body["summary"].startswith("High · Unattached EBS volume")
    assert call.card["version"] == "1.5"
    assert call.card["refresh"]["userIds"] == []
    assert [a["title"] for a in call.card["actions"]] == ["Approve", "Reject", "Snooze", "Details"]


async def test_update_replaces_the_card_in_place_without_buttons(port, connector) -> None:
    decided = make_card(
        status="remediated",
        decided_by=("Ann Approver",),
        outcome="Snapshot snap-1 taken, volume deleted.",
        buttons_enabled=False,
        action_token="",
    )

    await _in_thread(port.update_finding_card, MessageRef("teams", CHANNEL, "activity-7"), decided)

    (call,) = connector.calls
    assert call.method == "PUT"
    assert call.path.endswith("/v3/conversations/19%3Afinops%40thread.tacv2/activities/activity-7")
    assert call.body["id"] == "activity-7"
    assert "actions" not in call.card and "refresh" not in call.card
    facts = {f["title"]: f["value"] for f in call.card["body"][3]["facts"]}
    assert facts["Status"] == "Remediated"
    assert facts["Decided by"] == "Ann Approver"
    assert facts["Outcome"] == "Snapshot snap-1 taken, volume deleted."


async def test_known_approvers_get_the_buttons_by_refresh_and_others_the_status(
    teams_app, store, connector
) -> None:
    store.save_conversation(
        TENANT, CHANNEL, CHANNEL, connector.base_url, _reference(connector.base_url)
    )
    port = teams_app.chat_port(approver_ids_for=lambda tenant: ["29:ann", "29:bob", "29:ann"])

    await _in_thread(port.post_finding_card, CHANNEL, make_card())

    (call,) = connector.calls
    assert call.card["refresh"]["userIds"] == ["29:ann", "29:bob"]
    assert [a["verb"] for a in call.card["actions"]] == ["details"]


async def test_rate_limited_post_is_retried_after_retry_after(port, connector) -> None:
    connector.answer_next(429, {"error": {"code": "Throttled"}}, {"Retry-After": "0"})

    ref = await _in_thread(port.post_finding_card, CHANNEL, make_card())

    assert len(connector.calls) == 2
    assert ref.message_id == "activity-1"


async def test_refused_post_raises_chat_delivery_error_naming_the_fix(port, connector) -> None:
    connector.answer_next(403, {"error": {"code": "BotNotInConversationRoster"}}, {})

    with pytest.raises(ChatDeliveryError) as caught:
        await _in_thread(port.post_finding_card, CHANNEL, make_card())

    assert "HTTP 403" in caught.value.message
    assert "Install the Fintropy app" in caught.value.remediation
    assert len(connector.calls) == 1


async def test_persistent_throttling_gives_up_with_chat_delivery_error(port, connector) -> None:
    for _ in range(3):
        connector.answer_next(429, {}, {"Retry-After": "0"})

    with pytest.raises(ChatDeliveryError, match="HTTP 429"):
        await _in_thread(port.post_finding_card, CHANNEL, make_card())

    assert len(connector.calls) == 3


async def test_channel_without_a_stored_reference_is_a_clear_error(port, connector) -> None:
    with pytest.raises(ChatDeliveryError) as caught:
        await _in_thread(port.post_finding_card, "19:never-seen@thread.tacv2", make_card())

    assert "no Teams conversation reference" in caught.value.message
    assert "@mention it once" in caught.value.remediation
    assert connector.calls == []


async def test_a_slack_ref_cannot_be_updated_through_teams(port, connector) -> None:
    with pytest.raises(ChatDeliveryError, match="slack card"):
        port.update_finding_card(MessageRef("slack", "C1", "1.2"), make_card())


async def test_the_port_also_works_from_a_thread_running_an_event_loop(port, connector) -> None:
    card = dataclasses.replace(make_card(), title="Idle load balancer")

    ref = port.post_finding_card(CHANNEL, card)

    assert ref.channel_id == CHANNEL
    assert connector.calls[0].body["summary"].startswith("High · Idle load balancer")


async def test_a_worker_port_posts_without_serving_activities(store, connector) -> None:
    from bot.teams.app import build_teams_chat_port
    from bot.teams.config import TeamsConfig

    store.save_conversation(
        TENANT, CHANNEL, CHANNEL, connector.base_url, _reference(connector.base_url)
    )
    port = build_teams_chat_port(config=TeamsConfig(), store=store)

    ref = await _in_thread(port.post_finding_card, CHANNEL, make_card())

    assert ref.message_id == "activity-1"
    assert connector.calls[0].card["version"] == "1.5"
