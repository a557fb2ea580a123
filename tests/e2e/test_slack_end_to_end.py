"""End to end through Slack: signed requests in, recorded Web API calls out, real everything else.

A seeded moto server (its own process), the machine's PostgreSQL, the Temporal dev server, the
real worker with the real activities, and the real Bolt app behind the real aiohttp endpoint.
Slack itself is the only thing replaced: by a local server that records what Fintropy sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import test_utils

from tests.support.slack_fixtures import (
    BOT_TOKEN,
    SIGNING_SECRET,
    block_action_payload,
    signed_action,
    signed_command,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TEAM, CHANNEL = "TE2E", "CE2E"
ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
TOKEN_SECRET = b"e2e-card-token-secret"
PROD, NONPROD = "111111111111", "222222222222"

TENANTS_YAML = f"""
tenants:
  - id: e2e
    name: End-to-end Corp
    accounts:
      - {{provider: aws, account_id: "{PROD}", name: payments-prod, environment: prod,
          role_arn: "arn:aws:iam::{PROD}:role/FintropyReadOnly", regions: [us-east-1, eu-west-1]}}
      - {{provider: aws, account_id: "{NONPROD}", name: analytics-dev, environment: nonprod,
          role_arn: "arn:aws:iam::{NONPROD}:role/FintropyReadOnly",
          regions: [us-east-1, eu-west-1]}}
    people:
      - {{id: alice, display_name: Alice, email: alice@example.com, role: approver,
          chat: [{{platform: slack, workspace_id: {TEAM}, user_id: {ALICE}}}]}}
      - {{id: bob, display_name: Bob, email: bob@example.com, role: approver,
          chat: [{{platform: slack, workspace_id: {TEAM}, user_id: {BOB}}}]}}
      - {{id: carol, display_name: Carol, email: carol@example.com, role: viewer,
          chat: [{{platform: slack, workspace_id: {TEAM}, user_id: {CAROL}}}]}}
    channels:
      - {{platform: slack, workspace_id: {TEAM}, channel_id: {CHANNEL}, default: true}}
"""


class Stack:
    """Handles on everything the tests drive or inspect."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    async def command(
        self,
        text: str,
        *,
        user: str = ALICE,
        team: str = TEAM,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> int:
        body, headers = signed_command(
            SIGNING_SECRET,
            text,
            team,
            CHANNEL,
            user,
            response_url=self.slack.response_url(f"cmd-{uuid.uuid4().hex[:6]}"),
            timestamp=timestamp,
        )
        if not signed:
            headers.pop("X-Slack-Signature")
        response = await self.http.post("/slack/events", data=body, headers=headers)
        return response.status

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        message_ts: str,
        retry_num: int | None = None,
    ) -> int:
        payload = block_action_payload(
            action_id,
            value,
            team_id=TEAM,
            channel_id=CHANNEL,
            user_id=user,
            response_url=self.slack.response_url(f"click-{uuid.uuid4().hex[:6]}"),
            message_ts=message_ts,
        )
        body, headers = signed_action(SIGNING_SECRET, payload, retry_num=retry_num)
        response = await self.http.post("/slack/events", data=body, headers=headers)
        return response.status


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(engine, temporal_dev_env, slack_api_server):
    import yaml

    from adapters.aws.moto_server import start_moto_process
    from adapters.aws.sandbox import sandbox_session_factory
    from bot.backend_impl import TemporalBackend
    from bot.service import build_web_app
    from bot.slack.app import build_slack_app
    from bot.slack.notifier import SlackChatPort
    from fintropy.runtime import Services, build_worker
    from fintropy.service import provision
    from fintropy.tenants import parse_tenants

    moto = await asyncio.to_thread(start_moto_process, seed_now=datetime.now(UTC))
    endpoint = moto.endpoint_url
    provision(engine, parse_tenants(yaml.safe_load(TENANTS_YAML), "e2e"))
    services = Services(
        engine=engine,
        chat=SlackChatPort(BOT_TOKEN, api_url=slack_api_server.api_url),
        token_secret=TOKEN_SECRET,
        aws_endpoint_url=endpoint,
        session_factory=sandbox_session_factory(endpoint),
    )
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    client = temporal_dev_env.client
    backend = TemporalBackend(engine, client, queue, approval_timeout_seconds=3600)
    slack_app = build_slack_app(
        backend,
        signing_secret=SIGNING_SECRET,
        token=BOT_TOKEN,
        api_url=slack_api_server.api_url,
        token_secret=TOKEN_SECRET,
    )
    http = test_utils.TestClient(test_utils.TestServer(build_web_app(slack_app)))
    await http.start_server()
    async with build_worker(client, services, queue):
        yield Stack(
            engine=engine,
            backend=backend,
            client=client,
            http=http,
            slack=slack_api_server,
            endpoint=endpoint,
            manifest=moto.manifest,
            services=services,
        )
    await http.close()
    moto.stop()


