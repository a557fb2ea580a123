"""The Teams bot behind the real aiohttp service and the real botbuilder CloudAdapter.

Activities are POSTed to ``/api/messages`` exactly as the Bot Framework service sends them;
the bot's replies go to the recording connector named by the activity's ``serviceUrl``. The
backend is the in-memory fake of ``support``; authentication is off (no app id) except in the
tests at the end, which sign genuine RS256 tokens with a key the connector serves.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import test_utils

from bot import messages
from bot.service import build_web_app
from bot.teams.app import build_teams_app
from bot.teams.config import TeamsConfig
from bot.teams.store import MemoryConversationStore
from fintropy.domain import Role
from tests.bot.teams.support import (
    APP_ID,
    APPROVER,
    CHANNEL,
    FID,
    OTHER_APPROVER,
    OTHER_CHANNEL,
    OTHER_TEAMS_TENANT,
    OTHER_TENANT,
    REQUESTER,
    STRANGER,
    TEAMS_TENANT,
    TENANT,
    TOKEN_SECRET,
    VIEWER,
    FakeBackend,
    RecordingConnector,
    SigningKey,
    card_token,
    install_activity,
    invoke_activity,
    message_activity,
    wait_for_calls,
)

MESSAGES = "/api/messages"
CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"


async def _say(http: test_utils.TestClient, connector: RecordingConnector, text: str, **kw: Any):
    response = await http.post(MESSAGES, json=message_activity(connector.base_url, text, **kw))
    assert response.status == 200, await response.text()
    await wait_for_calls(connector, 1)
    (call,) = connector.calls
    return call


async def _click(
    http: test_utils.TestClient,
    connector: RecordingConnector,
    verb: str,
    data: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    data = {"token": card_token()} if data is None else data
    response = await http.post(MESSAGES, json=invoke_activity(connector.base_url, verb, data, **kw))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["statusCode"] == 200
    return body


def _refusals(backend: FakeBackend) -> list[tuple[Any, ...]]:
    return [args for args, _ in backend.called("record_refusal")]


# -- @mention commands ---------------------------------------------------------------------------


async def test_help_replies_in_the_thread_with_every_command(http, connector) -> None:
    call = await _say(http, connector, "help")

    assert call.method == "POST"
    assert call.conversation_id == f"{CHANNEL};messageid=1700000000001"
    assert call.path.endswith("/activities/1700000000001")
    assert call.body["replyToId"] == "1700000000001"
    assert call.body["text"].startswith("**Fintropy** finds cloud waste")
    for usage in ("@Fintropy findings", "@Fintropy show ID", "@Fintropy reject ID REASON"):
        assert usage in call.body["text"]
    assert "/fintropy" not in call.body["text"]


async def test_findings_passes_filters_and_lists_neutralised_results(
    http, connector, backend
) -> None:
    call = await _say(http, connector, "findings --severity HIGH --provider aws")

    ((args, kwargs),) = backend.called("list_findings")
    assert args == (TENANT,)
    assert kwargs == {"provider": "aws", "severity": "high", "account": None, "limit": 20}
    text = json.dumps(call.card, ensure_ascii=False)
    assert FID in text
    assert "⁅pay⁆❨https://evil.example❩ ∗now∗" in text
    assert "[pay](" not in text


async def test_show_replies_with_the_approver_view_of_the_card(http, connector) -> None:
    call = await _say(http, connector, f"show {FID}")

    verbs = _verbs(call.card)
    assert call.body["summary"].startswith("High · Unattached EBS volume")
    assert verbs == ["approve", "reject", "snooze", "details"]


async def test_show_gives_a_viewer_only_the_details_button(http, connector) -> None:
    call = await _say(http, connector, f"show {FID}", user=VIEWER)

    assert _verbs(call.card) == ["details"]


async def test_approve_command_reaches_decide_as_the_mapped_person(
    http, connector, backend
) -> None:
    call = await _say(http, connector, f"approve {FID}")

    ((args, kwargs),) = backend.called("decide")
    actor, finding_id, decision, reason = args
    assert (actor.person_id, actor.role, actor.platform) == ("p-ann", Role.APPROVER, "teams")
    assert (actor.workspace_id, actor.user_id) == (TEAMS_TENANT, APPROVER)
    assert (finding_id, decision, reason) == (FID, "approve", "")
    assert kwargs["source"]["via"] == "command"
    assert kwargs["source"]["channel_id"] == CHANNEL
    assert call.body["text"] == f"Approved {FID} as Ann Approver."


async def test_reject_command_carries_the_reason(http, connector, backend) -> None:
    await _say(http, connector, f"reject {FID} owned by the data team")

    ((args, _),) = backend.called("decide")
    assert args[2:] == ("reject", "owned by the data team")


async def test_snooze_command_reaches_the_backend_with_duration_and_reason(
    http, connector, backend
) -> None:
    call = await _say(http, connector, f"snooze {FID} 7d waiting for the migration")

    ((args, _),) = backend.called("snooze")
    assert args[1:] == (FID, "7d", "waiting for the migration")
    assert call.body["text"].startswith(f"Snoozed {FID}")
    assert backend.called("decide") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("show vol-0abc", "`vol-0abc` is not a finding id"),
        ("frobnicate", "I don't know the command `frobnicate`"),
        (f"reject {FID}", "A rejection needs a reason"),
    ],
)
async def test_malformed_command_gets_usage_and_changes_nothing(
    http, connector, backend, text, says
) -> None:
    call = await _say(http, connector, text)

    assert says in call.body["text"]
    assert backend.called("decide") == []


async def test_viewer_cannot_approve_and_the_refusal_is_audited(http, connector, backend) -> None:
    call = await _say(http, connector, f"approve {FID}", user=VIEWER)

    assert "Only people with the approver role" in call.body["text"]
    assert backend.called("decide") == []
    ((tenant, platform, workspace, user, what, why),) = _refusals(backend)
    assert (tenant, platform, workspace, user) == (TENANT, "teams", TEAMS_TENANT, VIEWER)
    assert (what, why) == ("@mention approve", "role viewer is below approver")


async def test_unbound_channel_is_refused_before_any_work(http, connector, backend) -> None:
    call = await _say(http, connector, f"approve {FID}", channel="19:elsewhere@thread.tacv2")

    assert call.body["text"] == messages.UNBOUND_WORKSPACE
    assert backend.called("resolve_actor") == []
    assert backend.called("decide") == []
    ((tenant, *_rest, why),) = _refusals(backend)
    assert (tenant, why) == (None, "tenant or channel not bound to a tenant")


async def test_unknown_person_is_refused(http, connector, backend) -> None:
    call = await _say(http, connector, "findings", user=STRANGER)

    assert call.body["text"] == messages.UNKNOWN_PERSON
    assert backend.called("list_findings") == []
    assert _refusals(backend)[0][-1] == "chat identity not linked to a person"


async def test_a_message_stores_the_channel_reference(http, connector, store) -> None:
    await _say(http, connector, "help")

    reference = store.find_conversation(TENANT, CHANNEL)
    assert reference is not None
    assert reference["conversation"]["id"] == CHANNEL
    assert reference["serviceUrl"] == connector.base_url
    assert reference["bot"]["id"].startswith("28:")


async def test_installation_stores_the_reference_and_sends_nothing(http, connector, store) -> None:
    response = await http.post(MESSAGES, json=install_activity(connector.base_url))

    assert response.status == 200
    assert store.find_conversation(TENANT, CHANNEL)["conversation"]["id"] == CHANNEL
    assert connector.calls == []


async def test_installation_in_an_unbound_team_stores_nothing(http, connector, store) -> None:
    activity = install_activity(connector.base_url, channel="19:elsewhere@thread.tacv2")

    response = await http.post(MESSAGES, json=activity)

    assert response.status == 200
    assert store.find_conversation(TENANT, "19:elsewhere@thread.tacv2") is None


# -- card actions ----------------------------------------------------------------------------------


async def test_approve_click_decides_and_answers_with_the_refreshed_card(
    http, connector, backend
) -> None:
    backend.status_after_decision = "approved"

    body = await _click(http, connector, "approve")

    ((args, kwargs),) = backend.called("decide")
    actor, finding_id, decision, _ = args
    assert (actor.person_id, actor.user_id, finding_id, decision) == (
        "p-ann",
        APPROVER,
        FID,
        "approve",
    )
    assert kwargs["source"]["card_id"] == f"finding-{TENANT}-{FID}"
    assert kwargs["source"]["activity_id"] == "card-1"
    assert body["type"] == CARD
    card = body["value"]
    text = json.dumps(card)
    assert f"Approved {FID} as Ann Approver." in text
    assert "Ann Approver" in text and "Approved" in text
    assert "actions" not in card and "refresh" not in card
    assert connector.calls == []


async def test_first_of_two_approvals_keeps_the_card_live_for_others(
    http, connector, backend
) -> None:
    body = await _click(http, connector, "approve")

    card = body["value"]
    assert card["refresh"]["action"]["data"] == {"token": card_token()}
    assert _verbs(card) == ["details"]


async def test_reject_click_passes_the_typed_reason(http, connector, backend) -> None:
    data = {"token": card_token(), "reason": "  keep until the June migration "}

    body = await _click(http, connector, "reject", data)

    ((args, _),) = backend.called("decide")
    assert args[2:] == ("reject", "keep until the June migration")
    assert body["type"] == CARD


async def test_reject_click_without_a_reason_is_answered_and_not_sent(
    http, connector, backend
) -> None:
    body = await _click(http, connector, "reject", {"token": card_token(), "reason": " "})

    assert body == {"statusCode": 200, "type": MESSAGE, "value": messages.reason_required()}
    assert backend.called("decide") == []


async def test_refused_decision_keeps_the_buttons_and_says_why(http, connector, backend) -> None:
    backend.refuse_decisions_with = "You raised this finding, so someone else must approve it."

    body = await _click(http, connector, "approve")

    card = body["value"]
    assert card["body"][0]["color"] == "Attention"
    assert card["body"][0]["text"].startswith("Not done: You raised this finding")
    assert _verbs(card) == ["approve", "reject", "snooze", "details"]


async def test_non_approver_click_is_refused_audited_and_not_decided(
    http, connector, backend
) -> None:
    body = await _click(http, connector, "approve", user=REQUESTER)

    assert body["type"] == MESSAGE
    assert "Only people with the approver role" in body["value"]
    assert backend.called("decide") == []
    ((tenant, _, _, user, what, why),) = _refusals(backend)
    assert (tenant, user, what) == (TENANT, REQUESTER, f"approve card action {FID}")
    assert why == "role requester is below approver"


async def test_token_of_another_tenant_is_refused(http, connector, backend) -> None:
    body = await _click(http, connector, "approve", {"token": card_token(OTHER_TENANT)})

    assert body["value"] == messages.INVALID_BUTTON
    assert backend.called("decide") == []
    assert _refusals(backend)[0][-1] == "button token foreign_tenant"


async def test_tampered_token_is_refused(http, connector, backend) -> None:
    version, payload, mac = card_token().split(".")
    forged = f"{version}.{payload}.{mac[:-2]}AA"

    body = await _click(http, connector, "approve", {"token": forged})

    assert body["value"] == messages.INVALID_BUTTON
    assert backend.called("decide") == []
    assert _refusals(backend)[0][-1] == "button token tampered"


async def test_card_from_a_foreign_tenant_workspace_cannot_decide_here(
    http, connector, backend
) -> None:
    # Gil approves in globex's channel with a genuine acme card token: acme's finding is
    # out of reach, because the token is checked against the tenant the channel is bound to.
    body = await _click(
        http,
        connector,
        "approve",
        user=OTHER_APPROVER,
        teams_tenant=OTHER_TEAMS_TENANT,
        channel=OTHER_CHANNEL,
    )

    assert body["value"] == messages.INVALID_BUTTON
    assert backend.called("decide") == []
    assert _refusals(backend)[0][0] == OTHER_TENANT


async def test_click_from_an_unbound_tenant_is_refused_before_any_work(
    http, connector, backend
) -> None:
    body = await _click(http, connector, "approve", teams_tenant="aad-tenant-unknown")

    assert body["value"] == messages.UNBOUND_WORKSPACE
    assert backend.called("resolve_actor") == []
    assert backend.called("get_card") == []
    assert backend.called("decide") == []


async def test_refresh_shows_buttons_to_approvers_and_status_to_viewers(
    http, connector, backend
) -> None:
    approver = await _click(http, connector, "refresh", trigger="automatic")
    viewer = await _click(http, connector, "refresh", user=VIEWER, trigger="automatic")

    assert _verbs(approver["value"]) == ["approve", "reject", "snooze", "details"]
    assert _verbs(viewer["value"]) == ["details"]
    assert _refusals(backend) == []


async def test_refresh_of_a_decided_finding_has_no_buttons(http, connector, backend) -> None:
    backend.cards[(TENANT, FID)] = dataclasses.replace(
        backend.cards[(TENANT, FID)], status="remediated"
    )

    body = await _click(http, connector, "refresh")

    assert "actions" not in body["value"] and "refresh" not in body["value"]
    assert "Remediated" in json.dumps(body["value"])


async def test_details_answers_with_the_audit_trail(http, connector, backend) -> None:
    body = await _click(http, connector, "details", user=VIEWER)

    text = json.dumps(body["value"])
    assert body["type"] == CARD
    assert "card.posted" in text and "finding.approved" in text
    assert "actions" not in body["value"]


async def test_snooze_click_snoozes_for_the_chosen_duration(http, connector, backend) -> None:
    body = await _click(http, connector, "snooze", {"token": card_token(), "duration": "7d"})

    ((args, _),) = backend.called("snooze")
    assert args[1:3] == (FID, "7d")
    assert "Snoozed" in json.dumps(body["value"])
    assert backend.called("decide") == []


async def test_action_submit_is_not_supported(http, connector, backend) -> None:
    activity = invoke_activity(
        connector.base_url, "approve", {"token": card_token()}, action_type="Action.Submit"
    )

    response = await http.post(MESSAGES, json=activity)

    body = await response.json()
    assert response.status == 400
    assert body["statusCode"] == 400
    assert body["type"] == "application/vnd.microsoft.error"
    assert backend.called("decide") == []


async def test_backend_failure_answers_with_a_correlation_id(http, connector, backend) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is down")

    backend.decide = broken  # type: ignore[method-assign]

    body = await _click(http, connector, "approve")

    assert body["type"] == MESSAGE
    assert "Something went wrong" in body["value"]
    assert "Reference `" in body["value"]


# -- the endpoint ------------------------------------------------------------------------------


async def test_non_json_and_typeless_bodies_are_rejected(http) -> None:
    text = await http.post(MESSAGES, data="hello", headers={"Content-Type": "text/plain"})
    typeless = await http.post(MESSAGES, json={"text": "hi"})
    malformed = await http.post(MESSAGES, json={"type": "message", "entities": "nonsense"})

    assert text.status == 415
    assert typeless.status == 400
    assert malformed.status == 400


@pytest_asyncio.fixture
async def secured(
    backend: FakeBackend, connector: RecordingConnector
) -> AsyncIterator[tuple[test_utils.TestClient, SigningKey]]:
    key = SigningKey()
    connector.jwks = {"keys": [key.jwk()]}
    app = build_teams_app(
        backend,
        config=TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret"),
        token_secret=TOKEN_SECRET,
        store=MemoryConversationStore(),
        openid_metadata_url=connector.openid_url,
    )
    client = test_utils.TestClient(
        test_utils.TestServer(build_web_app(None, teams_handler=app.handle))
    )
    await client.start_server()
    yield client, key
    await client.close()
    _reset_metadata_endpoint()


async def test_with_an_app_id_an_unsigned_activity_gets_401(secured, connector, backend) -> None:
    client, _ = secured

    response = await client.post(
        MESSAGES, json=invoke_activity(connector.base_url, "approve", {"token": card_token()})
    )

    assert response.status == 401
    assert backend.calls == []


@pytest.mark.parametrize(
    "problem", ["wrong_audience", "wrong_service_url", "expired", "foreign_key", "garbage"]
)
async def test_with_an_app_id_a_bad_token_gets_401(secured, connector, backend, problem) -> None:
    client, key = secured
    audience, service_url, lifetime = APP_ID, connector.base_url, 600
    if problem == "wrong_audience":
        audience = "99999999-0000-0000-0000-000000000000"
    elif problem == "wrong_service_url":
        service_url = "https://smba.example/evil/"
    elif problem == "expired":
        lifetime = -3600
    signer = SigningKey() if problem == "foreign_key" else key
    token = signer.token(audience=audience, service_url=service_url, lifetime=lifetime)
    if problem == "garbage":
        token = "not.a.jwt"

    response = await client.post(
        MESSAGES,
        json=invoke_activity(connector.base_url, "approve", {"token": card_token()}),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status == 401
    assert backend.called("decide") == []


async def test_with_an_app_id_a_signed_click_is_decided(secured, connector, backend) -> None:
    client, key = secured
    token = key.token(audience=APP_ID, service_url=connector.base_url)

    response = await client.post(
        MESSAGES,
        json=invoke_activity(connector.base_url, "approve", {"token": card_token()}),
        headers={"Authorization": f"Bearer {token}"},
    )

    body = await response.json()
    assert response.status == 200
    assert body["type"] == CARD
    ((args, _),) = backend.called("decide")
    assert args[0].user_id == APPROVER


def _reset_metadata_endpoint() -> None:
    from botframework.connector.auth import ChannelValidation

    ChannelValidation.open_id_metadata_endpoint = None


def _verbs(card: dict[str, Any]) -> list[str]:
    """The verbs a viewer can reach: Execute actions at the top or inside a ShowCard."""
    verbs = []
    for action in card.get("actions", []):
        if action["type"] == "Action.ShowCard":
            action = action["card"]["actions"][0]
        verbs.append(action["verb"])
    return verbs
