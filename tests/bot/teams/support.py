"""A local Bot Framework for tests: a recording connector, signing keys, activity builders.

``RecordingConnector`` is a real HTTP server on 127.0.0.1 (in its own thread, so botbuilder's
async client and its blocking key fetch can both reach it). Point an activity's ``serviceUrl``
at ``base_url`` and every connector call the bot makes (replies, proactive posts, updates)
lands here as a ``ConnectorCall``. It also serves an OpenID metadata document and a JWKS with
the public half of ``SigningKey``, so tests can send activities with genuine RS256 Bot
Framework tokens and the adapter validates them exactly as it would Microsoft's.

``FakeBackend`` is an in-memory ``bot.backend.Backend`` that records every call.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.backend import Actor, AuditLine, DecisionResult, FindingSummary
from bot.tokens import issue_token
from fintropy.domain import FindingCard, Role

TOKEN_SECRET = b"teams-button-secret-for-tests"
APP_ID = "11111111-2222-3333-4444-555555555555"
BOT_ID = f"28:{APP_ID}"
TEAMS_TENANT, OTHER_TEAMS_TENANT = "aad-tenant-acme", "aad-tenant-globex"
CHANNEL, OTHER_CHANNEL = "19:finops@thread.tacv2", "19:globex@thread.tacv2"
TENANT, OTHER_TENANT = "acme", "globex"
FID = "f-0123456789ab"
APPROVER, VIEWER, REQUESTER, STRANGER = "aad-ann", "aad-vic", "aad-rex", "aad-nobody"
OTHER_APPROVER = "aad-gil"


@dataclass(frozen=True)
class ConnectorCall:
    """One request the fake connector received."""

    method: str  # "POST" or "PUT"
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.time)

    @property
    def conversation_id(self) -> str:
        """The conversation id in the path (URL-decoded)."""
        from urllib.parse import unquote

        parts = self.path.split("/")
        at = parts.index("conversations") if "conversations" in parts else len(parts)
        return unquote(parts[at + 1]) if at + 1 < len(parts) else ""

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card the activity carries (KeyError when it carries none)."""
        (attachment,) = self.body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        return attachment["content"]


