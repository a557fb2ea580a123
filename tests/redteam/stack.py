"""Bring up the real stack the red team attacks, once per test module.

Two tenants share one Slack app, one worker and one sandbox, each bound to its own workspace:

- tenant A owns the prod account's us-east-1 and the non-prod account's us-east-1, and has a
  person in every role, two Slack identities for alice, and approvers whose email matches
  sandbox ``owner`` tags (dora: team-data@example.com exactly; frank: team-ml at an
  upper-case domain);
- tenant B owns the prod account's eu-west-1 only (no resource overlaps with A), and its
  findings expire after a few seconds, so expiry is exercised on the real dev server.

Cards are posted to the recording Slack server; their button tokens are captured once, right
after the scans, because other test modules clear that server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from tests.redteam.harness import NONPROD, PROD, TOKEN_SECRET, Attack, Tenant

B_EXPIRY_SECONDS = 20


def fast_services(**kwargs: Any) -> Any:
    """``fintropy.runtime.Services`` whose AWS adapter polls the sandbox every 0.2 s.

    The production adapter polls every 15 s (real snapshots take minutes); moto completes them
    at once. Behaviour is otherwise the adapter's own.
    """
    from fintropy.runtime import Services

    class FastServices(Services):
        def adapter_for(self, account: Any) -> Any:
            if "aws" not in self._adapters:
                from adapters.aws import AwsAdapter

                self._adapters["aws"] = AwsAdapter(
                    self.session_factory,
                    endpoint_url=self.aws_endpoint_url,
                    max_attempts=2,
                    poll_seconds=0.2,
                    wait_seconds=30.0,
                )
            return super().adapter_for(account)

    return FastServices(**kwargs)


def tenant_spec(
    tenant: Tenant,
    accounts: list[Any],
    people: dict[str, tuple[str, str | None]],
    extra_identities: dict[str, list[str]] | None = None,
) -> Any:
    """A TenantSpec: ``people`` maps person id to (role, email or None for a private one)."""
    from fintropy.domain import Role
    from fintropy.persistence.tenancy import (
        ChatBindingSpec,
        ChatIdentitySpec,
        PersonSpec,
        TenantSpec,
    )

    extra = extra_identities or {}
    specs = []
    for person, (role, email) in people.items():
        users = [tenant.user(person), *(tenant.user(alias) for alias in extra.get(person, []))]
        specs.append(
            PersonSpec(
                id=person,
                display_name=person.capitalize(),
                email=email or f"{person}@{tenant.id}.example",
                role=Role(role),
                identities=tuple(
                    ChatIdentitySpec(platform="slack", workspace_id=tenant.team, user_id=u)
                    for u in users
                ),
            )
        )
    return TenantSpec(
        id=tenant.id,
        name=f"Red team {tenant.id}",
        accounts=tuple(accounts),
        people=tuple(specs),
        bindings=(
            ChatBindingSpec(platform="slack", workspace_id=tenant.team),
            ChatBindingSpec(
                platform="slack",
                workspace_id=tenant.team,
                channel_id=tenant.channel,
                is_default_channel=True,
            ),
        ),
    )


def new_tenant(letter: str) -> Tenant:
    """A tenant with random ids, so the session's shared database and Slack stay separate."""
    tag = uuid.uuid4().hex[:6]
    return Tenant(f"rt{letter}{tag}", f"TRT{letter.upper()}{tag.upper()}", f"CRT{tag.upper()}")


def account(manifest: Any, account_id: str, region: str) -> Any:
    """The sandbox account narrowed to one region."""
    found = next(a for a in manifest.accounts if a.account_id == account_id)
    return dataclasses.replace(found, regions=(region,))


async def start_stack(
    engine: Any, temporal_env: Any, slack_server: Any, sandbox: Any
) -> AsyncIterator[Attack]:
    """Provision A and B, start the worker and the Slack app, scan both; yield the handle."""
    from aiohttp import test_utils

    from adapters.aws.sandbox import sandbox_session_factory
    from bot.backend_impl import TemporalBackend
    from bot.service import build_web_app
    from bot.slack.app import build_slack_app
    from bot.slack.notifier import SlackChatPort
    from fintropy.persistence.tenancy import provision_tenant
    from fintropy.runtime import build_worker
    from tests.support.slack_fixtures import BOT_TOKEN, SIGNING_SECRET
    from workflows.scan_workflow import ScanInput, ScanWorkflow

    a, b = new_tenant("a"), new_tenant("b")
    manifest = sandbox.manifest
    spec_a = tenant_spec(
        a,
        [account(manifest, PROD, "us-east-1"), account(manifest, NONPROD, "us-east-1")],
        {
            "alice": ("admin", None),
            "bob": ("approver", None),
            "erin": ("approver", None),
            "dora": ("approver", "team-data@example.com"),
            "frank": ("approver", "team-ml@EXAMPLE.COM"),
            "gail": ("approver", None),
            "hank": ("approver", None),
            "carol": ("requester", None),
            "dave": ("viewer", None),
        },
        {"alice": ["alice2"]},
    )
    spec_b = tenant_spec(
        b,
        [account(manifest, PROD, "eu-west-1")],
        {"bea": ("approver", None), "dan": ("viewer", None)},
    )
    retagged = await asyncio.to_thread(_retag, sandbox)
    await asyncio.to_thread(provision_tenant, engine, spec_a)
    await asyncio.to_thread(provision_tenant, engine, spec_b)

    services = fast_services(
        engine=engine,
        chat=SlackChatPort(BOT_TOKEN, api_url=slack_server.api_url),
        token_secret=TOKEN_SECRET,
        aws_endpoint_url=sandbox.endpoint_url,
        session_factory=sandbox_session_factory(sandbox.endpoint_url),
    )
    queue = f"redteam-{uuid.uuid4().hex[:8]}"
    client = temporal_env.client
    backend = TemporalBackend(engine, client, queue, approval_timeout_seconds=3600)
    slack_app = build_slack_app(
        backend,
        signing_secret=SIGNING_SECRET,
        token=BOT_TOKEN,
        api_url=slack_server.api_url,
        token_secret=TOKEN_SECRET,
    )
    http = test_utils.TestClient(test_utils.TestServer(build_web_app(slack_app)))
    await http.start_server()
    attack = Attack(
        engine=engine,
        client=client,
        http=http,
        slack=slack_server,
        sandbox=sandbox,
        services=services,
        backend=backend,
        queue=queue,
        a=a,
        b=b,
        retagged=retagged,
    )
    try:
        async with build_worker(client, services, queue):
            sent = await attack.command(a, "scan", person="alice")
            assert sent.status == 200
            assert "started" in await attack.reply(sent)
            await client.start_workflow(
                ScanWorkflow.run,
                ScanInput(
                    b.id,
                    f"scan-{uuid.uuid4().hex[:12]}",
                    requested_by="bea",
                    approval_timeout_seconds=B_EXPIRY_SECONDS,
                ),
                id=f"redteam-scan-{b.id}",
                task_queue=queue,
            )
            await asyncio.wait_for(_cards_posted(attack, [a, b]), timeout=150)
            yield attack
    finally:
        await http.close()


