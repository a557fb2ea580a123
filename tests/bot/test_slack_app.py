"""The Bolt app behind the real aiohttp service, driven by signed Slack requests.

Slack Web API calls and response_url replies go to the recording server; the backend is an
in-memory fake defined here (the end-to-end test uses the real one).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import test_utils

from bot.backend import Actor, AuditLine, DecisionResult, FindingSummary
from bot.service import build_web_app
from bot.slack.app import build_slack_app
from bot.tokens import issue_token
from bot.views import finding_blocks
from fintropy.domain import FindingCard, Role
from tests.support.slack_fixtures import (
    BOT_TOKEN,
    SIGNING_SECRET,
    RecordingSlackServer,
    block_action_payload,
    signed_action,
    signed_command,
    view_submission_payload,
)

TOKEN_SECRET = b"button-secret-for-tests"
TEAM, CHANNEL = "T0ACME", "C0FINOPS"
OTHER_TEAM, OTHER_CHANNEL = "T0GLOBEX", "C0GLOBEX"
TENANT, OTHER_TENANT = "acme", "globex"
FID = "f-0123456789ab"
APPROVER, VIEWER, REQUESTER, STRANGER = "U0APPROVER", "U0VIEWER", "U0REQUESTER", "U0STRANGER"
EVENTS = "/slack/events"


def _card(tenant: str = TENANT) -> FindingCard:
    return FindingCard(
        tenant_id=tenant,
        finding_id=FID,
        title="Unattached EBS volume",
        severity="high",
        status="awaiting_approval",
        resource_label="vol-0abc (<b>data</b> & *archive*), 123456789012 / eu-west-1",
        explanation="Unattached for 41 days.",
        savings_usd_month=40.0,
        savings_formula="500 GiB x $0.08 = $40.00",
        price_basis="list",
        action_verb="Snapshot, then delete the volume",
        reversibility="restorable",
        risk="medium",
        rule_id="aws.ebs.unattached_volume",
        rule_version="1.0.0",
        action_token=_token(tenant),
    )


def _token(tenant: str = TENANT, finding: str = FID, action: str = "decide") -> str:
    return issue_token(TOKEN_SECRET, tenant, finding, action, f"finding-{tenant}-{finding}")


class FakeBackend:
    """An in-memory Backend that records every call."""

    def __init__(self) -> None:
        self.bindings = {(TEAM, CHANNEL): TENANT, (OTHER_TEAM, OTHER_CHANNEL): OTHER_TENANT}
        self.people = {
            (TENANT, APPROVER): Actor(
                TENANT, "p-ann", "Ann Approver", Role.APPROVER, "slack", TEAM, APPROVER
            ),
            (TENANT, VIEWER): Actor(
                TENANT, "p-vic", "Vic Viewer", Role.VIEWER, "slack", TEAM, VIEWER
            ),
            (TENANT, REQUESTER): Actor(
                TENANT, "p-rex", "Rex Requester", Role.REQUESTER, "slack", TEAM, REQUESTER
            ),
            (OTHER_TENANT, APPROVER): Actor(
                OTHER_TENANT, "p-gil", "Gil", Role.APPROVER, "slack", OTHER_TEAM, APPROVER
            ),
        }
        self.cards = {(TENANT, FID): _card()}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail_with: Exception | None = None

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if self.fail_with is not None and name not in (
            "resolve_tenant",
            "resolve_actor",
            "record_refusal",
        ):
            raise self.fail_with

    def called(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for n, a, k in self.calls if n == name]

    async def resolve_tenant(
        self, platform: str, workspace_id: str, channel_id: str | None
    ) -> str | None:
        self._record("resolve_tenant", platform, workspace_id, channel_id)
        return self.bindings.get((workspace_id, channel_id or ""))

    async def resolve_actor(
        self, tenant_id: str, platform: str, workspace_id: str, user_id: str
    ) -> Actor | None:
        self._record("resolve_actor", tenant_id, platform, workspace_id, user_id)
        return self.people.get((tenant_id, user_id))

    async def list_findings(
        self,
        tenant_id: str,
        *,
        provider: str | None = None,
        severity: str | None = None,
        account: str | None = None,
        limit: int = 20,
    ) -> list[FindingSummary]:
        self._record(
            "list_findings",
            tenant_id,
            provider=provider,
            severity=severity,
            account=account,
            limit=limit,
        )
        return [
            FindingSummary(
                c.finding_id,
                c.title,
                c.severity,
                c.status,
                c.resource_label,
                c.savings_usd_month,
                "123456789012",
                "aws",
            )
            for (t, _), c in self.cards.items()
            if t == tenant_id
        ]

    async def get_card(self, tenant_id: str, finding_id: str) -> FindingCard | None:
        self._record("get_card", tenant_id, finding_id)
        return self.cards.get((tenant_id, finding_id))

    async def decide(
        self,
        actor: Actor,
        finding_id: str,
        decision: str,
        reason: str = "",
        source: dict | None = None,
    ) -> DecisionResult:
        self._record("decide", actor, finding_id, decision, reason, source=source)
        if (actor.tenant_id, finding_id) not in self.cards:
            return DecisionResult(False, f"There is no finding {finding_id} in this tenant.")
        verb = "Approved" if decision == "approve" else "Rejected"
        return DecisionResult(True, f"{verb} {finding_id} as {actor.display_name}.")

    async def start_scan(self, actor: Actor) -> str:
        self._record("start_scan", actor)
        return "scan-000000000001"

    async def audit_trail(self, tenant_id: str, finding_id: str) -> list[AuditLine]:
        self._record("audit_trail", tenant_id, finding_id)
        if (tenant_id, finding_id) not in self.cards:
            return []
        return [
            AuditLine(1, "2026-01-05T10:00:00Z", "system", "card.posted", finding_id, ""),
            AuditLine(
                2,
                "2026-01-05T11:00:00Z",
                "Ann Approver",
                "finding.approved",
                finding_id,
                "looks safe",
            ),
        ]

    async def record_refusal(
        self,
        tenant_id: str | None,
        platform: str,
        workspace_id: str,
        user_id: str,
        what: str,
        why: str,
    ) -> None:
        self._record("record_refusal", tenant_id, platform, workspace_id, user_id, what, why)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest_asyncio.fixture
async def http(
    backend: FakeBackend, slack_api: RecordingSlackServer
) -> AsyncIterator[test_utils.TestClient]:
    slack_app = build_slack_app(
        backend,
        signing_secret=SIGNING_SECRET,
        token=BOT_TOKEN,
        api_url=slack_api.api_url,
        token_secret=TOKEN_SECRET,
    )
    client = test_utils.TestClient(test_utils.TestServer(build_web_app(slack_app)))
    await client.start_server()
    yield client
    await client.close()


async def _command(
    http: test_utils.TestClient,
    slack_api: RecordingSlackServer,
    text: str,
    *,
    team: str = TEAM,
    channel: str = CHANNEL,
    user: str = APPROVER,
) -> int:
    body, headers = signed_command(
        SIGNING_SECRET, text, team, channel, user, response_url=slack_api.response_url("cmd")
    )
    response = await http.post(EVENTS, data=body, headers=headers)
    return response.status


async def _click(
    http: test_utils.TestClient,
    slack_api: RecordingSlackServer,
    action_id: str,
    value: str,
    *,
    team: str = TEAM,
    channel: str = CHANNEL,
    user: str = APPROVER,
) -> int:
    payload = block_action_payload(
        action_id,
        value,
        team_id=team,
        channel_id=channel,
        user_id=user,
        response_url=slack_api.response_url("click"),
    )
    body, headers = signed_action(SIGNING_SECRET, payload)
    response = await http.post(EVENTS, data=body, headers=headers)
    return response.status


async def _reply(slack_api: RecordingSlackServer) -> dict[str, Any]:
    (call,) = await slack_api.await_calls("response_url")
    await slack_api.settle()
    assert len(slack_api.calls_to("response_url")) == 1, "expected exactly one reply"
    return call.body


# -- slash commands --------------------------------------------------------------------------


async def test_help_replies_ephemerally_with_every_command(http, slack_api) -> None:
    status = await _command(http, slack_api, "help")

    reply = await _reply(slack_api)
    assert status == 200
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    for usage in (
        "findings [--provider P]",
        "show ID",
        "approve ID",
        "reject ID REASON",
        "audit ID",
        "scan",
    ):
        assert usage in text


async def test_findings_passes_filters_and_lists_escaped_results(http, slack_api, backend) -> None:
    await _command(http, slack_api, "findings --severity HIGH --provider aws")

    reply = await _reply(slack_api)
    ((args, kwargs),) = backend.called("list_findings")
    assert args == (TENANT,)
    assert kwargs == {"provider": "aws", "severity": "high", "account": None, "limit": 20}
    text = json.dumps(reply["blocks"])
    assert FID in text
    assert "&lt;b&gt;data&lt;/b&gt; &amp;" in text
    assert "<b>" not in text


async def test_show_replies_with_the_finding_card(http, slack_api, backend) -> None:
    await _command(http, slack_api, f"show {FID}")

    reply = await _reply(slack_api)
    assert reply["blocks"] == finding_blocks(backend.cards[(TENANT, FID)])
    assert reply["response_type"] == "ephemeral"


async def test_show_of_unknown_finding_says_so(http, slack_api) -> None:
    await _command(http, slack_api, "show f-ffffffffffff")

    reply = await _reply(slack_api)
    assert "There is no finding `f-ffffffffffff` in this tenant" in reply["text"]
    assert "/fintropy findings" in reply["text"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("show vol-0abc", "`vol-0abc` is not a finding id"),
        ("frobnicate", "I don't know the command `frobnicate`"),
        (f"reject {FID}", "A rejection needs a reason"),
        ("findings --severity urgent", "`urgent` is not a valid `--severity`"),
    ],
)
async def test_malformed_command_gets_usage_and_changes_nothing(
    http, slack_api, backend, text, says
) -> None:
    await _command(http, slack_api, text)

    reply = await _reply(slack_api)
    assert says in reply["text"]
    assert "/fintropy" in reply["text"]
    assert not backend.called("decide")
    assert not backend.called("list_findings")


async def test_approve_command_decides_as_the_person(http, slack_api, backend) -> None:
    await _command(http, slack_api, f"approve {FID}")

    reply = await _reply(slack_api)
    ((args, kwargs),) = backend.called("decide")
    actor, finding, decision, reason = args
    assert (actor.person_id, actor.user_id, finding, decision, reason) == (
        "p-ann",
        APPROVER,
        FID,
        "approve",
        "",
    )
    assert kwargs["source"]["via"] == "command"
    assert kwargs["source"]["channel_id"] == CHANNEL
    assert reply["text"] == f"Approved {FID} as Ann Approver."


async def test_reject_command_passes_the_reason(http, slack_api, backend) -> None:
    await _command(http, slack_api, f"reject {FID} owned by the data team")

    await _reply(slack_api)
    ((args, _),) = backend.called("decide")
    assert args[1:] == (FID, "reject", "owned by the data team")


async def test_refused_decision_is_explained(http, slack_api, backend) -> None:
    await _command(http, slack_api, "approve f-ffffffffffff")

    reply = await _reply(slack_api)
    assert reply["text"] == "Not done: There is no finding f-ffffffffffff in this tenant."


async def test_viewer_cannot_approve_by_command(http, slack_api, backend) -> None:
    await _command(http, slack_api, f"approve {FID}", user=VIEWER)

    reply = await _reply(slack_api)
    assert "Only people with the approver role" in reply["text"]
    assert "your role in this tenant is viewer" in reply["text"]
    assert not backend.called("decide")
    ((args, _),) = backend.called("record_refusal")
    assert args == (
        TENANT,
        "slack",
        TEAM,
        VIEWER,
        f"/fintropy approve {FID}",
        "role viewer is below approver",
    )


async def test_scan_needs_a_requester_and_reports_the_scan_id(http, slack_api, backend) -> None:
    await _command(http, slack_api, "scan", user=REQUESTER)

    reply = await _reply(slack_api)
    assert "Scan `scan-000000000001` started" in reply["text"]
    ((args, _),) = backend.called("start_scan")
    assert args[0].person_id == "p-rex"


async def test_audit_command_shows_the_trail(http, slack_api) -> None:
    await _command(http, slack_api, f"audit {FID}", user=VIEWER)

    reply = await _reply(slack_api)
    text = json.dumps(reply["blocks"])
    assert "card.posted" in text
    assert "finding.approved" in text
    assert text.index("`#1`") < text.index("`#2`")


async def test_audit_of_unknown_finding_says_so(http, slack_api) -> None:
    await _command(http, slack_api, "audit f-ffffffffffff")

    reply = await _reply(slack_api)
    assert "There is no finding `f-ffffffffffff`" in reply["text"]


# -- tenancy and identity --------------------------------------------------------------------


async def test_unbound_workspace_is_refused_and_audited(http, slack_api, backend) -> None:
    await _command(http, slack_api, "findings", team="T0NOBODY", channel="C0NOWHERE")

    reply = await _reply(slack_api)
    assert "not connected to a Fintropy tenant" in reply["text"]
    assert not backend.called("list_findings")
    assert not backend.called("resolve_actor")
    ((args, _),) = backend.called("record_refusal")
    assert args == (
        None,
        "slack",
        "T0NOBODY",
        APPROVER,
        "/fintropy findings",
        "workspace or channel not bound to a tenant",
    )


async def test_unbound_channel_of_a_bound_workspace_is_refused(http, slack_api, backend) -> None:
    await _command(http, slack_api, "findings", channel="C0RANDOM")

    reply = await _reply(slack_api)
    assert "not connected to a Fintropy tenant" in reply["text"]
    assert not backend.called("list_findings")


async def test_unlinked_user_is_refused_and_audited(http, slack_api, backend) -> None:
    await _command(http, slack_api, "findings", user=STRANGER)

    reply = await _reply(slack_api)
    assert "not linked to a person" in reply["text"]
    assert not backend.called("list_findings")
    ((args, _),) = backend.called("record_refusal")
    assert args[0] == TENANT
    assert args[3] == STRANGER


# -- request verification --------------------------------------------------------------------


def _forged(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Slack-Signature": "v0=" + "0" * 64}


@pytest.mark.parametrize("variant", ["unsigned", "forged", "stale", "other_secret"])
async def test_unverified_request_gets_401_and_changes_nothing(
    http, slack_api, backend, variant
) -> None:
    secret = "not-the-signing-secret" if variant == "other_secret" else SIGNING_SECRET
    stale = int(time.time()) - 301 if variant == "stale" else None
    payload = block_action_payload(
        "finding_approve",
        _token(),
        team_id=TEAM,
        channel_id=CHANNEL,
        user_id=APPROVER,
        response_url=slack_api.response_url("x"),
    )
    body, headers = signed_action(secret, payload, timestamp=stale)
    if variant == "unsigned":
        headers = {"Content-Type": headers["Content-Type"]}
    if variant == "forged":
        headers = _forged(headers)

    response = await http.post(EVENTS, data=body, headers=headers)

    assert response.status == 401
    await slack_api.settle()
    assert backend.calls == []
    assert slack_api.calls == []


async def test_stale_slash_command_gets_401(http, slack_api, backend) -> None:
    body, headers = signed_command(
        SIGNING_SECRET,
        f"approve {FID}",
        TEAM,
        CHANNEL,
        APPROVER,
        response_url=slack_api.response_url("x"),
        timestamp=int(time.time()) - 600,
    )

    response = await http.post(EVENTS, data=body, headers=headers)

    assert response.status == 401
    assert backend.calls == []


async def test_signed_request_with_a_retry_header_is_answered(http, slack_api) -> None:
    body, headers = signed_command(
        SIGNING_SECRET,
        "help",
        TEAM,
        CHANNEL,
        APPROVER,
        response_url=slack_api.response_url("x"),
        retry_num=1,
    )

    response = await http.post(EVENTS, data=body, headers=headers)

    assert response.status == 200
    assert await _reply(slack_api)


async def test_health_check_answers_ok(http) -> None:
    response = await http.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"ok": True}


# -- buttons ---------------------------------------------------------------------------------


async def test_approve_click_decides_for_the_clicker(http, slack_api, backend) -> None:
    status = await _click(http, slack_api, "finding_approve", _token())

    reply = await _reply(slack_api)
    assert status == 200
    ((args, kwargs),) = backend.called("decide")
    actor, finding, decision, _reason = args
    assert (actor.person_id, actor.workspace_id, actor.user_id) == ("p-ann", TEAM, APPROVER)
    assert (finding, decision) == (FID, "approve")
    source = kwargs["source"]
    assert source["via"] == "button"
    assert source["card_id"] == f"finding-{TENANT}-{FID}"
    assert source["message_ts"] == "1700000000.000001"
    assert reply == {
        "text": f"Approved {FID} as Ann Approver.",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert not slack_api.calls_to("chat.update")  # the workflow updates the card, not the click


async def test_approve_click_by_a_viewer_is_refused(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_approve", _token(), user=VIEWER)

    reply = await _reply(slack_api)
    assert "Only people with the approver role" in reply["text"]
    assert not backend.called("decide")
    ((args, _),) = backend.called("record_refusal")
    assert args[3:] == (VIEWER, f"approve button {FID}", "role viewer is below approver")


async def test_tampered_button_value_is_refused(http, slack_api, backend) -> None:
    version, body, mac = _token().split(".")
    tampered = f"{version}.{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"

    await _click(http, slack_api, "finding_approve", tampered)

    reply = await _reply(slack_api)
    assert "That button is not valid here" in reply["text"]
    assert not backend.called("decide")
    ((args, _),) = backend.called("record_refusal")
    assert args[-1] == "button token tampered"


async def test_plain_finding_id_as_button_value_is_refused(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_approve", FID)

    reply = await _reply(slack_api)
    assert "That button is not valid here" in reply["text"]
    assert not backend.called("decide")
    assert backend.called("record_refusal")[0][0][-1] == "button token malformed"


async def test_another_tenants_button_is_refused(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_approve", _token(tenant=OTHER_TENANT))

    reply = await _reply(slack_api)
    assert "That button is not valid here" in reply["text"]
    assert not backend.called("decide")
    assert backend.called("record_refusal")[0][0][-1] == "button token foreign_tenant"


async def test_token_for_another_action_is_refused(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_approve", _token(action="snooze"))

    reply = await _reply(slack_api)
    assert "older card" in reply["text"]
    assert not backend.called("decide")


async def test_click_from_an_unbound_workspace_is_refused(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_approve", _token(), team="T0NOBODY", channel="C0NOWHERE")

    reply = await _reply(slack_api)
    assert "not connected to a Fintropy tenant" in reply["text"]
    assert not backend.called("decide")
    assert backend.called("record_refusal")[0][0][0] is None


async def test_reject_click_opens_a_modal_and_the_reason_rejects(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_reject", _token())
    (opened,) = await slack_api.await_calls("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"] == "1000000000.1000000000.trigger"
    assert view["callback_id"] == "finding_reject_reason"
    assert not backend.called("decide")

    values = {
        "reason": {"reason_input": {"type": "plain_text_input", "value": "owned by the data team"}}
    }
    payload = view_submission_payload(view, values, team_id=TEAM, user_id=APPROVER)
    body, headers = signed_action(SIGNING_SECRET, payload)
    response = await http.post(EVENTS, data=body, headers=headers)

    assert response.status == 200
    (told,) = await slack_api.await_calls("chat.postEphemeral")
    ((args, kwargs),) = backend.called("decide")
    assert args[0].person_id == "p-ann"
    assert args[1:] == (FID, "reject", "owned by the data team")
    assert kwargs["source"]["via"] == "modal"
    assert told.body["channel"] == CHANNEL
    assert told.body["user"] == APPROVER
    assert told.body["text"] == f"Rejected {FID} as Ann Approver."


async def test_empty_reason_keeps_the_modal_open_with_an_error(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_reject", _token())
    (opened,) = await slack_api.await_calls("views.open")
    values = {"reason": {"reason_input": {"type": "plain_text_input", "value": "   "}}}
    payload = view_submission_payload(opened.body["view"], values, team_id=TEAM, user_id=APPROVER)
    body, headers = signed_action(SIGNING_SECRET, payload)

    response = await http.post(EVENTS, data=body, headers=headers)

    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "errors"
    assert "Write a reason" in answer["errors"]["reason"]
    await slack_api.settle()
    assert not backend.called("decide")


async def test_modal_with_a_forged_token_is_refused(http, slack_api, backend) -> None:
    view = {
        "type": "modal",
        "callback_id": "finding_reject_reason",
        "private_metadata": json.dumps(
            {"token": _token(tenant=OTHER_TENANT), "channel_id": CHANNEL}
        ),
    }
    values = {"reason": {"reason_input": {"type": "plain_text_input", "value": "because"}}}
    payload = view_submission_payload(view, values, team_id=TEAM, user_id=APPROVER)
    body, headers = signed_action(SIGNING_SECRET, payload)

    await http.post(EVENTS, data=body, headers=headers)

    (told,) = await slack_api.await_calls("chat.postEphemeral")
    assert "That button is not valid here" in told.body["text"]
    assert not backend.called("decide")


async def test_reject_modal_that_fails_to_open_is_explained(http, slack_api, backend) -> None:
    slack_api.queue_response("views.open", body={"ok": False, "error": "expired_trigger_id"})

    await _click(http, slack_api, "finding_reject", _token())

    reply = await _reply(slack_api)
    assert "could not be opened in time" in reply["text"]
    assert not backend.called("decide")


async def test_reject_click_by_a_viewer_opens_no_modal(http, slack_api, backend) -> None:
    await _click(http, slack_api, "finding_reject", _token(), user=VIEWER)

    reply = await _reply(slack_api)
    assert "Only people with the approver role" in reply["text"]
    assert not slack_api.calls_to("views.open")


async def test_details_click_shows_the_card_and_trail_to_the_clicker(
    http, slack_api, backend
) -> None:
    await _click(http, slack_api, "finding_details", _token(), user=VIEWER)

    reply = await _reply(slack_api)
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    assert "Unattached EBS volume" in text
    assert "finding.approved" in text
    assert not [b for b in reply["blocks"] if b["type"] == "actions"]
    assert not backend.called("decide")


# -- failures --------------------------------------------------------------------------------


async def test_backend_failure_gets_a_reference_and_is_logged_without_payload(
    http, slack_api, backend, caplog
) -> None:
    backend.fail_with = RuntimeError("database is down")
    caplog.set_level(logging.ERROR)

    await _command(http, slack_api, "findings --account 123456789012")

    reply = await _reply(slack_api)
    assert "Something went wrong" in reply["text"]
    assert "Reference `" in reply["text"]
    (record,) = [r for r in caplog.records if r.getMessage() == "slack listener failed"]
    assert record.exc_info is not None
    assert record.correlation_id in reply["text"]
    assert "123456789012" not in record.getMessage()
    assert not hasattr(record, "body")


async def test_expired_response_url_is_logged(http, slack_api, caplog) -> None:
    slack_api.queue_response("response_url", status=404, body="expired_url")
    caplog.set_level(logging.WARNING)

    await _command(http, slack_api, "help")

    await slack_api.await_calls("response_url")
    await slack_api.settle()
    assert [r for r in caplog.records if r.getMessage() == "slack reply not delivered"]
