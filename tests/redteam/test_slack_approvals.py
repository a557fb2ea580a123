"""Red team: try to make Fintropy act when it must not, through its real Slack endpoint.

Every case drives the real stack (see ``tests.redteam.stack``) and checks three things: nothing
happened (the finding still awaits approval, no remediation run, no cloud call that changes
anything), the person was told clearly why (HTTP status or ephemeral reply), and the refusal
is in the tenant's audit ledger with the person behind it, whenever the tenant is known.

Cases that expose a defect state the correct behaviour and are marked ``xfail(strict=True)``
with the specific exception that shows the defect, so any other failure still fails the run.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
import pytest_asyncio

from fintropy.domain import ACTIONS
from tests.redteam.harness import (
    APPROVE,
    NONPROD,
    PROD,
    REJECT,
    Attack,
    SideEffect,
    forge_signature,
)
from tests.redteam.stack import start_stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROLE_REFUSAL = "Only people with the approver role"
_FORM = "application/x-www-form-urlencoded"
BAD_BUTTON = "That button is not valid here"
NOT_DONE = "Not done:"
CHEAP = ("modify_volume_to_gp3", "stop_instance", "release_address", "delete_snapshot")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def attack(engine, temporal_dev_env, slack_api_server, redteam_sandbox):
    async for handle in start_stack(engine, temporal_dev_env, slack_api_server, redteam_sandbox):
        yield handle


def _env_tag(attack: Attack, f: Any) -> str:
    return (attack.tags(attack.a, f).get("env") or "").lower()


def one_approver(attack: Attack) -> Callable[[Any], bool]:
    """A cheap action outside production on a resource no volume-deletion case needs."""
    deletions = {
        f.resource_id
        for f in attack.awaiting[attack.a.id]
        if f.action == "snapshot_and_delete_volume"
    }

    def pick(f: Any) -> bool:
        return (
            f.account_id == NONPROD
            and f.action in CHEAP
            and _env_tag(attack, f) != "prod"
            and f.resource_id not in deletions
        )

    return pick


def two_person(attack: Attack) -> Callable[[Any], bool]:
    """A destructive action in the production account, on a resource tagged env=prod."""
    return lambda f: (
        f.account_id == PROD and ACTIONS[f.action].destructive and _env_tag(attack, f) == "prod"
    )


def deletable(attack: Attack) -> Callable[[Any], bool]:
    """A volume deletion outside production (one approver)."""
    return lambda f: (
        f.account_id == NONPROD
        and f.action == "snapshot_and_delete_volume"
        and _env_tag(attack, f) != "prod"
    )


def anything(f: Any) -> bool:
    return True


def has_buttons(card: dict[str, Any]) -> bool:
    """Whether a card (a chat.update body) still carries clickable buttons."""
    return any(b.get("type") == "actions" for b in card.get("blocks") or [])


async def quiet(seconds: float = 0.6) -> None:
    """Give a wrongly accepted request time to show its effect before checking for none."""
    await asyncio.sleep(seconds)


# ---------------------------------------------------------------------------------------------
# Transport: who may talk to the endpoint at all
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", ["command", "button"])
@pytest.mark.parametrize("forgery", ["wrong_secret", "unsigned", "stale_timestamp"])
async def test_unauthenticated_requests_are_refused_before_any_work(
    attack: Attack, surface: str, forgery: str
):
    a = attack.a
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    since, mutations = await attack.mark(a), attack.mutations()
    if surface == "command":
        path, body, headers = attack.command_request(a, f"approve {target.id}", person="alice")
    else:
        path, body, headers = attack.click_request(a, APPROVE, token, person="alice", message_ts=ts)
    stale = int(time.time()) - 400
    if forgery == "wrong_secret":
        headers = forge_signature(body)
    elif forgery == "unsigned":
        headers = {k: v for k, v in headers.items() if k != "X-Slack-Signature"}
    else:
        # A correctly signed request, but from more than five minutes ago.
        from tests.support.slack_fixtures import SIGNING_SECRET, sign_request

        headers = sign_request(SIGNING_SECRET, body, timestamp=stale)

    status = await attack.post(body, headers)
    await quiet()

    assert status == 401
    await attack.assert_untouched(a, target.id, since)
    assert attack.mutations() == mutations
    assert [c for c in attack.slack.calls_to("response_url") if c.path == path] == []
    # An unauthenticated body names a workspace nobody vouched for: it must not write to
    # that tenant's ledger (or anyone could fill it).
    assert [e.action for e in await attack.events(a, since) if e.actor == "alice"] == []


async def test_ssl_check_flag_does_not_smuggle_an_unsigned_command(attack: Attack):
    a = attack.a
    target = attack.bystander(a)
    since, mutations = await attack.mark(a), attack.mutations()
    path, body, _headers = attack.command_request(a, f"approve {target.id}", person="alice")

    # Slack's ssl_check pings are answered before signature verification.
    status = await attack.post(body + "&ssl_check=1", {"Content-Type": _FORM})
    await quiet()

    assert status in (200, 401)
    await attack.assert_untouched(a, target.id, since)
    assert attack.mutations() == mutations
    assert [c for c in attack.slack.calls_to("response_url") if c.path == path] == []
    assert [e.action for e in await attack.events(a, since) if e.actor == "alice"] == []


async def test_replayed_approval_has_one_effect(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    since = await attack.mark(a)

    first = await attack.command(a, f"approve {target.id}", person="bob")
    assert "Approved" in await attack.reply(first)
    # The same signed bytes again, within Slack's five-minute window: the signature is valid.
    status = await attack.replay(first)
    replies = await attack.replies(first, 2)
    result = await attack.result(a, target.id)

    assert status == 200
    assert NOT_DONE in replies[1] and "no longer awaiting" in replies[1]
    assert result.status == "verified"
    assert len(await attack.runs(a, target.id)) == 1
    assert [e.actor for e in await attack.decisions(a, target.id, since)] == ["bob"]
    await attack.assert_refusal_audited(a, since, "bob", subject=target.id)


# ---------------------------------------------------------------------------------------------
# Button values: opaque tokens, never data
# ---------------------------------------------------------------------------------------------


def _tamper_mac(token: str) -> str:
    version, body, mac = token.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    return f"{version}.{body}.{flipped}"


def _swap_finding(token: str, finding_id: str) -> str:
    version, body, mac = token.split(".")
    fields = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("|")
    fields[1] = finding_id
    forged = base64.urlsafe_b64encode("|".join(fields).encode()).decode().rstrip("=")
    return f"{version}.{forged}.{mac}"


@pytest.mark.parametrize("how", ["flipped_mac", "other_finding_in_body", "bare_finding_id"])
async def test_tampered_button_value_is_refused(attack: Attack, how: str):
    a = attack.a
    target = attack.bystander(a)
    victim = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    value = {
        "flipped_mac": lambda: _tamper_mac(token),
        "other_finding_in_body": lambda: _swap_finding(token, victim.id),
        "bare_finding_id": lambda: victim.id,
    }[how]()
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.click(a, APPROVE, value, person="alice", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert sent.status == 200
    assert BAD_BUTTON in reply and "Nothing was changed" in reply
    await attack.assert_untouched(a, target.id, since)
    await attack.assert_untouched(a, victim.id, since)
    assert attack.mutations() == mutations
    row = await attack.assert_refusal_audited(a, since, "alice")
    assert "button token" in row.details["reason"]


async def test_button_from_another_tenants_card_is_refused(attack: Attack):
    a, b = attack.a, attack.b
    foreign = attack.claim(b, "any finding of tenant B", anything)
    local = attack.bystander(a)
    ts, _ = attack.card(a, local.id)
    _, b_token = attack.card(b, foreign.id)
    since, since_b = await attack.mark(a), await attack.mark(b)

    sent = await attack.click(a, APPROVE, b_token, person="alice", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert BAD_BUTTON in reply
    await attack.assert_untouched(a, local.id, since)
    assert await attack.runs(b, foreign.id) == []
    assert await attack.decisions(b, foreign.id, since_b) == []
    row = await attack.assert_refusal_audited(a, since, "alice")
    assert "foreign_tenant" in row.details["reason"]


@pytest.mark.xfail(
    strict=True,
    raises=SideEffect,
    reason="a valid token pasted into another card acts on the token's finding: the clicked "
    "message is never compared with the token's card (bot/slack/listeners/actions.py "
    "_check_click)",
)
async def test_token_pasted_into_another_card_is_refused(attack: Attack):
    a = attack.a
    shown = attack.claim(a, "the card the approver sees", one_approver(attack))
    pasted = attack.claim(a, "the finding whose token is pasted", one_approver(attack))
    shown_ts, _ = attack.card(a, shown.id)
    _, pasted_token = attack.card(a, pasted.id)
    since = await attack.mark(a)

    sent = await attack.click(a, APPROVE, pasted_token, person="alice", message_ts=shown_ts)
    reply = await attack.reply(sent)
    await quiet(1.5)

    assert sent.status == 200
    try:
        await attack.assert_untouched(a, pasted.id, since)
        await attack.assert_untouched(a, shown.id, since)
    finally:
        if await attack.decisions(a, pasted.id, since):
            await attack.result(a, pasted.id)  # let the wrongful run finish before moving on
    assert BAD_BUTTON in reply or "older card" in reply
    await attack.assert_refusal_audited(a, since, "alice")


# ---------------------------------------------------------------------------------------------
# People: roles, unknown users, unbound workspaces
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "surface"),
    [
        ("dave", "approve_button"),
        ("carol", "approve_button"),
        ("dave", "approve_command"),
        ("carol", "reject_command"),
    ],
    ids=["viewer-button", "requester-button", "viewer-command", "requester-reject"],
)
async def test_non_approver_cannot_decide(attack: Attack, person: str, surface: str):
    a = attack.a
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    since, mutations = await attack.mark(a), attack.mutations()

    if surface == "approve_button":
        sent = await attack.click(a, APPROVE, token, person=person, message_ts=ts)
    elif surface == "approve_command":
        sent = await attack.command(a, f"approve {target.id}", person=person)
    else:
        sent = await attack.command(a, f"reject {target.id} not needed", person=person)
    reply = await attack.reply(sent)
    await quiet()

    assert ROLE_REFUSAL in reply and "Nothing was changed" in reply
    await attack.assert_untouched(a, target.id, since)
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, person)


async def test_revoked_approver_cannot_use_an_old_card(attack: Attack):
    from fintropy.domain import Role
    from fintropy.persistence.tenancy import PersonSpec, TenantSpec, provision_tenant

    a = attack.a
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    # gail approved things yesterday; today she is a viewer. Her workflow-era rights are gone.
    demoted = TenantSpec(
        id=a.id,
        name=f"Red team {a.id}",
        people=(PersonSpec(id="gail", display_name="Gail", role=Role.VIEWER),),
    )
    await attack.db(provision_tenant, attack.engine, demoted)
    since = await attack.mark(a)

    sent = await attack.click(a, APPROVE, token, person="gail", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert ROLE_REFUSAL in reply and "your role in this tenant is viewer" in reply
    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(a, since, "gail")


async def test_revoked_approver_cannot_decide_through_the_engine(attack: Attack):
    from fintropy.domain import Role
    from fintropy.persistence.tenancy import PersonSpec, TenantSpec, provision_tenant

    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    demoted = TenantSpec(
        id=a.id,
        name=f"Red team {a.id}",
        people=(PersonSpec(id="hank", display_name="Hank", role=Role.VIEWER),),
    )
    await attack.db(provision_tenant, attack.engine, demoted)
    # What `fintropy approve --as hank` does: resolve the person, hand the decision over.
    actor = await attack.backend.resolve_actor(a.id, "slack", a.team, a.user("hank"))
    assert actor is not None and actor.role == Role.VIEWER
    since = await attack.mark(a)

    result = await attack.backend.decide(actor, target.id, "approve")
    await quiet(1.5)

    try:
        await attack.assert_untouched(a, target.id, since)
    finally:
        if await attack.decisions(a, target.id, since):
            await attack.result(a, target.id)
    assert not result.accepted and "approver" in result.message
    await attack.assert_refusal_audited(a, since, "hank", subject=target.id)


async def test_viewer_cannot_open_or_submit_the_reject_modal(attack: Attack):
    a = attack.a
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)
    opened_before = len(attack.slack.calls_to("views.open"))
    ephemerals_before = len(attack.slack.calls_to("chat.postEphemeral"))

    click = await attack.click(a, REJECT, token, person="dave", message_ts=ts)
    click_reply = await attack.reply(click)
    # A hand-made submission of the modal, as if it had been opened.
    status = await attack.submit_reject_modal(a, token, "I just don't like it", person="dave")
    deadline = time.monotonic() + 10
    while len(attack.slack.calls_to("chat.postEphemeral")) == ephemerals_before:
        assert time.monotonic() < deadline, "no reply to the modal submission"
        await asyncio.sleep(0.05)
    modal_reply = str(attack.slack.calls_to("chat.postEphemeral")[-1].body)
    await quiet()

    assert ROLE_REFUSAL in click_reply
    assert len(attack.slack.calls_to("views.open")) == opened_before
    assert status == 200 and ROLE_REFUSAL in modal_reply
    await attack.assert_untouched(a, target.id, since)
    refused = [e for e in await attack.events(a, since) if e.action == "decision.refused"]
    assert [e.actor for e in refused] == ["dave", "dave"]


@pytest.mark.parametrize("text", ["approve {id}", "reject {id} not needed"])
async def test_refused_command_is_in_the_findings_own_trail(attack: Attack, text: str):
    a = attack.a
    target = attack.bystander(a)
    since = await attack.mark(a)

    sent = await attack.command(a, text.format(id=target.id), person="dave")
    assert ROLE_REFUSAL in await attack.reply(sent)

    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(a, since, "dave", subject=target.id)


@pytest.mark.parametrize("surface", ["button", "command"])
async def test_unknown_user_in_a_bound_workspace_is_refused(attack: Attack, surface: str):
    a = attack.a
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    stranger = f"U{a.team}MALLORY"
    since = await attack.mark(a)

    if surface == "button":
        sent = await attack.click(a, APPROVE, token, user=stranger, message_ts=ts)
    else:
        sent = await attack.command(a, f"approve {target.id}", user=stranger)
    reply = await attack.reply(sent)
    await quiet()

    assert "not linked to a person" in reply
    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(a, since, f"unmapped:{stranger}")


async def test_unbound_workspace_is_refused_and_touches_no_tenant(attack: Attack):
    a, b = attack.a, attack.b
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    since, since_b = await attack.mark(a), await attack.mark(b)

    by_command = await attack.command(
        a, f"approve {target.id}", team="TNOTBOUND", channel="CNOWHERE", user="UNOBODY"
    )
    by_button = await attack.click(
        a, APPROVE, token, team="TNOTBOUND", channel="CNOWHERE", user="UNOBODY", message_ts=ts
    )
    replies = [await attack.reply(by_command), await attack.reply(by_button)]
    await quiet()

    assert all("not connected to a Fintropy tenant" in r for r in replies), replies
    await attack.assert_untouched(a, target.id, since)
    # No tenant is known, so no ledger is written: neither A's nor B's.
    assert [e for e in await attack.events(a, since) if "UNOBODY" in (e.actor_chat or "")] == []
    assert [e for e in await attack.events(b, since_b) if "UNOBODY" in (e.actor_chat or "")] == []


# ---------------------------------------------------------------------------------------------
# Approval policy: owners, two-person rule
# ---------------------------------------------------------------------------------------------


async def test_resource_owner_cannot_approve_their_own_resource(attack: Attack):
    a = attack.a

    def owned_by_dora(f: Any) -> bool:
        return f.account_id == NONPROD and attack.tags(a, f).get("owner") == "team-data@example.com"

    target = attack.claim(a, "a resource tagged owner=team-data@example.com", owned_by_dora)
    ts, token = attack.card(a, target.id)
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.click(a, APPROVE, token, person="dora", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert NOT_DONE in reply and "own this resource" in reply
    await attack.assert_untouched(a, target.id, since)
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "dora", subject=target.id)


async def test_owner_with_differently_cased_email_cannot_approve(attack: Attack):
    a = attack.a

    def owned_by_ml(f: Any) -> bool:
        return one_approver(attack)(f) and attack.tags(a, f).get("owner") == "team-ml@example.com"

    target = attack.claim(a, "a resource tagged owner=team-ml@example.com", owned_by_ml)
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    # frank's email is team-ml@EXAMPLE.COM: the same mailbox (domains ignore case).
    sent = await attack.click(a, APPROVE, token, person="frank", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    try:
        await attack.assert_untouched(a, target.id, since)
    finally:
        if await attack.decisions(a, target.id, since):
            await attack.result(a, target.id)
    assert "own this resource" in reply
    await attack.assert_refusal_audited(a, since, "frank", subject=target.id)


async def test_same_person_cannot_approve_twice_toward_two_person_rule(attack: Attack):
    a = attack.a
    target = attack.claim(a, "destructive action in production", two_person(attack))
    ts, token = attack.card(a, target.id)

    first = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    assert "1 of 2" in await attack.reply(first)
    since, mutations = await attack.mark(a), attack.mutations()
    again = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    reply = await attack.reply(again)
    await quiet()
    state = await attack.state(a, target.id)

    assert NOT_DONE in reply and "second, different approver" in reply
    assert [pid for pid, _name in state.approvals] == ["alice"]
    assert state.phase == "awaiting"
    assert (await attack.finding(a, target.id)).status == "awaiting_approval"
    assert await attack.runs(a, target.id) == []
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "alice", subject=target.id)


async def test_second_chat_identity_of_the_same_person_is_not_a_second_approver(attack: Attack):
    a = attack.a
    target = attack.claim(a, "destructive action in production", two_person(attack))
    ts, token = attack.card(a, target.id)

    first = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    assert "1 of 2" in await attack.reply(first)
    since = await attack.mark(a)
    # alice2 is another Slack account linked to the same person, alice.
    again = await attack.command(a, f"approve {target.id}", user=a.user("alice2"))
    reply = await attack.reply(again)
    await quiet()
    state = await attack.state(a, target.id)

    assert NOT_DONE in reply and "second, different approver" in reply
    assert [pid for pid, _name in state.approvals] == ["alice"]
    assert await attack.runs(a, target.id) == []
    row = await attack.assert_refusal_audited(a, since, "alice", subject=target.id)
    assert row.actor_chat.endswith(a.user("alice2"))


async def test_simultaneous_approvals_by_one_person_count_once(attack: Attack):
    a = attack.a
    target = attack.claim(a, "destructive action in production", two_person(attack))
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    sent = await asyncio.gather(
        *(attack.click(a, APPROVE, token, person="alice", message_ts=ts) for _ in range(3))
    )
    replies = [await attack.reply(s) for s in sent]
    await quiet()
    state = await attack.state(a, target.id)

    assert sum("1 of 2" in r for r in replies) == 1, replies
    assert sum(NOT_DONE in r for r in replies) == 2, replies
    assert [pid for pid, _name in state.approvals] == ["alice"]
    assert await attack.runs(a, target.id) == []
    assert [e.actor for e in await attack.decisions(a, target.id, since)] == ["alice"]


async def test_prod_tag_in_a_nonprod_account_needs_two_distinct_approvers(attack: Attack):
    a = attack.a
    volume_id = attack.retagged["nonprod_tagged_prod"]
    target = attack.claim(
        a,
        "the non-prod volume tagged env=prod",
        lambda f: f.resource_id == volume_id and f.action == "snapshot_and_delete_volume",
    )
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    first = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    first_reply = await attack.reply(first)
    await quiet()
    halfway = await attack.state(a, target.id)
    runs_halfway = await attack.runs(a, target.id)
    second = await attack.click(a, APPROVE, token, person="bob", message_ts=ts)
    second_reply = await attack.reply(second)
    result = await attack.result(a, target.id)

    assert "1 of 2" in first_reply
    assert halfway.phase == "awaiting" and runs_halfway == []
    assert "Approved" in second_reply
    assert result.status == "verified" and result.approved_by == ["Alice", "Bob"]
    assert [e.actor for e in await attack.decisions(a, target.id, since)] == ["alice", "bob"]


async def test_dev_tag_in_the_prod_account_does_not_lower_the_bar(attack: Attack):
    a = attack.a
    volume_id = attack.retagged["prod_account_tagged_dev"]
    target = attack.claim(
        a,
        "the prod-account volume tagged env=dev",
        lambda f: f.resource_id == volume_id and f.action == "snapshot_and_delete_volume",
    )
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    sent = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet(1.5)
    state = await attack.state(a, target.id)
    runs = await attack.runs(a, target.id)
    if runs or state.phase != "awaiting":
        await attack.result(a, target.id)  # let the wrongful deletion finish first
        raise SideEffect(f"one approval deleted a production volume: {reply}")

    assert "1 of 2" in reply
    assert [e.actor for e in await attack.decisions(a, target.id, since)] == ["alice"]


# ---------------------------------------------------------------------------------------------
# Another tenant's workspace
# ---------------------------------------------------------------------------------------------


async def test_other_tenant_cannot_approve_by_finding_id(attack: Attack):
    a, b = attack.a, attack.b
    target = attack.bystander(a)
    since, since_b = await attack.mark(a), await attack.mark(b)

    sent = await attack.command(b, f"approve {target.id}", person="bea")
    reply = await attack.reply(sent)
    made_up = await attack.command(b, "approve f-0000000000ff", person="bea")
    made_up_reply = await attack.reply(made_up)
    await quiet()

    assert "There is no finding" in reply and target.id in reply
    # No oracle: a real finding of another tenant reads exactly like one that never existed.
    assert reply.replace(target.id, "ID") == made_up_reply.replace("f-0000000000ff", "ID")
    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(b, since_b, "bea", subject=target.id)
    assert [e for e in await attack.events(a, since) if e.action.startswith("decision")] == []


@pytest.mark.parametrize("verb", ["show", "audit"])
async def test_other_tenant_cannot_read_a_finding_by_id(attack: Attack, verb: str):
    a, b = attack.a, attack.b
    target = attack.bystander(a)
    since = await attack.mark(a)

    sent = await attack.command(b, f"{verb} {target.id}", person="dan")
    reply = await attack.reply(sent)

    assert "There is no finding" in reply
    assert target.resource_id not in reply and target.title not in reply
    assert await attack.events(a, since, subject=target.id) == []


async def test_other_tenant_cannot_approve_with_a_pasted_token(attack: Attack):
    a, b = attack.a, attack.b
    target = attack.bystander(a)
    ts, token = attack.card(a, target.id)
    since, since_b = await attack.mark(a), await attack.mark(b)

    sent = await attack.click(b, APPROVE, token, person="bea", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert BAD_BUTTON in reply
    await attack.assert_untouched(a, target.id, since)
    row = await attack.assert_refusal_audited(b, since_b, "bea")
    assert "foreign_tenant" in row.details["reason"]


async def test_identity_of_one_tenant_is_unknown_in_another_workspace(attack: Attack):
    a, b = attack.a, attack.b
    target = attack.bystander(a)
    since, since_b = await attack.mark(a), await attack.mark(b)

    # alice's Slack user id, arriving from tenant B's workspace.
    sent = await attack.command(b, f"approve {target.id}", user=a.user("alice"))
    reply = await attack.reply(sent)
    await quiet()

    assert "not linked to a person" in reply
    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(b, since_b, f"unmapped:{a.user('alice')}")


# ---------------------------------------------------------------------------------------------
# Decisions that come too late
# ---------------------------------------------------------------------------------------------


async def test_approval_after_expiry_is_refused(attack: Attack):
    b = attack.b
    target = attack.claim(b, "a finding of tenant B (short approval timeout)", anything)
    ts, token = attack.card(b, target.id)
    result = await attack.result(b, target.id, timeout=60)
    assert result.status == "expired"
    since, mutations = await attack.mark(b), attack.mutations()

    by_button = await attack.click(b, APPROVE, token, person="bea", message_ts=ts)
    by_command = await attack.command(b, f"approve {target.id}", person="bea")
    replies = [await attack.reply(by_button), await attack.reply(by_command)]
    await quiet()

    assert all(NOT_DONE in r and "no longer awaiting" in r for r in replies), replies
    assert not has_buttons(await attack.final_card(b, ts)), "an expired card keeps no buttons"
    assert (await attack.finding(b, target.id)).status == "expired"
    assert await attack.runs(b, target.id) == []
    assert await attack.decisions(b, target.id, since) == []
    assert attack.mutations() == mutations
    refused = [
        e
        for e in await attack.events(b, since, subject=target.id)
        if e.action == "decision.refused"
    ]
    assert [e.actor for e in refused] == ["bea", "bea"]


async def test_approval_of_a_remediated_finding_is_refused(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    done = await attack.command(a, f"approve {target.id}", person="bob")
    assert "Approved" in await attack.reply(done)
    assert (await attack.result(a, target.id)).status == "verified"
    since, mutations = await attack.mark(a), attack.mutations()

    by_button = await attack.click(a, APPROVE, token, person="alice", message_ts=ts)
    by_command = await attack.command(a, f"approve {target.id}", person="erin")
    replies = [await attack.reply(by_button), await attack.reply(by_command)]
    await quiet()

    assert all(NOT_DONE in r and "no longer awaiting" in r for r in replies), replies
    assert not has_buttons(await attack.final_card(a, ts)), "a remediated card keeps no buttons"
    assert (await attack.finding(a, target.id)).status == "verified"
    assert len(await attack.runs(a, target.id)) == 1
    assert await attack.decisions(a, target.id, since) == []
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "alice", subject=target.id)
    await attack.assert_refusal_audited(a, since, "erin", subject=target.id)


async def test_approval_of_a_rejected_finding_is_refused(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    rejected = await attack.command(a, f"reject {target.id} still used by the nightly job")
    assert "Rejected" in await attack.reply(rejected)
    assert (await attack.result(a, target.id)).status == "rejected"
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.click(a, APPROVE, token, person="bob", message_ts=ts)
    reply = await attack.reply(sent)
    await quiet()

    assert NOT_DONE in reply and "no longer awaiting" in reply
    assert not has_buttons(await attack.final_card(a, ts)), "a rejected card keeps no buttons"
    assert (await attack.finding(a, target.id)).status == "rejected"
    assert await attack.runs(a, target.id) == []
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "bob", subject=target.id)


# ---------------------------------------------------------------------------------------------
# Rejections without a reason; malformed and unknown commands
# ---------------------------------------------------------------------------------------------


class WrongAuditAction(AssertionError):
    """An accepted decision was written to the ledger under the wrong action name."""


async def test_rejection_through_the_modal_is_audited_as_rejected(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)
    opened = len(attack.slack.calls_to("views.open"))
    ephemerals = len(attack.slack.calls_to("chat.postEphemeral"))

    click = await attack.click(a, REJECT, token, person="bob", message_ts=ts)
    await attack.slack.await_calls("views.open", opened + 1, 10)
    status = await attack.submit_reject_modal(
        a, token, "owned by the data team, keep until June", person="bob", message_ts=ts
    )
    await attack.slack.await_calls("chat.postEphemeral", ephemerals + 1, 20)
    result = await attack.result(a, target.id)
    decided = await attack.decisions(a, target.id, since)

    assert click.status == 200 and status == 200
    assert result.status == "rejected" and "keep until June" in result.outcome
    assert await attack.runs(a, target.id) == []
    assert [(e.actor, e.details.get("reason")) for e in decided] == [
        ("bob", "owned by the data team, keep until June")
    ]
    if decided[0].action != "decision.rejected":
        raise WrongAuditAction(f"the rejection was audited as {decided[0].action!r}")


async def test_rejection_without_a_reason_changes_nothing(attack: Attack):
    a = attack.a
    target = attack.bystander(a)
    since = await attack.mark(a)

    bare = await attack.command(a, f"reject {target.id}", person="bob")
    blank = await attack.command(a, f"reject {target.id}    ", person="bob")
    _, token = attack.card(a, target.id)
    modal_status = await attack.submit_reject_modal(a, token, "   ", person="bob")
    replies = [await attack.reply(bare), await attack.reply(blank)]
    await quiet()

    assert all("A rejection needs a reason" in r for r in replies), replies
    assert modal_status == 200
    assert '"response_action": "errors"' in attack.last_modal_response
    assert "reason" in attack.last_modal_response.lower()
    await attack.assert_untouched(a, target.id, since)


MALFORMED = {
    "approve-without-id": ("approve", "needs a finding id"),
    "approve-word": ("approve not-an-id", "is not a finding id"),
    "approve-short-id": ("approve f-12345", "is not a finding id"),
    "approve-extra-words": ("approve f-000000000000 and-more", "does not take"),
    "approve-sql": ("approve f-000000000000;DROP TABLE findings", "is not a finding id"),
    "reject-without-id": ("reject", "needs a finding id"),
    "restore-without-run": ("restore", "needs a run id"),
    "restore-path": ("restore run-../../etc", "is not a run id"),
    "zero-width-verb": ("approve\u200b f-000000000000", "don't know the command"),
    "unknown-verb": ("yes-please-delete-everything", "don't know the command"),
}


@pytest.mark.parametrize(("text", "expected"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_command_is_explained_and_changes_nothing(
    attack: Attack, text: str, expected: str
):
    a = attack.a
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.command(a, text, person="bob")
    reply = await attack.reply(sent)
    await quiet(0.3)

    assert sent.status == 200
    assert expected in reply, reply
    assert "/fintropy" in reply, "the reply shows the usage"
    assert attack.mutations() == mutations
    assert [e for e in await attack.events(a, since) if e.action.startswith("decision.a")] == []
    assert [e for e in await attack.events(a, since) if e.action.startswith("remediation")] == []


@pytest.mark.parametrize("text", ["reject {id}", "approve {id}-not-hex"])
async def test_malformed_decision_attempt_is_audited(attack: Attack, text: str):
    a = attack.a
    target = attack.bystander(a)
    since = await attack.mark(a)

    sent = await attack.command(a, text.format(id=target.id), person="bob")
    await attack.reply(sent)

    await attack.assert_untouched(a, target.id, since)
    await attack.assert_refusal_audited(a, since, "bob")


async def test_advice_only_finding_cannot_be_approved(attack: Attack):
    a = attack.a
    assert attack.advice[a.id], "the sandbox raises advice-only findings"
    target = attack.advice[a.id][0]
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.command(a, f"approve {target.id}", person="bob")
    reply = await attack.reply(sent)
    await quiet()

    assert NOT_DONE in reply
    assert (await attack.finding(a, target.id)).status == target.status
    assert await attack.runs(a, target.id) == []
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "bob", subject=target.id)


async def test_unknown_finding_id_is_refused(attack: Attack):
    a = attack.a
    since = await attack.mark(a)

    sent = await attack.command(a, "approve f-000000000000", person="bob")
    reply = await attack.reply(sent)

    assert "There is no finding" in reply and "f-000000000000" in reply
    await attack.assert_refusal_audited(a, since, "bob", subject="f-000000000000")
    assert await attack.runs(a, "f-000000000000") == []


# ---------------------------------------------------------------------------------------------
# Races and retries: exactly one remediation
# ---------------------------------------------------------------------------------------------


async def test_two_approvers_racing_remediate_once(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    clicks = await asyncio.gather(
        attack.click(a, APPROVE, token, person="alice", message_ts=ts),
        attack.click(a, APPROVE, token, person="bob", message_ts=ts),
    )
    replies = [await attack.reply(c) for c in clicks]
    result = await attack.result(a, target.id)
    decided = await attack.decisions(a, target.id, since)

    assert sum("Approved" in r for r in replies) == 1, replies
    assert sum(NOT_DONE in r for r in replies) == 1, replies
    assert result.status == "verified"
    assert len(await attack.runs(a, target.id)) == 1
    assert [e.action for e in decided] == ["decision.approved"]
    loser = "bob" if decided[0].actor == "alice" else "alice"
    await attack.assert_refusal_audited(a, since, loser, subject=target.id)


async def test_approve_and_reject_racing_settle_on_one_decision(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    approve, reject = await asyncio.gather(
        attack.click(a, APPROVE, token, person="alice", message_ts=ts),
        attack.command(a, f"reject {target.id} keep it for the audit", person="bob"),
    )
    replies = [await attack.reply(approve), await attack.reply(reject)]
    result = await attack.result(a, target.id)
    decided = await attack.decisions(a, target.id, since)
    runs = await attack.runs(a, target.id)

    assert len(decided) == 1, [(e.actor, e.action) for e in decided]
    assert sum(NOT_DONE in r for r in replies) == 1, replies
    if decided[0].action == "decision.approved":
        assert result.status == "verified" and len(runs) == 1
        await attack.assert_refusal_audited(a, since, "bob", subject=target.id)
    else:
        assert result.status == "rejected" and runs == []
        await attack.assert_refusal_audited(a, since, "alice", subject=target.id)


async def test_retry_storm_and_double_clicks_remediate_once(attack: Attack):
    a = attack.a
    target = attack.claim(a, "one-approver finding", one_approver(attack))
    ts, token = attack.card(a, target.id)
    since = await attack.mark(a)

    first = await attack.click(a, APPROVE, token, person="bob", message_ts=ts)
    storm = await asyncio.gather(
        *(attack.replay(first, retry_num=n) for n in (1, 2, 3)),
        attack.click(a, APPROVE, token, person="bob", message_ts=ts),
        attack.click(a, APPROVE, token, person="alice", message_ts=ts),
        attack.click(a, APPROVE, token, person="alice", message_ts=ts),
    )
    result = await attack.result(a, target.id)
    await quiet()

    statuses = [s if isinstance(s, int) else s.status for s in storm]
    assert first.status == 200 and statuses == [200] * 6
    assert result.status == "verified"
    assert len(await attack.runs(a, target.id)) == 1
    assert [e.action for e in await attack.decisions(a, target.id, since)] == ["decision.approved"]
    executed = [
        e
        for e in await attack.events(a, since, subject=target.id)
        if e.action == "remediation.executed"
    ]
    assert len(executed) == 1


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------


async def _remediated_run(attack: Attack, key: str = "shared") -> tuple[Any, str]:
    """A deleted volume (snapshot kept) for the restore cases, made once per ``key``."""
    attack.restorable = getattr(attack, "restorable", {})
    if key not in attack.restorable:
        a = attack.a
        target = attack.claim(a, "volume deletion outside production", deletable(attack))
        sent = await attack.command(a, f"approve {target.id}", person="bob")
        assert "Approved" in await attack.reply(sent)
        result = await attack.result(a, target.id)
        assert result.status == "verified", result
        attack.restorable[key] = (target, result.run_id)
    return attack.restorable[key]


@pytest.mark.parametrize("person", ["dave", "carol"])
async def test_restore_by_non_approver_is_refused(attack: Attack, person: str):
    a = attack.a
    target, run_id = await _remediated_run(attack)
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.command(a, f"restore {run_id}", person=person)
    reply = await attack.reply(sent)
    await quiet()

    assert "approver role" in reply and "Nothing was changed" in reply
    assert attack.mutations() == mutations
    assert [e for e in await attack.events(a, since) if e.action == "restore.requested"] == []
    await attack.assert_refusal_audited(a, since, person)


async def test_restore_from_another_tenant_is_refused(attack: Attack):
    b = attack.b
    _target, run_id = await _remediated_run(attack)
    since_b, mutations = await attack.mark(b), attack.mutations()

    sent = await attack.command(b, f"restore {run_id}", person="bea")
    reply = await attack.reply(sent)

    assert "no remediation run" in reply and run_id in reply
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(b, since_b, "bea")


async def test_restore_of_an_unknown_run_is_refused(attack: Attack):
    a = attack.a
    since, mutations = await attack.mark(a), attack.mutations()

    sent = await attack.command(a, "restore run-f-000000000000-00000000", person="bob")
    reply = await attack.reply(sent)

    assert "no remediation run" in reply
    assert attack.mutations() == mutations
    await attack.assert_refusal_audited(a, since, "bob")


async def test_racing_restores_restore_once(attack: Attack):
    a = attack.a
    target, run_id = await _remediated_run(attack, "racing")
    since = await attack.mark(a)

    sent = await asyncio.gather(
        attack.command(a, f"restore {run_id}", person="alice"),
        attack.command(a, f"restore {run_id}", person="bob"),
        attack.command(a, f"restore {run_id}", person="erin"),
    )
    replies = [await attack.reply(s, timeout=60) for s in sent]
    events = await attack.events(a, since, subject=target.id)

    assert sum("Restored run" in r for r in replies) == 1, replies
    assert sum("already been restored" in r for r in replies) == 2, replies
    assert [e.action for e in events].count("remediation.restored") == 1
    assert [e.action for e in events].count("restore.requested") == 1
    refused = [e for e in await attack.events(a, since) if e.action == "decision.refused"]
    assert len(refused) == 2


async def test_restore_twice_restores_once(attack: Attack):
    a = attack.a
    target, run_id = await _remediated_run(attack)
    since = await attack.mark(a)

    first = await attack.command(a, f"restore {run_id}", person="alice")
    first_reply = await attack.reply(first, timeout=60)
    mutations = attack.mutations()
    second = await attack.command(a, f"restore {run_id}", person="bob")
    second_reply = await attack.reply(second)
    await quiet()

    assert "Restored run" in first_reply
    assert "already been restored" in second_reply
    assert attack.mutations() == mutations
    restored = [
        e
        for e in await attack.events(a, since, subject=target.id)
        if e.action == "remediation.restored"
    ]
    assert len(restored) == 1
    await attack.assert_refusal_audited(a, since, "bob")
