"""What every Slack listener does before its own work: who is asking, from where, as whom.

A request is answered only when its workspace and channel are bound to a tenant and its user
is linked to a person of that tenant; anything else gets a clear ephemeral refusal that is also
written to the audit trail (``Backend.record_refusal``). Button tokens and roles are checked
here too, so each listener stays a short sequence of steps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.backend import Actor, Backend
from bot.tokens import CARD_ACTION, ButtonTokenError, TokenClaims, verify_token
from bot.views.text import escape_mrkdwn
from fintropy.domain import Role
from fintropy.errors import DecisionRefused, NotFoundError

logger = logging.getLogger(__name__)

PLATFORM = "slack"

Reply = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners need, injected by ``build_slack_app``."""

    backend: Backend
    token_secret: bytes


@dataclass(frozen=True)
class Origin:
    """Where a request came from, read from Slack's signed payload."""

    team_id: str
    channel_id: str | None
    user_id: str
    message_ts: str | None = None

    @classmethod
    def from_command(cls, body: dict[str, Any]) -> Origin:
        """From a slash-command payload."""
        team, user = str(body.get("team_id", "")), str(body.get("user_id", ""))
        return cls(team, body.get("channel_id"), user)

    @classmethod
    def from_interaction(cls, body: dict[str, Any], channel_id: str | None = None) -> Origin:
        """From a block_actions or view_submission payload (views carry no channel)."""
        team = body.get("team") or {}
        user = body.get("user") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        return cls(
            str(team.get("id") or user.get("team_id") or ""),
            channel or channel_id,
            str(user.get("id", "")),
            container.get("message_ts"),
        )

    def source(self, via: str, claims: TokenClaims | None = None) -> dict[str, Any]:
        """The ``source`` recorded with a decision."""
        src: dict[str, Any] = {
            "platform": PLATFORM,
            "via": via,
            "team_id": self.team_id,
            "channel_id": self.channel_id,
            "user_id": self.user_id,
        }
        if self.message_ts:
            src["message_ts"] = self.message_ts
        if claims is not None:
            src["card_id"] = claims.card_id
            src["token_action"] = claims.action
        return src


def ephemeral(respond: Any) -> Reply:
    """A reply through the payload's response_url, seen only by the person who asked."""

    async def reply(text: str) -> None:
        await respond_ephemeral(respond, escape_mrkdwn(text))

    return reply


async def respond_ephemeral(
    respond: Any, text: str, blocks: list[dict[str, Any]] | None = None
) -> None:
    """Send ``text`` (already escaped) and ``blocks`` to the response_url, ephemerally."""
    answer = await respond(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
    )
    status = getattr(answer, "status_code", 200)
    if status != 200:
        # response_urls expire (30 minutes, 5 uses); the person sees nothing in that case.
        logger.warning("slack reply not delivered", extra={"status": status})


def ephemeral_in_channel(client: Any, origin: Origin) -> Reply:
    """A reply without a response_url (modal submissions): chat.postEphemeral, else a DM."""

    async def reply(text: str) -> None:
        if origin.channel_id:
            await client.chat_postEphemeral(
                channel=origin.channel_id, user=origin.user_id, text=escape_mrkdwn(text)
            )
        else:
            await client.chat_postMessage(channel=origin.user_id, text=escape_mrkdwn(text))

    return reply


async def identify(deps: SlackDeps, origin: Origin, what: str, reply: Reply) -> Actor | None:
    """The actor behind the request, or None after refusing it (and auditing the refusal)."""
    backend = deps.backend
    tenant_id = await backend.resolve_tenant(PLATFORM, origin.team_id, origin.channel_id)
    if tenant_id is None:
        await _refuse(
            deps,
            None,
            origin,
            what,
            "workspace or channel not bound to a tenant",
            messages.UNBOUND_WORKSPACE,
            reply,
        )
        return None
    actor = await backend.resolve_actor(tenant_id, PLATFORM, origin.team_id, origin.user_id)
    if actor is None:
        await _refuse(
            deps,
            tenant_id,
            origin,
            what,
            "chat identity not linked to a person",
            messages.UNKNOWN_PERSON,
            reply,
        )
        return None
    return actor


async def require_role(
    deps: SlackDeps,
    actor: Actor,
    origin: Origin,
    needed: Role,
    action: str,
    what: str,
    reply: Reply,
) -> bool:
    """True when ``actor`` has at least ``needed``; otherwise refuse, audit and return False."""
    if actor.role.at_least(needed):
        return True
    why = messages.refusal_reason_role(needed.value, actor.role.value)
    text = messages.role_required(action, needed.value, actor.role.value)
    await _refuse(deps, actor.tenant_id, origin, what, why, text, reply)
    return False


async def verify_button(
    deps: SlackDeps, actor: Actor, origin: Origin, token: str, what: str, reply: Reply
) -> TokenClaims | None:
    """The claims of a button's token for the actor's tenant, or None after refusing it."""
    try:
        claims = verify_token(deps.token_secret, token, tenant_id=actor.tenant_id)
    except ButtonTokenError as err:
        await _refuse(
            deps,
            actor.tenant_id,
            origin,
            what,
            f"button token {err.reason}",
            messages.INVALID_BUTTON,
            reply,
        )
        return None
    if claims.action != CARD_ACTION:
        await _refuse(
            deps,
            actor.tenant_id,
            origin,
            what,
            "button token issued for another action",
            messages.STALE_BUTTON,
            reply,
        )
        return None
    return claims


async def decide(
    deps: SlackDeps,
    actor: Actor,
    finding_id: str,
    decision: str,
    source: dict[str, Any],
    reply: Reply,
    reason: str = "",
) -> bool:
    """Send a decision to the backend and tell the person the result; True when accepted."""
    try:
        result = await deps.backend.decide(actor, finding_id, decision, reason, source=source)
    except NotFoundError:
        await reply(messages.unknown_finding(finding_id))
        return False
    except DecisionRefused as err:
        await reply(messages.decision_failed(err.message))
        return False
    await reply(result.message if result.accepted else messages.decision_failed(result.message))
    return result.accepted


def reject_metadata(token: str, origin: Origin) -> str:
    """What the reject modal carries back to its submission (the token is re-verified)."""
    return json.dumps({"token": token, "channel_id": origin.channel_id, "ts": origin.message_ts})


def read_reject_metadata(text: str) -> tuple[str, str | None, str | None]:
    """(token, channel id, message ts) from a reject modal's private_metadata."""
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return str(data.get("token") or ""), data.get("channel_id"), data.get("ts")


async def _refuse(
    deps: SlackDeps,
    tenant_id: str | None,
    origin: Origin,
    what: str,
    why: str,
    text: str,
    reply: Reply,
) -> None:
    logger.info(
        "slack request refused",
        extra={"tenant_id": tenant_id, "chat_team_id": origin.team_id, "reason": why},
    )
    await deps.backend.record_refusal(
        tenant_id, PLATFORM, origin.team_id, origin.user_id, what, why
    )
    await reply(text)