def _retag(sandbox: Any) -> dict[str, str]:
    """Give two of A's volumes an ``env`` tag that disagrees with their account's setting.

    log-archive, in the production account, is tagged env=dev; old-scratch, in the non-prod
    account, env=prod. Returns ``{"prod_account_tagged_dev": id, "nonprod_tagged_prod": id}``.
    """
    from adapters.aws.sandbox import sandbox_session_factory

    factory = sandbox_session_factory(sandbox.endpoint_url)
    found = {}
    for key, account_id, name, env in (
        ("prod_account_tagged_dev", PROD, "log-archive", "dev"),
        ("nonprod_tagged_prod", NONPROD, "old-scratch", "prod"),
    ):
        target = account(sandbox.manifest, account_id, "us-east-1")
        ec2 = factory(target, "us-east-1").client(
            "ec2", endpoint_url=sandbox.endpoint_url, region_name="us-east-1"
        )
        volumes = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [name]}])
        [volume] = volumes["Volumes"]
        ec2.create_tags(Resources=[volume["VolumeId"]], Tags=[{"Key": "env", "Value": env}])
        found[key] = volume["VolumeId"]
    return found


async def _cards_posted(attack: Attack, tenants: list[Tenant]) -> None:
    """Wait until every actionable finding of each tenant has its card; capture the cards."""
    from bot.tokens import ButtonTokenError, verify_token
    from fintropy.persistence import repo
    from fintropy.persistence.db import tenant_session

    def snapshot(tenant: Tenant) -> tuple[bool, list[Any], dict[str, dict[str, str]]]:
        with tenant_session(attack.engine, tenant.id) as session:
            scan = repo.latest_scan(session, tenant.id)
            every = repo.list_findings(session, tenant.id)
            found = [f for f in every if f.action]
            attack.advice[tenant.id] = [f for f in every if not f.action]
            tags = {
                f.id: repo.get_resource_tags(session, tenant.id, f.last_scan_id, f.resource_id)
                for f in found
            }
        # One card per resource and action: a second rule proposing the same action on the
        # same resource gets no card of its own.
        carded = {(f.account_id, f.region, f.resource_id, f.action) for f in found if f.card_refs}
        wanted = {(f.account_id, f.region, f.resource_id, f.action) for f in found}
        found = [f for f in found if f.card_refs]
        done = bool(scan and scan.finished_at and found and carded == wanted)
        return done, found, tags

    attack.awaiting, attack.cards, attack.resource_tags, attack.advice = {}, {}, {}, {}
    for tenant in tenants:
        while True:
            done, found, tags = await asyncio.to_thread(snapshot, tenant)
            if done:
                break
            await asyncio.sleep(0.3)
        by_id = {f.id: f for f in found}
        cards: dict[str, tuple[str, str]] = {}
        for call in attack.slack.calls_to("chat.postMessage"):
            if call.body.get("channel") != tenant.channel:
                continue
            for value in _button_values(call.body.get("blocks") or []):
                try:
                    claims = verify_token(TOKEN_SECRET, value, tenant_id=tenant.id)
                except ButtonTokenError:
                    continue
                finding = by_id.get(claims.finding_id)
                if finding is not None:
                    cards[finding.id] = (finding.card_refs[0]["message_id"], value)
        missing = set(by_id) - set(cards)
        assert not missing, f"no posted card carries a token for {sorted(missing)}"
        attack.cards[tenant.id] = cards
        attack.resource_tags[tenant.id] = tags
        attack.awaiting[tenant.id] = sorted(
            (f for f in found if f.status == "awaiting_approval" or tenant is not tenants[0]),
            key=lambda f: (f.account_id, f.action or "", f.resource_id),
        )
    attack.started_at = time.monotonic()


def _button_values(blocks: list[dict[str, Any]]) -> list[str]:
    from bot.views import ACTION_APPROVE

    return [
        element["value"]
        for block in blocks
        for element in block.get("elements", [])
        if element.get("action_id") == ACTION_APPROVE and element.get("value")
    ]