async def _scanned(stack: Stack) -> list[Any]:
    """Run `/fintropy scan` once for the module and return the awaiting findings."""
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    if getattr(stack, "awaiting", None) is not None:
        return stack.awaiting
    started = time.monotonic()
    status = await stack.command("scan")
    ack_seconds = time.monotonic() - started
    assert status == 200
    assert ack_seconds < 3, "Slack needs an acknowledgement within 3 seconds"
    deadline = time.monotonic() + 180
    awaiting: list[Any] = []
    while time.monotonic() < deadline:

        def query() -> tuple[Any, list[Any], list[Any]]:
            with tenant_session(stack.engine, "e2e") as session:
                scan = repo.latest_scan(session, "e2e")
                found = repo.list_findings(session, "e2e", status="awaiting_approval")
                posted = [f for f in found if f.card_refs]
                actionable = [
                    f for f in repo.list_findings(session, "e2e", open_only=True) if f.action
                ]
                return scan, posted, actionable

        scan, awaiting, actionable = await asyncio.to_thread(query)
        # One card per resource and action (two rules may propose the same action).
        wanted = {(f.account_id, f.region, f.resource_id, f.action) for f in actionable}
        if scan is not None and scan.finished_at and awaiting and len(awaiting) == len(wanted):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the scan did not post every actionable card in time")
    stack.awaiting = awaiting
    # Keep the cards as posted: other tests clear the shared recording server.
    stack.posts = list(stack.slack.calls_to("chat.postMessage"))
    return awaiting


def _button_value(post: Any, action_id: str) -> str:
    for block in post.body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button on the card")


def _card_post(stack: Stack, finding: Any) -> Any:
    ts = finding.card_refs[0]["message_id"]
    for call in stack.posts:
        text = str(call.body)
        if (
            call.body.get("channel") == CHANNEL
            and finding.resource_id in text
            and finding.rule_id in text
        ):
            return call, ts
    raise AssertionError(f"no card was posted for {finding.id}")


async def _result(stack: Stack, finding_id: str) -> Any:
    from workflows.finding_workflow import FindingResult, finding_workflow_id

    handle = stack.client.get_workflow_handle(
        finding_workflow_id("e2e", finding_id), result_type=FindingResult
    )
    # Generous: on a loaded 2-core CI machine a remediation can take a minute or two.
    return await asyncio.wait_for(handle.result(), timeout=300)


async def test_approve_in_slack_remediates_verifies_and_audits(stack):
    import boto3
    from botocore.exceptions import ClientError

    from fintropy import audit
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    volume = next(
        f for f in awaiting if f.action == "snapshot_and_delete_volume" and f.account_id == NONPROD
    )
    post, ts = _card_post(stack, volume)
    value = _button_value(post, "finding_approve")
    assert volume.id not in value, "button values are opaque tokens"

    status = await stack.click("finding_approve", value, user=ALICE, message_ts=ts)
    result = await _result(stack, volume.id)

    assert status == 200
    assert result.status == "verified"
    # The card was updated in place: same channel and ts, buttons gone, outcome shown.
    updates = [
        c
        for c in stack.slack.calls_to("chat.update")
        if c.body.get("ts") == ts and c.body.get("channel") == CHANNEL
    ]
    assert len(updates) >= 2
    final = updates[-1].body
    assert not any(b.get("type") == "actions" for b in final["blocks"])
    assert "Alice" in str(final["blocks"]) and "erified" in str(final["blocks"])
    # The volume is really gone from moto, and its snapshot really exists.
    with tenant_session(stack.engine, "e2e") as session:
        point = repo.get_outcome(session, "e2e", result.run_id, "restore_point")
        events = audit.trail(session, "e2e", subject=volume.id)
    session_factory = stack.services.session_factory
    account = next(a for a in stack.manifest.accounts if a.account_id == NONPROD)
    ec2 = session_factory(account, volume.region).client(
        "ec2", endpoint_url=stack.endpoint, region_name=volume.region
    )
    with pytest.raises(ClientError) as gone:
        ec2.describe_volumes(VolumeIds=[volume.resource_id])
    snapshot_id = point.restore_point["snapshot_id"]
    snaps = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert gone.value.response["Error"]["Code"] == "InvalidVolume.NotFound"
    assert snaps[0]["VolumeId"] == volume.resource_id
    # The audit rows are in order, with the person behind the click as the actor.
    actions = [e.action for e in events]
    expected = [
        "finding.opened",
        "card.posted",
        "decision.approved",
        "card.updated",
        "remediation.planned",
        "remediation.restore_point",
        "remediation.executed",
        "remediation.verified",
        "card.updated",
    ]
    assert [a for a in actions if a in expected] == expected
    approved = next(e for e in events if e.action == "decision.approved")
    assert approved.actor == "alice"
    assert approved.actor_chat == f"slack:{TEAM}/{ALICE}"
    assert all(e.rule_id == volume.rule_id for e in events if e.action.startswith("remediation"))
    _ = boto3


