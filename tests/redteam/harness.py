"""The red team's handle on a running Fintropy: send hostile Slack traffic, inspect every effect.

Everything behind the HTTP endpoint is real: the Bolt app with signature checks, the
backend, the Temporal dev server and worker, PostgreSQL with Row-Level Security, the moto
sandbox. ``Attack`` builds requests the way Slack (or an attacker holding a captured request)
would send them, and reads back what a person would see: the HTTP status and the ephemeral
reply sent to that request's own response_url.

Every wait is bounded; a test that waits for something that never comes fails with a message
saying what was awaited.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.slack_fixtures import (
    SIGNING_SECRET,
    block_action_payload,
    sign_request,
    signed_action,
    signed_command,
    view_submission_payload,
)

TOKEN_SECRET = b"red-team-card-token-secret-0001"
PROD, NONPROD = "111111111111", "222222222222"
APPROVE, REJECT, DETAILS = "finding_approve", "finding_reject", "finding_details"


class RefusalNotAudited(AssertionError):
    """A refused attempt left no ``decision.refused`` row naming its actor."""


class SideEffect(AssertionError):
    """A refused attempt changed something it must not (status, run, approval, cloud)."""


@dataclass(frozen=True)
class Sent:
    """One request sent to the Slack endpoint: its HTTP status and where its reply goes."""

    status: int
    reply_path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tenant:
    """A provisioned tenant as the tests address it."""

    id: str
    team: str
    channel: str

    def user(self, person: str) -> str:
        """The Slack user id of ``person`` in this tenant's workspace."""
        return f"U{self.team}{person.upper()}"


