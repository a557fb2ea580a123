"""SlackChatPort against the recording Slack: post, update, errors, rate limits."""

from __future__ import annotations

import dataclasses

import pytest

from bot.slack.notifier import SlackChatPort
from bot.views import finding_blocks, finding_text
from fintropy.domain import FindingCard, MessageRef
from fintropy.errors import ChatDeliveryError
from fintropy.ports import ChatPort
from tests.support.slack_fixtures import BOT_TOKEN, RecordingSlackServer

CARD = FindingCard(
    tenant_id="acme",
    finding_id="f-0123456789ab",
    title="Idle NAT gateway",
    severity="medium",
    status="awaiting_approval",
    resource_label="nat-0abc <prod> & co, 123456789012 / us-east-1",
    explanation="No traffic in 30 days.",
    savings_usd_month=32.85,
    savings_formula="730 h x $0.045/h = $32.85",
    price_basis="list",
    action_verb=None,
    reversibility=None,
    risk=None,
    rule_id="aws.nat.idle",
    rule_version="1.0.0",
    action_token="v1.tok.en",
)


@pytest.fixture
def port(slack_api: RecordingSlackServer) -> SlackChatPort:
    return SlackChatPort(BOT_TOKEN, api_url=slack_api.api_url)


def test_port_satisfies_the_chat_port_protocol(port: SlackChatPort) -> None:
    chat: ChatPort = port

    assert chat.channel_kind == "slack"  # type: ignore[attr-defined]


def test_post_sends_the_card_and_returns_where_it_landed(
    port: SlackChatPort, slack_api: RecordingSlackServer
) -> None:
    ref = port.post_finding_card("C0FINOPS", CARD)

    (call,) = slack_api.calls_to("chat.postMessage")
    assert ref == MessageRef("slack", "C0FINOPS", ref.message_id)
    assert ref.message_id.startswith("1700000000.")
    assert call.body["channel"] == "C0FINOPS"
    assert call.body["blocks"] == finding_blocks(CARD)
    assert call.body["text"] == finding_text(CARD)
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_two_posts_get_increasing_timestamps(port: SlackChatPort) -> None:
    first = port.post_finding_card("C0FINOPS", CARD)
    second = port.post_finding_card("C0FINOPS", CARD)

    assert float(second.message_id) > float(first.message_id)


def test_update_replaces_the_posted_card_in_place(
    port: SlackChatPort, slack_api: RecordingSlackServer
) -> None:
    ref = port.post_finding_card("C0FINOPS", CARD)
    done = dataclasses.replace(
        CARD,
        status="rejected",
        buttons_enabled=False,
        decided_by=("Ann",),
        outcome="No action taken.",
    )

    port.update_finding_card(ref, done)

    (call,) = slack_api.calls_to("chat.update")
    assert call.body["channel"] == "C0FINOPS"
    assert call.body["ts"] == ref.message_id
    assert call.body["blocks"] == finding_blocks(done)
    assert not [b for b in call.body["blocks"] if b["type"] == "actions"]


def test_slack_refusal_becomes_chat_delivery_error(
    port: SlackChatPort, slack_api: RecordingSlackServer
) -> None:
    slack_api.queue_response("chat.postMessage", body={"ok": False, "error": "not_in_channel"})

    with pytest.raises(ChatDeliveryError) as err:
        port.post_finding_card("C0PRIVATE", CARD)

    assert "not_in_channel" in err.value.message
    assert "Invite the Fintropy app" in err.value.remediation


def test_update_of_unknown_message_becomes_chat_delivery_error(port: SlackChatPort) -> None:
    with pytest.raises(ChatDeliveryError, match="message_not_found"):
        port.update_finding_card(MessageRef("slack", "C0FINOPS", "1.000000"), CARD)


def test_update_of_another_platforms_card_is_refused(port: SlackChatPort) -> None:
    with pytest.raises(ChatDeliveryError, match="console"):
        port.update_finding_card(MessageRef("console", "console", "1"), CARD)


def test_rate_limited_post_is_retried(port: SlackChatPort, slack_api: RecordingSlackServer) -> None:
    slack_api.queue_response(
        "chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
    )

    ref = port.post_finding_card("C0FINOPS", CARD)

    assert len(slack_api.calls_to("chat.postMessage")) == 2
    assert ref.channel_id == "C0FINOPS"


def test_unreachable_slack_becomes_chat_delivery_error() -> None:
    port = SlackChatPort(BOT_TOKEN, api_url="http://127.0.0.1:9/api/")

    with pytest.raises(ChatDeliveryError, match="could not be reached"):
        port.post_finding_card("C0FINOPS", CARD)