async def test_bad_requests_change_nothing(stack):
    from fintropy import audit
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    target = next(
        f
        for f in awaiting
        if f.action and f.account_id == NONPROD and f.action != "snapshot_and_delete_volume"
    )
    post, ts = _card_post(stack, target)
    value = _button_value(post, "finding_approve")
    stack.slack.clear()

    unsigned = await stack.command("approve " + target.id, signed=False)
    stale = await stack.command("approve " + target.id, timestamp=int(time.time()) - 400)
    by_viewer = await stack.click("finding_approve", value, user=CAROL, message_ts=ts)
    unknown = await stack.command("show f-000000000000")
    malformed = await stack.command("reject")
    foreign = await stack.command("findings", team="TFOREIGN")
    await asyncio.sleep(1.0)
    replies = [str(c.body) for c in stack.slack.calls_to("response_url")]

    assert unsigned == 401 and stale == 401
    assert by_viewer == 200 and unknown == 200 and malformed == 200 and foreign == 200
    assert any("approver" in r for r in replies), replies
    assert any("f-000000000000" in r for r in replies), replies
    assert any("reject" in r.lower() and "usage" in r.lower() for r in replies), replies
    assert any(
        "not connected" in r.lower() or "not bound" in r.lower() or "workspace" in r.lower()
        for r in replies
    ), replies
    with tenant_session(stack.engine, "e2e") as session:
        finding = repo.get_finding(session, "e2e", target.id)
        refused = [
            e
            for e in audit.trail(session, "e2e", subject=target.id)
            if e.action == "decision.refused"
        ]
        runs = repo.runs_for_finding(session, "e2e", target.id)
    assert finding.status == "awaiting_approval"
    assert runs == []
    assert refused and refused[-1].actor == "carol"


async def test_retry_storm_and_double_clicks_remediate_once(stack):
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    target = next(
        f
        for f in awaiting
        if f.action in ("modify_volume_to_gp3", "stop_instance") and f.account_id == NONPROD
    )
    post, ts = _card_post(stack, target)
    value = _button_value(post, "finding_approve")

    statuses = await asyncio.gather(
        stack.click("finding_approve", value, user=BOB, message_ts=ts),
        stack.click("finding_approve", value, user=BOB, message_ts=ts, retry_num=1),
        stack.click("finding_approve", value, user=BOB, message_ts=ts, retry_num=2),
        stack.click("finding_approve", value, user=ALICE, message_ts=ts),
    )
    result = await _result(stack, target.id)
    with tenant_session(stack.engine, "e2e") as session:
        runs = repo.runs_for_finding(session, "e2e", target.id)

    assert all(s == 200 for s in statuses)
    assert result.status == "verified"
    assert len(runs) == 1


async def test_restore_brings_the_deleted_volume_back_from_its_snapshot(stack):
    from fintropy import audit
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    # The last such card: the approval test takes the first one.
    volume = [
        f for f in awaiting if f.action == "snapshot_and_delete_volume" and f.account_id == NONPROD
    ][-1]
    post, ts = _card_post(stack, volume)
    # A volume tagged env=prod needs two approvers even in the non-prod account.
    for approver in (BOB, ALICE):
        await stack.click(
            "finding_approve", _button_value(post, "finding_approve"), user=approver, message_ts=ts
        )
    result = await _result(stack, volume.id)
    stack.slack.clear()

    by_viewer = await stack.command(f"restore {result.run_id}", user=CAROL)
    status = await stack.command(f"restore {result.run_id}", user=ALICE)
    replies = [str(c.body) for c in (await stack.slack.await_calls("response_url", 2, 60))]
    again = await stack.command(f"restore {result.run_id}", user=ALICE)
    replies_again = [str(c.body) for c in (await stack.slack.await_calls("response_url", 3, 30))]

    assert result.status == "verified"
    assert by_viewer == 200 and status == 200 and again == 200
    assert any("approver" in r for r in replies), replies
    assert any("Restored run" in r for r in replies), replies
    assert "already been restored" in replies_again[-1]
    with tenant_session(stack.engine, "e2e") as session:
        restored = repo.get_outcome(session, "e2e", result.run_id, "restore")
        events = [e.action for e in audit.trail(session, "e2e", subject=volume.id)]
    new_volume = restored.restore_point.get("volume_id") or restored.detail.split()[-1]
    assert restored.status == "succeeded"
    assert "restore.requested" in events and "remediation.restored" in events
    account = next(a for a in stack.manifest.accounts if a.account_id == NONPROD)
    ec2 = stack.services.session_factory(account, volume.region).client(
        "ec2", endpoint_url=stack.endpoint, region_name=volume.region
    )
    volumes = ec2.describe_volumes(
        Filters=[
            {
                "Name": "snapshot-id",
                "Values": [
                    (await asyncio.to_thread(lambda: _restore_point(stack, result.run_id)))[
                        "snapshot_id"
                    ]
                ],
            }
        ]
    )
    assert volumes["Volumes"], f"no volume was created from the snapshot ({new_volume})"