class RecordingConnector:
    """A fake Bot Framework connector (and OpenID key server) that records calls."""

    def __init__(self) -> None:
        self._calls: list[ConnectorCall] = []
        self._lock = threading.Lock()
        self._canned: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._ids = itertools.count(1)
        self.jwks: dict[str, Any] = {"keys": []}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-teams", daemon=True
        )

    def start(self) -> RecordingConnector:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """The service URL to put in activities (ends with a slash, as Teams' do)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/teams/"

    @property
    def openid_url(self) -> str:
        """The OpenID metadata document naming this server's JWKS."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/openid/{uuid.uuid4().hex}"

    @property
    def calls(self) -> list[ConnectorCall]:
        """Every connector call since the last ``clear()`` (a copy)."""
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        """Forget calls and canned answers; activity ids start again at ``activity-1``."""
        with self._lock:
            self._calls.clear()
            self._canned.clear()
            self._ids = itertools.count(1)

    def answer_next(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        """Answer the next connector call with this instead of success."""
        with self._lock:
            self._canned.append((status, body, headers))

    def _record(self, call: ConnectorCall) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self._calls.append(call)
            if self._canned:
                return self._canned.pop(0)
        return 200, {"id": f"activity-{next(self._ids)}"}, {}


def _handler_for(connector: RecordingConnector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host, port = self.server.server_address[:2]
            if self.path.startswith("/openid/"):
                self._send(200, {"jwks_uri": f"http://{host}:{port}/keys"}, {})
            elif self.path == "/keys":
                self._send(200, connector.jwks, {})
            else:
                self._send(404, {"error": "not found"}, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            call = ConnectorCall(
                self.command, self.path, json.loads(raw or b"{}"), dict(self.headers.items())
            )
            self._send(*connector._record(call))

        do_PUT = do_POST

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


# -- Bot Framework tokens --------------------------------------------------------------------


class SigningKey:
    """An RSA key standing in for the Bot Framework's token signing key."""

    def __init__(self, kid: str = "test-key") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, endorsements: tuple[str, ...] = ("msteams",)) -> dict[str, Any]:
        """The public key as a JWK, as Microsoft's key document lists them."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
            "endorsements": list(endorsements),
        }

    def token(self, *, audience: str, service_url: str, lifetime: int = 600, **claims: Any) -> str:
        """A signed channel token (issuer api.botframework.com)."""
        import jwt

        now = int(time.time())
        payload = {
            "iss": "https://api.botframework.com",
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 10,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- activities ------------------------------------------------------------------------------


def _base(
    kind: str,
    service_url: str,
    *,
    user: str,
    teams_tenant: str,
    channel: str,
    activity_id: str,
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": activity_id,
        "timestamp": "2026-12-04T10:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:{user}", "name": user, "aadObjectId": user},
        "recipient": {"id": BOT_ID, "name": "Fintropy"},
        "conversation": {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": teams_tenant,
            "id": f"{channel};messageid={activity_id}",
        },
        "channelData": {
            "teamsChannelId": channel,
            "teamsTeamId": "19:team@thread.tacv2",
            "channel": {"id": channel},
            "team": {"id": "19:team@thread.tacv2"},
            "tenant": {"id": teams_tenant},
        },
    }


def message_activity(
    service_url: str,
    text: str,
    *,
    user: str = APPROVER,
    teams_tenant: str = TEAMS_TENANT,
    channel: str = CHANNEL,
    activity_id: str = "1700000000001",
) -> dict[str, Any]:
    """A channel message @mentioning the bot, as Teams sends it."""
    activity = _base(
        "message",
        service_url,
        user=user,
        teams_tenant=teams_tenant,
        channel=channel,
        activity_id=activity_id,
    )
    activity["text"] = f"<at>Fintropy</at> {text}"
    activity["textFormat"] = "plain"
    activity["entities"] = [
        {
            "type": "mention",
            "mentioned": {"id": BOT_ID, "name": "Fintropy"},
            "text": "<at>Fintropy</at>",
        }
    ]
    return activity


def invoke_activity(
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    user: str = APPROVER,
    teams_tenant: str = TEAMS_TENANT,
    channel: str = CHANNEL,
    trigger: str = "manual",
    action_type: str = "Action.Execute",
) -> dict[str, Any]:
    """An ``adaptiveCard/action`` invoke from a card posted as activity ``card-1``."""
    activity = _base(
        "invoke",
        service_url,
        user=user,
        teams_tenant=teams_tenant,
        channel=channel,
        activity_id="f:invoke-1",
    )
    activity["name"] = "adaptiveCard/action"
    activity["replyToId"] = "card-1"
    activity["value"] = {
        "action": {"type": action_type, "id": f"{verb}-execute", "verb": verb, "data": data},
        "trigger": trigger,
    }
    return activity


def install_activity(
    service_url: str, *, teams_tenant: str = TEAMS_TENANT, channel: str = CHANNEL
) -> dict[str, Any]:
    """The conversationUpdate Teams sends when the bot is added to a team."""
    activity = _base(
        "conversationUpdate",
        service_url,
        user=APPROVER,
        teams_tenant=teams_tenant,
        channel=channel,
        activity_id="f:install-1",
    )
    activity["conversation"]["id"] = channel
    activity["membersAdded"] = [{"id": BOT_ID}]
    activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity


# -- the backend -------------------------------------------------------------------------------


def card_token(tenant: str = TENANT, finding: str = FID, action: str = "decide") -> str:
    """A token as the finding workflow issues it for its card."""
    return issue_token(TOKEN_SECRET, tenant, finding, action, f"finding-{tenant}-{finding}")


def make_card(tenant: str = TENANT, **overrides: Any) -> FindingCard:
    """The finding card the fake backend knows."""
    values: dict[str, Any] = {
        "tenant_id": tenant,
        "finding_id": FID,
        "title": "Unattached EBS volume",
        "severity": "high",
        "status": "awaiting_approval",
        "resource_label": "vol-0abc ([pay](https://evil.example) *now*), 123456789012 / eu-west-1",
        "explanation": "Unattached for 41 days.",
        "savings_usd_month": 40.0,
        "savings_formula": "500 GiB x $0.08 = $40.00",
        "price_basis": "list",
        "action_verb": "Snapshot, then delete the volume",
        "reversibility": "restorable",
        "risk": "medium",
        "rule_id": "aws_ebs_volume_unattached",
        "rule_version": "1.0.0",
        "action_token": card_token(tenant),
    }
    values.update(overrides)
    return FindingCard(**values)


class FakeBackend:
    """An in-memory Backend with Teams identities, recording every call."""

    def __init__(self) -> None:
        self.bindings = {
            (TEAMS_TENANT, CHANNEL): TENANT,
            (OTHER_TEAMS_TENANT, OTHER_CHANNEL): OTHER_TENANT,
        }
        people = {
            (TENANT, APPROVER): ("p-ann", "Ann Approver", Role.APPROVER, TEAMS_TENANT),
            (TENANT, VIEWER): ("p-vic", "Vic Viewer", Role.VIEWER, TEAMS_TENANT),
            (TENANT, REQUESTER): ("p-rex", "Rex Requester", Role.REQUESTER, TEAMS_TENANT),
            (OTHER_TENANT, OTHER_APPROVER): ("p-gil", "Gil", Role.APPROVER, OTHER_TEAMS_TENANT),
        }
        self.people = {
            key: Actor(key[0], pid, name, role, "teams", workspace, key[1])
            for key, (pid, name, role, workspace) in people.items()
        }
        self.cards = {(TENANT, FID): make_card()}
        self.status_after_decision: str | None = None
        self.refuse_decisions_with: str | None = None
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def called(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The recorded calls to one method."""
        return [(a, k) for n, a, k in self.calls if n == name]

    async def resolve_tenant(
        self, platform: str, workspace_id: str, channel_id: str | None
    ) -> str | None:
        self.calls.append(("resolve_tenant", (platform, workspace_id, channel_id), {}))
        return self.bindings.get((workspace_id, channel_id or ""))

    async def resolve_actor(
        self, tenant_id: str, platform: str, workspace_id: str, user_id: str
    ) -> Actor | None:
        self.calls.append(("resolve_actor", (tenant_id, platform, workspace_id, user_id), {}))
        actor = self.people.get((tenant_id, user_id))
        return actor if actor is not None and actor.workspace_id == workspace_id else None

    async def list_findings(self, tenant_id: str, **filters: Any) -> list[FindingSummary]:
        self.calls.append(("list_findings", (tenant_id,), filters))
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
        self.calls.append(("get_card", (tenant_id, finding_id), {}))
        return self.cards.get((tenant_id, finding_id))

    async def decide(
        self,
        actor: Actor,
        finding_id: str,
        decision: str,
        reason: str = "",
        source: dict | None = None,
    ) -> DecisionResult:
        self.calls.append(("decide", (actor, finding_id, decision, reason), {"source": source}))
        key = (actor.tenant_id, finding_id)
        if key not in self.cards:
            return DecisionResult(False, f"There is no finding {finding_id} in this tenant.")
        if self.refuse_decisions_with:
            return DecisionResult(False, self.refuse_decisions_with)
        if self.status_after_decision:
            card = self.cards[key]
            self.cards[key] = dataclasses.replace(
                card,
                status=self.status_after_decision,
                decided_by=(*card.decided_by, actor.display_name),
            )
        verb = "Approved" if decision == "approve" else "Rejected"
        return DecisionResult(True, f"{verb} {finding_id} as {actor.display_name}.")

    async def snooze(
        self, actor: Actor, finding_id: str, duration: str, reason: str, **kwargs: object
    ) -> DecisionResult:
        self.calls.append(("snooze", (actor, finding_id, duration, reason), dict(kwargs)))
        return DecisionResult(True, f"Snoozed {finding_id} for {duration}: {reason}")

    async def list_exceptions(self, tenant_id: str) -> list[dict]:
        self.calls.append(("list_exceptions", (tenant_id,), {}))
        return []

    async def start_scan(self, actor: Actor) -> str:
        self.calls.append(("start_scan", (actor,), {}))
        return "scan-000000000001"

    async def audit_trail(self, tenant_id: str, finding_id: str) -> list[AuditLine]:
        self.calls.append(("audit_trail", (tenant_id, finding_id), {}))
        if (tenant_id, finding_id) not in self.cards:
            return []
        return [
            AuditLine(1, "2026-12-04T10:00:00Z", "system", "card.posted", finding_id, ""),
            AuditLine(2, "2026-12-04T11:00:00Z", "Ann", "finding.approved", finding_id, "ok"),
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
        self.calls.append(
            ("record_refusal", (tenant_id, platform, workspace_id, user_id, what, why), {})
        )


async def wait_for_calls(connector: RecordingConnector, count: int, timeout: float = 5.0) -> None:
    """Wait (without blocking the loop) until ``count`` connector calls arrived."""
    deadline = time.monotonic() + timeout
    while len(connector.calls) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