class Attack:
    """Sends signed (or deliberately mis-signed) Slack requests and inspects the aftermath."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)
        self.claimed: set[str] = set()

    # -- requests ---------------------------------------------------------------------------

    async def post(self, body: str, headers: dict[str, str]) -> int:
        """Post a raw body to the Slack endpoint; return the HTTP status."""
        response = await asyncio.wait_for(
            self.http.post("/slack/events", data=body, headers=headers), timeout=30
        )
        await response.release()
        return response.status

    def command_request(
        self,
        tenant: Tenant,
        text: str,
        *,
        person: str = "alice",
        user: str | None = None,
        team: str | None = None,
        channel: str | None = None,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        retry_num: int | None = None,
    ) -> tuple[str, str, dict[str, str]]:
        """A signed ``/fintropy <text>`` request: (reply path, body, headers), not yet sent."""
        path = f"/resp/cmd-{uuid.uuid4().hex[:10]}"
        body, headers = signed_command(
            secret,
            text,
            team or tenant.team,
            channel or tenant.channel,
            user or tenant.user(person),
            response_url=self.slack.base_url + path,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        return path, body, headers

    async def command(self, tenant: Tenant, text: str, **kw: Any) -> Sent:
        """``/fintropy <text>`` from ``person`` (or a raw ``user`` id) of ``tenant``."""
        path, body, headers = self.command_request(tenant, text, **kw)
        return Sent(await self.post(body, headers), path, body, headers)

    def click_request(
        self,
        tenant: Tenant,
        action_id: str,
        value: str,
        *,
        person: str = "alice",
        user: str | None = None,
        team: str | None = None,
        channel: str | None = None,
        message_ts: str = "1700000000.999999",
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        retry_num: int | None = None,
    ) -> tuple[str, str, dict[str, str]]:
        """A signed block_actions request: (reply path, body, headers), not yet sent."""
        path = f"/resp/click-{uuid.uuid4().hex[:10]}"
        payload = block_action_payload(
            action_id,
            value,
            team_id=team or tenant.team,
            channel_id=channel or tenant.channel,
            user_id=user or tenant.user(person),
            response_url=self.slack.base_url + path,
            message_ts=message_ts,
        )
        body, headers = signed_action(secret, payload, timestamp=timestamp, retry_num=retry_num)
        return path, body, headers

    async def click(self, tenant: Tenant, action_id: str, value: str, **kw: Any) -> Sent:
        """Click a card button (see ``click_request`` for the options)."""
        path, body, headers = self.click_request(tenant, action_id, value, **kw)
        return Sent(await self.post(body, headers), path, body, headers)

    async def replay(self, sent: Sent, *, retry_num: int | None = None) -> int:
        """Send a captured request again, byte for byte (optionally as a Slack retry)."""
        headers = dict(sent.headers)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post(sent.body, headers)

    async def submit_reject_modal(
        self,
        tenant: Tenant,
        token: str,
        reason: str,
        *,
        person: str = "alice",
        message_ts: str = "1700000000.999999",
    ) -> int:
        """Submit the Reject modal (as opened from a card) with ``reason`` typed in."""
        import json

        from bot.views import REASON_ACTION_ID, REASON_BLOCK_ID, REJECT_CALLBACK_ID

        view = {
            "type": "modal",
            "callback_id": REJECT_CALLBACK_ID,
            "private_metadata": json.dumps(
                {"token": token, "channel_id": tenant.channel, "ts": message_ts}
            ),
        }
        typed = {"type": "plain_text_input", "value": reason}
        values = {REASON_BLOCK_ID: {REASON_ACTION_ID: typed}}
        payload = view_submission_payload(
            view, values, team_id=tenant.team, user_id=tenant.user(person)
        )
        body, headers = signed_action(SIGNING_SECRET, payload)
        response = await asyncio.wait_for(
            self.http.post("/slack/events", data=body, headers=headers), timeout=30
        )
        self.last_modal_response = await response.text()
        return response.status

    # -- what the person sees ---------------------------------------------------------------

    async def reply(self, sent: Sent, timeout: float = 30.0) -> str:
        """The ephemeral reply to ``sent`` (text and blocks flattened into one string)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.slack.calls_to("response_url") if c.path == sent.reply_path]
            if found:
                return " ".join(_flatten(c.body) for c in found)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no reply reached {sent.reply_path} within {timeout} s")

    async def replies(self, sent: Sent, count: int, timeout: float = 30.0) -> list[str]:
        """At least ``count`` replies to ``sent`` (a replayed request answers the same URL)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.slack.calls_to("response_url") if c.path == sent.reply_path]
            if len(found) >= count:
                return [_flatten(c.body) for c in found]
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {count} replies reached {sent.reply_path}")

    def replies_now(self, sent: Sent) -> list[str]:
        """The replies to ``sent`` received so far."""
        calls = self.slack.calls_to("response_url")
        return [_flatten(c.body) for c in calls if c.path == sent.reply_path]

    # -- state ------------------------------------------------------------------------------

    async def db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking database code off the event loop."""
        return await asyncio.to_thread(fn, *args)

    async def finding(self, tenant: Tenant, finding_id: str) -> Any:
        """The finding row as stored now."""
        from fintropy.persistence import repo
        from fintropy.persistence.db import tenant_session

        def read() -> Any:
            with tenant_session(self.engine, tenant.id) as session:
                return repo.get_finding(session, tenant.id, finding_id)

        return await self.db(read)

    async def runs(self, tenant: Tenant, finding_id: str) -> list[Any]:
        """The finding's remediation runs."""
        from fintropy.persistence import repo
        from fintropy.persistence.db import tenant_session

        def read() -> list[Any]:
            with tenant_session(self.engine, tenant.id) as session:
                return repo.runs_for_finding(session, tenant.id, finding_id)

        return await self.db(read)

    async def mark(self, tenant: Tenant) -> int:
        """The tenant's newest audit seq: events after it are this test's doing."""
        from fintropy import audit
        from fintropy.persistence.db import tenant_session

        def read() -> int:
            with tenant_session(self.engine, tenant.id) as session:
                return audit.last_seq(session, tenant.id)

        return await self.db(read)

    async def events(self, tenant: Tenant, since: int = 0, subject: str | None = None) -> list:
        """The tenant's audit events after seq ``since`` (about ``subject`` when given)."""
        from fintropy import audit
        from fintropy.persistence.db import tenant_session

        def read() -> list[Any]:
            with tenant_session(self.engine, tenant.id) as session:
                return [
                    e for e in audit.trail(session, tenant.id, subject=subject) if e.seq > since
                ]

        return await self.db(read)

    async def assert_refusal_audited(
        self, tenant: Tenant, since: int, actor: str, *, subject: str | None = None
    ) -> Any:
        """The newest ``decision.refused`` row after ``since`` names ``actor`` (and subject)."""
        refused = [
            e
            for e in await self.events(tenant, since)
            if e.action == "decision.refused" and (subject is None or e.subject == subject)
        ]
        if not any(e.actor == actor for e in refused):
            seen = [(e.actor, e.subject, (e.details or {}).get("reason")) for e in refused]
            raise RefusalNotAudited(
                f"no decision.refused row by {actor!r}"
                + (f" about {subject}" if subject else "")
                + f" after seq {since}; refusals seen: {seen}"
            )
        row = next(e for e in reversed(refused) if e.actor == actor)
        assert row.actor_chat and row.actor_chat.startswith("slack:"), row.actor_chat
        assert (row.details or {}).get("reason"), "a refusal row says why"
        return row

    async def decisions(self, tenant: Tenant, finding_id: str, since: int = 0) -> list[Any]:
        """Accepted decision events (approve/reject) about the finding after ``since``.

        Matched by prefix: the rejection event's spelling is itself under test elsewhere.
        """
        return [
            e
            for e in await self.events(tenant, since, subject=finding_id)
            if e.action.startswith(("decision.approve", "decision.reject"))
        ]

    async def state(self, tenant: Tenant, finding_id: str) -> Any:
        """The finding workflow's own state (phase, approvals)."""
        from workflows.finding_workflow import FindingWorkflow, finding_workflow_id

        handle = self.client.get_workflow_handle(finding_workflow_id(tenant.id, finding_id))
        return await asyncio.wait_for(handle.query(FindingWorkflow.state), timeout=30)

    async def result(self, tenant: Tenant, finding_id: str, timeout: float = 90.0) -> Any:
        """The finding workflow's result, once it has finished."""
        from workflows.finding_workflow import FindingResult, finding_workflow_id

        handle = self.client.get_workflow_handle(
            finding_workflow_id(tenant.id, finding_id), result_type=FindingResult
        )
        return await asyncio.wait_for(handle.result(), timeout=timeout)

    async def assert_untouched(self, tenant: Tenant, finding_id: str, since: int) -> None:
        """Still awaiting approval, no approval recorded, no run, no accepted decision."""
        finding = await self.finding(tenant, finding_id)
        runs = await self.runs(tenant, finding_id)
        state = await self.state(tenant, finding_id)
        accepted = await self.decisions(tenant, finding_id, since)
        if finding.status != "awaiting_approval" or runs or accepted:
            raise SideEffect(
                f"{finding_id}: status {finding.status}, runs {[r.id for r in runs]}, "
                f"decisions {[(e.actor, e.action) for e in accepted]}"
            )
        assert state.phase == "awaiting", state
        assert state.approvals == [], state.approvals

    # -- findings and their cards -----------------------------------------------------------

    def claim(self, tenant: Tenant, description: str, predicate: Callable[[Any], bool]) -> Any:
        """An awaiting finding of ``tenant`` matching ``predicate`` that no other test owns."""
        for finding in self.awaiting[tenant.id]:
            key = f"{tenant.id}/{finding.resource_id}"
            if key not in self.claimed and predicate(finding):
                # Own the resource, not just the finding: two rules can name one resource.
                self.claimed.add(key)
                return finding
        raise AssertionError(f"the sandbox has no unclaimed finding for: {description}")

    async def final_card(self, tenant: Tenant, ts: str, timeout: float = 20.0) -> dict[str, Any]:
        """The card as last updated in place (chat.update of that message), once settled."""
        deadline = time.monotonic() + timeout
        while True:
            updates = [
                c.body
                for c in self.slack.calls_to("chat.update")
                if c.body.get("channel") == tenant.channel and c.body.get("ts") == ts
            ]
            settled = updates and not any(
                b.get("type") == "actions" for b in updates[-1].get("blocks") or []
            )
            if settled or time.monotonic() > deadline:
                assert updates, f"the card {ts} was never updated in place"
                return updates[-1]
            await asyncio.sleep(0.1)

    def bystander(self, tenant: Tenant) -> Any:
        """A finding for refusal cases to aim at, shared among them (round robin).

        Drawn from production resources whose findings are all non-destructive, a pool no
        exclusive ``claim`` in these tests asks for. A refusal case asserts its bystander is
        untouched, so a defect that lets one through shows up in that case first.
        """
        from fintropy.domain import ACTIONS

        found = self.awaiting[tenant.id]
        destructive = {f.resource_id for f in found if ACTIONS[f.action].destructive}
        pool = [
            f
            for f in found
            if f.account_id == PROD
            and f.resource_id not in destructive
            and f"{tenant.id}/{f.resource_id}" not in self.claimed
        ]
        assert pool, "the sandbox has no production finding with a non-destructive action"
        self.rotation = getattr(self, "rotation", -1) + 1
        return pool[self.rotation % len(pool)]

    def card(self, tenant: Tenant, finding_id: str) -> tuple[str, str]:
        """(message ts, Approve button value) of the finding's card as it was posted."""
        return self.cards[tenant.id][finding_id]

    def mutations(self) -> int:
        """Estate-changing cloud calls the worker's adapter has made so far."""
        adapter = self.services._adapters.get("aws")
        return adapter.mutating_calls if adapter is not None else 0

    def tags(self, tenant: Tenant, finding: Any) -> dict[str, str]:
        """The tags the scan saw on the finding's resource."""
        return self.resource_tags[tenant.id][finding.id]


def forge_signature(body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers signed with a secret that is not the app's."""
    return sign_request("not-the-signing-secret", body, timestamp=timestamp)


def _flatten(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(_flatten(v) for v in body.values())
    if isinstance(body, list):
        return " ".join(_flatten(v) for v in body)
    return str(body)