def _restore_point(stack: Stack, run_id: str) -> dict:
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    with tenant_session(stack.engine, "e2e") as session:
        return dict(repo.get_outcome(session, "e2e", run_id, "restore_point").restore_point)


async def test_dry_run_makes_zero_mutating_calls_and_plans_the_real_action(stack):
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    target = [f for f in awaiting if f.action == "release_address" and f.account_id == NONPROD]
    target = (target or [f for f in awaiting if f.action and f.account_id == NONPROD])[0]
    account = next(a for a in stack.manifest.accounts if a.account_id == NONPROD)
    adapter = stack.services.adapter_for(account)
    actor = await stack.backend.resolve_actor("e2e", "slack", TEAM, ALICE)
    before = adapter.mutating_calls

    reply = await stack.backend.decide(actor, target.id, "approve", dry_run=True)
    plan = adapter.plan(target.action, _ref(target))  # what a real run would act on

    assert reply.accepted
    assert "Dry run" in reply.message
    assert "Nothing was changed" in reply.message
    assert adapter.mutating_calls == before
    assert plan.detail in reply.message
    with tenant_session(stack.engine, "e2e") as session:
        finding = repo.get_finding(session, "e2e", target.id)
        runs = repo.runs_for_finding(session, "e2e", target.id)
    assert finding.status == "awaiting_approval"
    assert [r.dry_run for r in runs] == [True]


def _ref(finding: Any) -> Any:
    from fintropy.domain import ResourceRef

    return ResourceRef(
        finding.provider,
        finding.account_id,
        finding.region,
        finding.resource_type,
        finding.resource_id,
    )


async def test_snooze_hides_the_finding_and_expiry_reopens_it_and_tells_the_owner(stack):
    from fintropy import audit
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    awaiting = await _scanned(stack)
    target = next(f for f in awaiting if f.action == "delete_snapshot" and f.account_id == NONPROD)
    _post, ts = _card_post(stack, target)
    stack.slack.clear()

    by_viewer = await stack.command(f"snooze {target.id} 30d not mine", user=CAROL)
    status = await stack.command(f"snooze {target.id} 8s waiting for the data team")
    replies = [str(c.body) for c in await stack.slack.await_calls("response_url", 2, 30)]

    def current() -> tuple[str, list]:
        with tenant_session(stack.engine, "e2e") as session:
            finding = repo.get_finding(session, "e2e", target.id)
            return finding.status, list(finding.card_refs or [])

    snoozed_seen = False
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state, refs = await asyncio.to_thread(current)
        snoozed_seen = snoozed_seen or state == "snoozed"
        if snoozed_seen and state == "awaiting_approval" and refs:
            break  # re-opened, and its new card is posted
        await asyncio.sleep(0.3)
    updates = [c for c in stack.slack.calls_to("chat.update") if c.body.get("ts") == ts]
    notices = [c for c in stack.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts]
    with tenant_session(stack.engine, "e2e") as session:
        actions = [e.action for e in audit.trail(session, "e2e", subject=target.id)]
        final = repo.get_finding(session, "e2e", target.id)

    assert by_viewer == 200 and status == 200
    assert any("approver" in r for r in replies), replies
    assert any("Snoozed" in r and "waiting for the data team" in r for r in replies), replies
    assert snoozed_seen, "the finding was never snoozed"
    assert any("Snoozed by Alice" in str(u.body) for u in updates)
    assert notices and f"<@{ALICE}>" in notices[-1].body["text"]
    assert "finding.snoozed" in actions
    assert final.status == "awaiting_approval"
    assert final.card_refs and final.card_refs[0]["message_id"] != ts, "a new card was posted"
